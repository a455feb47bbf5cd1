"""What the built-in phases hand on to later phases: one typed field per product, in one place.

Phases run in worker threads and share nothing but the run context, so each product is a field
of `RunData` (`ctx.data`) with exactly one producing phase.  A consumer asks for it with a
`require_*` method: when the producer was skipped, failed, disabled, left out of the plan or
replaced by a callable that does not set the field, the consumer fails with a PhaseError naming
that producer, instead of a KeyError deep inside its own code.

| field             | producer      | read by                                                     |
|-------------------|---------------|-------------------------------------------------------------|
| `markets`         | `connect`     | `execution`; `load` (loads them itself when absent)         |
| `ohlcv`           | `market_data` | `strategy`                                                  |
| `tickers`         | `market_data` | `execution`                                                 |
| `intended_orders` | `strategy`    | `execution` (absent = nothing intended: only the idle probe)|
| `slo`             | `report`      | the run's verdict (runner/verdict.py) and result.json       |

A user's own `module:function` phase may set these too (e.g. a strategy of its own setting
`intended_orders`); for data of its own it uses `ctx.scratch` (runner/context.py), which no
built-in phase reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from runner.shared.errors import PhaseError

if TYPE_CHECKING:
    import polars as pl

T = TypeVar("T")

# ccxt's unified structures, kept as the exchange returned them.
Market = dict[str, Any]  # precision and limits of one symbol
Ticker = dict[str, Any]  # bid, ask, last, ...

PRODUCERS: dict[str, str] = {"markets": "connect", "ohlcv": "market_data",
                             "tickers": "market_data", "intended_orders": "strategy",
                             "slo": "report"}
SIDES = ("buy", "sell")


@dataclass(frozen=True)
class IntendedOrder:
    """One order the strategy wants now; sized by `execution` from `quote` (quote currency) or
    sent with the exact `amount` (the probe).  Frozen: what was intended is a record, not state."""

    symbol: str
    side: str
    type: str
    reason: str
    quote: float | None = None
    amount: float | None = None
    probe: bool = False

    def __post_init__(self) -> None:
        if self.side not in SIDES:
            raise ValueError(f"intended order side '{self.side}'; allowed: {', '.join(SIDES)}")
        if (self.quote is None) == (self.amount is None):
            raise ValueError(f"intended order for {self.symbol}: give exactly one of quote "
                             "or amount")


@dataclass(frozen=True)
class SloSummary:
    """The report phase's judgement of the run's error budgets (result.json's `slo`)."""

    worst_status: str
    breached: tuple[str, ...]
    fail_on_breach: bool
    report: str
    objectives: dict[str, dict[str, Any]]

    @classmethod
    def from_dict(cls, summary: dict[str, Any]) -> SloSummary:
        """From slo.report.summarize's dict, which stays the phase's JSON summary."""
        return cls(worst_status=summary["worst_status"], breached=tuple(summary["breached"]),
                   fail_on_breach=bool(summary["fail_on_breach"]), report=summary["report"],
                   objectives=dict(summary["objectives"]))

    def to_dict(self) -> dict[str, Any]:
        return {"worst_status": self.worst_status, "breached": list(self.breached),
                "fail_on_breach": self.fail_on_breach, "report": self.report,
                "objectives": self.objectives}

    @property
    def fails_run(self) -> bool:
        """A breach counts against the run only when the config asked for it."""
        return self.fail_on_breach and bool(self.breached)


@dataclass
class RunData:
    """The products of the built-in phases (table above); None until the producer sets it."""

    markets: dict[str, Market] | None = None
    ohlcv: pl.DataFrame | None = None
    tickers: dict[str, Ticker] | None = None
    intended_orders: list[IntendedOrder] | None = None
    slo: SloSummary | None = None

    def require_markets(self) -> dict[str, Market]:
        return _require(self.markets, "markets")

    def require_ohlcv(self) -> pl.DataFrame:
        return _require(self.ohlcv, "ohlcv")

    def require_tickers(self) -> dict[str, Ticker]:
        return _require(self.tickers, "tickers")


def _require(value: T | None, field: str) -> T:
    if value is not None:
        return value
    producer = PRODUCERS[field]
    raise PhaseError(f"no {field} (ctx.data.{field}): the {producer} phase produces them and has "
                     "not in this run (skipped, failed, disabled, not in the plan, or replaced "
                     f"by a callable that does not set them); list {producer} in this phase's "
                     "needs")
