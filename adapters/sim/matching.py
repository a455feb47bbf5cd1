"""A taker order's walk of the book: the synthetic levels and the account's own resting orders.

The synthetic book (book.py) stands for the rest of the market.  The account's own resting
orders on the far side (its limit orders on the book, never a held stop or pending order) sit in
it at their limit prices, each ahead of the synthetic level at the same price, oldest first: a
new order whose price reaches one of them meets it before, or at, the synthetic liquidity there.
That meeting is a self-trade, and Binance's self-trade prevention decides it by the taker's mode
(faqs/stp_faq.md; TRANSFER only counts as TRANSFER against a TRANSFER maker, else as DECREMENT):

- NONE: no prevention, the two orders trade (at the maker's price, the maker as maker);
- EXPIRE_MAKER: the maker's remaining quantity expires, the taker walks on;
- EXPIRE_TAKER: the taker's remaining quantity expires, the walk ends;
- EXPIRE_BOTH: both expire, the walk ends;
- DECREMENT (and TRANSFER, the same within one account): the smaller remaining quantity of the
  two is prevented on both; the order left with none expires (both when equal).

The walk is deterministic and counts quantities in whole lot steps, so no float noise reaches
the wire.  What it finds is applied elsewhere: trades by fills.py, preventions by
self_trade.py.  `taker_fills` is the walk for one order of the "book" fill model (engine.py):
its quantity, FOK's all-or-nothing and the funds check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from adapters.sim.faults import ccxt_error
from adapters.sim.filters import invalid

if TYPE_CHECKING:
    from adapters.sim.book import Book
    from adapters.sim.filters import Plan
    from adapters.sim.market import Market
    from adapters.sim.specs import MarketSpec

MAX_LEVELS = 5_000  # GET depth's largest limit: a taker order sees at most this many levels
Fill = tuple[float, float, "int | None"]  # (price, qty, the own maker's order id or None)


@dataclass(frozen=True)
class Resting:
    """One of the account's own resting orders, as a taker on the other side meets it."""

    order_id: int
    price: float
    qty: float  # what it still offers: quantity - executed - prevented
    mode: str  # its own selfTradePreventionMode


@dataclass(frozen=True)
class Prevention:
    """One prevented match; a quantity of 0 means that side lost nothing to it."""

    maker_id: int
    price: float
    mode: str  # the mode that decided it (the taker's, TRANSFER resolved)
    taker_qty: float
    maker_qty: float
    maker_expires: bool


@dataclass
class Walk:
    """What a taker order meets: its trades (synthetic or with itself) and prevented matches."""

    fills: list[Fill] = field(default_factory=list)
    prevented: list[Prevention] = field(default_factory=list)
    expired_in_match: bool = False  # STP took the taker's last quantity: EXPIRED_IN_MATCH

    @property
    def traded(self) -> float:
        return round(sum(q for _, q, _ in self.fills), 10)

    @property
    def taker_prevented(self) -> float:
        return round(sum(p.taker_qty for p in self.prevented), 10)


def effective_mode(taker: str, maker: str) -> str:
    """The mode that applies: the taker's, except TRANSFER needs a TRANSFER maker."""
    return "DECREMENT" if taker == "TRANSFER" and maker != "TRANSFER" else taker


def _meet(out: Walk, maker: Resting, want: int, mode: str, step: float) -> int:
    """Apply STP to one meeting; returns the taker's lot steps it used up."""
    avail = round(maker.qty / step)
    eff = effective_mode(mode, maker.mode)

    def qty(steps: int) -> float:
        return round(steps * step, 10)

    if eff == "NONE":
        take = min(avail, want)
        out.fills.append((maker.price, qty(take), maker.order_id))
        return take
    if eff == "EXPIRE_MAKER":
        out.prevented.append(Prevention(maker.order_id, maker.price, eff, 0.0, qty(avail), True))
        return 0
    if eff in ("EXPIRE_TAKER", "EXPIRE_BOTH"):
        both = eff == "EXPIRE_BOTH"
        out.prevented.append(Prevention(maker.order_id, maker.price, eff, qty(want),
                                        qty(avail) if both else 0.0, both))
        out.expired_in_match = True
        return want
    cut = min(avail, want)  # DECREMENT, TRANSFER
    out.prevented.append(Prevention(maker.order_id, maker.price, eff, qty(cut), qty(cut),
                                    cut == avail))
    out.expired_in_match = cut == want
    return cut


