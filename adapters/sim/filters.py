"""Order checks as Binance applies them: LOT_SIZE, PRICE_FILTER, NOTIONAL and the balance.

Raised as ccxt's classes (InvalidOrder, InsufficientFunds) with the filter's name first, so the
wire format can turn each into Binance's error code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from adapters.sim.faults import ccxt_error
from adapters.sim.specs import MarketSpec

ORDER_SIDES = ("buy", "sell")
ORDER_TYPES = ("market", "limit")


def on_grid(value: float, step: float) -> bool:
    """Whether `value` is a whole number of `step`s (1e-9 relative tolerance for float noise)."""
    q = value / step
    return abs(q - round(q)) <= 1e-9 * max(1.0, abs(q))


def invalid(message: str) -> Exception:
    return ccxt_error("InvalidOrder", message)


@dataclass(frozen=True)
class Plan:
    """A validated order: the price it fills (or rests) at and what it takes from the account."""

    price: float
    fills_now: bool
    fee_rate: float
    lock_currency: str
    lock_amount: float


def plan_order(spec: MarketSpec, side: str, type_: str, amount: float, price: float | None, *,
               quote: tuple[float, float, float], free: float, slippage_bps: float) -> Plan:
    """Check an order against the symbol's filters and the account's `free` balance of the
    currency it spends; return where it fills (or rests) and what it locks."""
    if side not in ORDER_SIDES:
        raise invalid(f"side must be one of {ORDER_SIDES}, got {side!r}")
    if type_ not in ORDER_TYPES:
        raise invalid(f"type must be one of {ORDER_TYPES}, got {type_!r}")
    if not math.isfinite(amount) or amount <= 0:
        raise invalid(f"LOT_SIZE: amount must be positive, got {amount}")
    if not on_grid(amount, spec.amount_step):
        raise invalid(f"LOT_SIZE: amount {amount} is not a multiple of step "
                       f"{spec.amount_step}")
    if not spec.min_qty <= amount <= spec.max_amount:
        raise invalid(f"LOT_SIZE: amount {amount} outside [{spec.min_qty}, "
                       f"{spec.max_amount}]")
    bid, ask, _ = quote
    buy = side == "buy"
    if type_ == "limit":
        if price is None or not math.isfinite(float(price)) or float(price) <= 0:
            raise invalid(f"PRICE_FILTER: a limit order needs a positive price, got {price}")
        limit = float(price)
        if not on_grid(limit, spec.price_tick):
            raise invalid(f"PRICE_FILTER: price {limit} is not a multiple of tick "
                           f"{spec.price_tick}")
        if limit > spec.max_price:
            raise invalid(f"PRICE_FILTER: price {limit} > max {spec.max_price}")
        reference = limit
        fills_now = limit >= ask if buy else limit <= bid
        fill_price = limit
    else:
        reference = ask if buy else bid
        fills_now = True
        slip = slippage_bps / 10_000.0
        fill_price = ask * (1 + slip) if buy else bid * (1 - slip)
    notional = amount * reference
    if notional < spec.min_notional:
        raise invalid(f"MIN_NOTIONAL: notional {notional:.8g} < {spec.min_notional}")
    fee_rate = spec.taker_fee if fills_now else spec.maker_fee
    currency = spec.quote if buy else spec.base
    need = amount * fill_price * (1 + fee_rate) if buy else amount
    if free < need - 1e-12 * max(1.0, need):
        raise ccxt_error("InsufficientFunds",
                         f"insufficient balance: need {need:.8g} {currency}, free {free:.8g}")
    return Plan(fill_price, fills_now, fee_rate, currency, need)
