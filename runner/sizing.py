"""Order sizing against an exchange's market limits (step size, minimum amount, min notional)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from runner.shared.tables import number


def _decimals(step: float) -> int:
    from decimal import Decimal  # 3 ms to import; only sizing needs it

    return max(0, -Decimal(str(step)).normalize().as_tuple().exponent)


def floor_to_step(value: float, step: float) -> float:
    """The largest multiple of `step` not above `value` (exact in decimal, not float)."""
    units = math.floor(value / step + 1e-9)
    return round(units * step, _decimals(step))


def ceil_to_step(value: float, step: float) -> float:
    units = math.ceil(value / step - 1e-9)
    return round(units * step, _decimals(step))


@dataclass(frozen=True)
class Sized:
    amount: float
    notional: float
    problem: str | None  # why the order cannot be sent as is, or None


def _limits(market: dict[str, Any]) -> tuple[float, float, float]:
    limits = market.get("limits") or {}
    step = float((market.get("precision") or {}).get("amount") or 1e-8)
    min_amount = float((limits.get("amount") or {}).get("min") or 0.0)
    min_cost = float((limits.get("cost") or {}).get("min") or 0.0)
    return step, min_amount, min_cost


def size_from_quote(market: dict[str, Any], quote: float, price: float) -> Sized:
    """Amount for a quote-currency budget, rounded down to the step, checked against limits."""
    step, min_amount, min_cost = _limits(market)
    amount = floor_to_step(quote / price, step)
    notional = amount * price
    if amount < min_amount or amount <= 0:
        return Sized(amount, notional, f"amount {number(amount, 8)} below the minimum "
                                       f"{number(min_amount, 8)} "
                                       f"(raise strategy.order_quote)")
    if notional < min_cost:
        return Sized(amount, notional, f"notional {notional:,.2f} below the minimum "
                                       f"{number(min_cost, 8)} "
                                       f"(raise strategy.order_quote)")
    return Sized(amount, notional, None)


def minimum_size(market: dict[str, Any], price: float, headroom: float = 1.05) -> Sized:
    """The smallest order the market accepts at `price`, with headroom for price moves."""
    step, min_amount, min_cost = _limits(market)
    amount = max(ceil_to_step(min_cost * headroom / price, step), ceil_to_step(min_amount, step),
                 step)
    return Sized(amount, amount * price, None)