@dataclass
class _Budget:
    """What the taker still has to give: lot steps (`amount`), or quote to spend/receive."""

    steps: int | None
    quote: float | None
    step: float

    def want(self, price: float) -> int:
        """Lot steps it can still take at `price`."""
        if self.steps is not None:
            return self.steps
        assert self.quote is not None
        return math.floor(self.quote / (price * self.step) + 1e-9)

    @property
    def done(self) -> bool:
        """An `amount` taker with nothing left (a quote one stops when a step is too dear)."""
        return self.steps is not None and self.steps <= 0

    def use(self, steps: int, price: float) -> None:
        if self.steps is not None:
            self.steps -= steps
        else:
            assert self.quote is not None
            self.quote -= steps * self.step * price


def walk(book: Book, side: str, own: Sequence[Resting] = (), *, amount: float | None = None,
         quote: float | None = None, limit: float | None = None, mode: str = "NONE") -> Walk:
    """The walk of a taker order on `side` ('buy' takes the asks): `amount` base units or `quote`
    to spend/receive, at prices no worse than `limit`, meeting `own` (best first) under STP."""
    buy = side == "buy"
    book_side = "asks" if buy else "bids"
    budget = _Budget(round(amount / book.step) if amount is not None else None, quote, book.step)
    out = Walk()
    mine = iter(own)
    nxt = next(mine, None)
    i = 0
    while True:
        row = book.level(book_side, i) if i < MAX_LEVELS else None
        mine_first = nxt is not None and (row is None or (nxt.price <= row[0] if buy
                                                           else nxt.price >= row[0]))
        if nxt is not None and mine_first:
            price = nxt.price
        elif row is not None:
            price = row[0]
        else:
            break  # past the book's end
        if limit is not None and (price > limit if buy else price < limit):
            break
        want = budget.want(price)
        if want <= 0:
            break
        if nxt is not None and mine_first:  # the account's own order, met under STP
            used = _meet(out, nxt, want, mode, book.step)
            budget.use(used, price)
            short = 0 < used < round(nxt.qty / book.step)  # stopped within this order
            if out.expired_in_match or budget.done or short:
                break
            nxt = next(mine, None)
            continue
        assert row is not None
        can = round(row[1] / book.step)
        take = min(can, want)
        budget.use(take, price)
        if take > 0:
            out.fills.append((price, round(take * book.step, 10), None))
        i += 1
        if take < can or budget.done:
            break
    return out


def taker_fills(market: Market, spec: MarketSpec, side: str, type_: str, amount: float,
                price: float | None, plan: Plan, time_in_force: str,
                quote_amount: float | None, free: float, own: Sequence[Resting] = (),
                mode: str = "NONE") -> tuple[float, Walk]:
    """The order's quantity and what it meets at once; raises InsufficientFunds as Binance
    would (a limit BUY needs quantity x price up front).  `own`: the account's resting orders
    its price reaches (self_trade.resting_against), met under the taker's STP `mode`."""
    buy = side == "buy"
    book = market.book(spec.symbol)
    out = Walk()
    if type_ == "market" and quote_amount is not None:
        out = walk(book, side, own, quote=float(quote_amount), mode=mode)
        if not out.fills and not out.prevented:
            raise invalid(f"LOT_SIZE: quoteOrderQty {quote_amount} buys less than one "
                          f"step {spec.amount_step}")
        amount = round(out.traded + out.taker_prevented, 10)
    elif plan.fills_now or own:
        out = walk(book, side, own, amount=amount, mode=mode,
                   limit=float(price) if type_ == "limit" else None)  # type: ignore[arg-type]
        if time_in_force == "FOK" and out.traded < amount - spec.amount_step / 2:
            out = Walk()  # all or nothing: it never met anything
    if buy:
        need = (amount * float(price) if type_ == "limit"  # type: ignore[arg-type]
                else sum(p * q for p, q, _ in out.fills))
    else:
        need = amount
    currency = spec.quote if buy else spec.base
    if free < need - 1e-12 * max(1.0, need):
        raise ccxt_error("InsufficientFunds",
                         f"insufficient balance: need {need:.8g} {currency}, free {free:.8g}")
    return amount, out
