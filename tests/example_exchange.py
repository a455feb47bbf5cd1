"""An exchange added to the runner: one class (this file) plus one YAML file (halted_paper.yaml).

The worked example of docs/ADAPTERS.md, "Adding an exchange"; tests/test_adapters.py composes,
checks, builds and runs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from adapters.base import Order
from adapters.errors import OrderRejected
from adapters.paper import PaperExchange


class HaltedPaperExchange(PaperExchange):
    """The paper simulator on a venue that has halted trading in some markets: their market data
    still flows, every order on them is rejected, as the venue would reject it."""

    name = "halted_paper"

    def __init__(self, *, halted: Iterable[str] = (), **config: Any) -> None:
        super().__init__(**config)  # every paper key still works (seed, symbols, faults, ...)
        self.halted = frozenset(halted)

    @classmethod
    def check_config(cls, node: Mapping[str, Any]) -> list[str]:
        """The paper checks (which now also accept `halted`), then: only markets of the run can
        be halted, so a typo is exit 2 before the run instead of a halt that never happens."""
        problems = super().check_config(node)
        symbols = list(node.get("symbols") or [])
        return problems + [f"adapter.halted: {symbol!r} is not one of adapter.symbols {symbols}"
                           for symbol in node.get("halted") or () if symbol not in symbols]

    def create_order(self, symbol: str, side: str, type: str, amount: float,
                     price: float | None = None, *, client_order_id: str,
                     test: bool = True) -> Order:
        if symbol in self.halted:  # the project's error: the wrapper knows not to retry it
            raise OrderRejected(f"{symbol}: trading is halted")
        return super().create_order(symbol, side, type, amount, price,
                                    client_order_id=client_order_id, test=test)
