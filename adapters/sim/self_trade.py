"""Self-trade prevention (STP): the modes, the account's resting orders a taker can meet, and
what a prevented match does to the orders and to the record GET myPreventedMatches serves.

Binance (faqs/stp_faq.md, enums.md): every order carries a selfTradePreventionMode, the symbol's
`defaultSelfTradePreventionMode` when none is sent.  When a taker would trade with a resting
order of the same account the taker's mode decides (matching.py walks the book and decides);
here the decisions take effect: a prevented quantity is added to each order that loses one
(`preventedQuantity`, with the match's `preventedMatchId`), an order left with nothing expires
as EXPIRED_IN_MATCH (core status "expired" with `expiredInMatch`) and gives back what it
locked, and each prevented match is recorded with a per-symbol id counted from 0, as in the
FAQ's examples.  The simulator's one account has no tradeGroupId (-1).  Only the "book" fill
model meets its own orders; the "simple" model never does.  Callers hold the core's lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adapters.sim.matching import Resting, Walk

if TYPE_CHECKING:
    from adapters.sim.fills import Ledger
    from adapters.sim.specs import MarketSpec

# exchangeInfo's allowedSelfTradePreventionModes (enums.md's STP modes; DECREMENT allowed on all
# symbols since 2025-05-07, TRANSFER since 2026-04-02) and defaultSelfTradePreventionMode
STP_MODES = ("NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT", "TRANSFER")
STP_DEFAULT = "EXPIRE_MAKER"
NO_TRADE_GROUP = -1


@dataclass(frozen=True)
class PreventedMatch:
    """One prevented match, as GET myPreventedMatches lists it (0.0: that side lost nothing)."""

    symbol: str
    match_id: int
    taker_id: int
    maker_id: int
    mode: str
    price: float
    taker_qty: float
    maker_qty: float
    time: int


class PreventedMatches:
    """Every prevented match of the account, oldest first, ids counted per symbol from 0."""

    def __init__(self) -> None:
        self.rows: list[PreventedMatch] = []
        self._next: dict[str, int] = {}

    def add(self, symbol: str, taker_id: int, maker_id: int, mode: str, price: float,
            taker_qty: float, maker_qty: float, time: int) -> PreventedMatch:
        match_id = self._next.get(symbol, 0)
        self._next[symbol] = match_id + 1
        row = PreventedMatch(symbol, match_id, taker_id, maker_id, mode, price, taker_qty,
                             maker_qty, time)
        self.rows.append(row)
        return row

    def of_taker(self, taker_id: int) -> list[PreventedMatch]:
        return [r for r in self.rows if r.taker_id == taker_id]


def resting_against(orders: Mapping[int, Mapping[str, Any]], resting_ids: Iterable[int],
                    symbol: str, side: str, limit: float | None) -> list[Resting]:
    """The account's resting orders a `side` taker with `limit` (None: market) would reach,
    best price first, then oldest first.  `resting_ids`: the ids of the orders on the book (the
    ledger's locks; held orders lock nothing and are not on it)."""
    far = "sell" if side == "buy" else "buy"
    rows = [o for key in resting_ids
            if (o := orders[key])["symbol"] == symbol and o["side"] == far
            and o["status"] == "open" and o["price"] is not None and o["remaining"] > 0]
    if limit is not None:
        rows = [o for o in rows if (o["price"] <= limit if side == "buy" else o["price"] >= limit)]
    rows.sort(key=lambda o: (o["price"] if side == "buy" else -o["price"], int(o["id"])))
    return [Resting(int(o["id"]), float(o["price"]), float(o["remaining"]),
                    o.get("selfTradePreventionMode") or "NONE") for o in rows]


def _lose(order: dict[str, Any], qty: float, match_id: int) -> None:
    order["preventedQuantity"] = round(order.get("preventedQuantity", 0.0) + qty, 10)
    order["preventedMatchId"] = match_id
    order["remaining"] = round(order["amount"] - order["filled"] - order["preventedQuantity"], 10)


def expire_in_match(order: dict[str, Any], now: int) -> None:
    """The order's remaining quantity is gone to STP: EXPIRED_IN_MATCH."""
    order.update(status="expired", expiredInMatch=True, remaining=0.0, lastUpdateTimestamp=now)


def prevent(ledger: Ledger, store: PreventedMatches, spec: MarketSpec, taker: dict[str, Any],
            walk: Walk, orders: Mapping[int, dict[str, Any]], now: int) -> None:
    """Apply `walk`'s prevented matches: record each; take the prevented quantity off the taker
    and the maker; expire a maker left with nothing (its lock given back) or shrink its lock.
    The taker's own ending (EXPIRED_IN_MATCH) is settled with its fills (fills.py)."""
    for p in walk.prevented:
        row = store.add(spec.symbol, int(taker["id"]), p.maker_id, p.mode, p.price, p.taker_qty,
                        p.maker_qty, now)
        if p.taker_qty:
            _lose(taker, p.taker_qty, row.match_id)
        maker = orders[p.maker_id]
        if p.maker_qty:
            if not p.maker_expires:
                ledger.shrink(maker, p.maker_qty)
            _lose(maker, p.maker_qty, row.match_id)
        if p.maker_expires:
            ledger.release(p.maker_id)
            ledger.rested_in.pop(p.maker_id, None)
            expire_in_match(maker, now)
