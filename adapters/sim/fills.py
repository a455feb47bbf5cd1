"""The simulated account's money side: balances, funds locked by resting orders, and fills.

Split from the Simulator (engine.py), which validates orders and keeps them by id, so that
what an order does to the account lives in one place: a fill in either fill model (the
"simple" model's one-price fill, the "book" model's per-level trades with the commission in
the asset received or in BNB), the resting of a GTC rest with its funds moved to 'used', and
the sweep that fills resting orders as maker once the book crosses them.  Every method expects
the caller (the Simulator) to hold its lock.

The fill models.  "simple" (kept for existing runs): market orders fill at once at ask/bid moved
by `slippage_bps`, taker fee in quote; a limit order that crosses the book fills at once as taker
at its limit price.  "book" (Binance's rules): a taker order walks the levels of the market's
order book (adapters.sim.book, the book GET depth serves), filling at each level's price (price
improvement for a marketable limit), a `quote_amount` order spends its quote, and the commission
is charged in the asset received (BUY: base, SELL: quote; in BNB at a 25% discount when
`bnb_burn` is on and the account holds enough BNB).  In both, a limit order's rest (GTC) rests
(funds locked in 'used') and fills as maker at its limit price on the first call of any kind that
sees the book cross it; IOC expires what did not fill at once, FOK fills whole or expires
untouched, a market order's rest past the book's end expires (each with Binance's
`expiryReason`).  Each fill is one trade of the account (`my_trades`).  In the book model a
taker also meets the account's own resting orders (matching.py): a self-trade (STP mode NONE)
fills both orders, one trade id for the two rows of it as on Binance; prevented matches are
self_trade.py's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.sim.filters import Plan
from adapters.sim.market import Market
from adapters.sim.matching import Fill, Walk
from adapters.sim.self_trade import expire_in_match
from adapters.sim.specs import MarketSpec, iso8601

BNB_DISCOUNT = 0.25  # paying commission in BNB (Binance's "BNB burn") saves a quarter
# enums.md's expiryReason of an order that expires by its own rules
EXPIRY_REASONS = {"IOC": "UNFILLED_IOC_QUANTITY_EXPIRED", "FOK": "UNFILLED_FOK_ORDER_EXPIRED"}


def expiry_reason(order: Mapping[str, Any]) -> str:
    """Why what an order did not fill at once expires: IOC and FOK by their rules, a market
    order for want of liquidity."""
    if order["type"] == "limit":
        return EXPIRY_REASONS.get(order["timeInForce"], "INSUFFICIENT_LIQUIDITY")
    return "INSUFFICIENT_LIQUIDITY"


class Ledger:
    """One account's balances, locks and trades against `market`."""

    def __init__(self, market: Market, balances: Mapping[str, float], *, fill_model: str,
                 bnb_burn: bool) -> None:
        self.market = market
        self.fill_model = fill_model
        self.bnb_burn = bnb_burn
        currencies = {c for spec in market.specs.values() for c in (spec.base, spec.quote)}
        self.free = {c: 0.0 for c in sorted(currencies)}
        self.free.update({c: float(v) for c, v in balances.items()})
        self.used = dict.fromkeys(self.free, 0.0)
        self.locks: dict[int, tuple[str, float]] = {}  # resting order id -> (currency, amount)
        self.rested_in: dict[int, int] = {}  # book model: order id -> market minute it rested
        self.trades: list[dict[str, Any]] = []  # the account's fills, oldest first
        self._trade_id = 0  # the last trade id (a self-trade's two rows share one)

    # -- funds ------------------------------------------------------------------------------

    def move(self, currency: str, amount: float, *, to_used: bool) -> None:
        """Shift funds between free and used (lock on rest, release on cancel or fill)."""
        sign = 1.0 if to_used else -1.0
        self.free[currency] -= sign * amount
        self.used[currency] += sign * amount
        if abs(self.used[currency]) < 1e-12:
            self.used[currency] = 0.0

    def lock(self, order_id: int, currency: str, amount: float) -> None:
        """Rest an order: its funds move to 'used' until it fills or is cancelled."""
        self.move(currency, amount, to_used=True)
        self.locks[order_id] = (currency, amount)

    def release(self, order_id: int) -> None:
        """Give back what a resting order locked (nothing for an order that locks nothing)."""
        held = self.locks.pop(order_id, None)
        if held is not None:
            self.move(held[0], held[1], to_used=False)

    def shrink(self, order: Mapping[str, Any], cut: float) -> None:
        """An order amended `cut` smaller: give back what the cut part locked, if it rests."""
        held = self.locks.get(int(order["id"]))
        if held is not None:
            currency, locked = held
            freed = cut * order["price"] if order["side"] == "buy" else cut
            self.move(currency, freed, to_used=False)
            self.locks[int(order["id"])] = (currency, locked - freed)

    # -- placing ----------------------------------------------------------------------------

    def settle(self, spec: MarketSpec, order: dict[str, Any], plan: Plan, walk: Walk,
               orders: Mapping[int, dict[str, Any]]) -> None:
        """What a newly placed (or triggered) order does at once: the book model's taker
        fills (`orders`: the makers of its self-trades), the simple model's fill, an IOC/FOK
        that cannot fill expiring, or a rest."""
        if self.fill_model == "book":
            self.execute(spec, order, walk.fills, orders, walk.expired_in_match)
        elif plan.fills_now:
            self.fill(spec, order, plan.price, plan.fee_rate)
        elif order["timeInForce"] != "GTC":  # IOC/FOK that cannot fill at once
            order.update(status="expired", expiryReason=expiry_reason(order))
        else:
            self.lock(int(order["id"]), plan.lock_currency, plan.lock_amount)

    # -- the "simple" fill model ------------------------------------------------------------

    def fill(self, spec: MarketSpec, order: dict[str, Any], price: float, fee_rate: float,
             maker: bool = False) -> None:
        """The whole order at one price, the fee in quote."""
        amount = order["amount"]
        notional = amount * price
        fee = notional * fee_rate
        if order["side"] == "buy":
            self.free[spec.quote] -= notional + fee
            self.free[spec.base] = self.free.get(spec.base, 0.0) + amount
        else:
            self.free[spec.base] -= amount
            self.free[spec.quote] = self.free.get(spec.quote, 0.0) + notional - fee
        now = self.market.now_ms()
        order.update(
            status="closed", filled=amount, remaining=0.0, cost=notional, average=price,
            fee={"cost": fee, "currency": spec.quote}, lastTradeTimestamp=now,
            lastUpdateTimestamp=now,
        )
        if order["price"] is None:
            order["price"] = price
        self._record(spec, order, price, amount, notional, fee, spec.quote, maker, now)

    # -- the "book" fill model --------------------------------------------------------------

    def execute(self, spec: MarketSpec, order: dict[str, Any], fills: list[Fill],
                orders: Mapping[int, dict[str, Any]], expired_in_match: bool = False) -> None:
        """Apply the taker fills (a self-trade fills the own maker too), then rest (GTC limit),
        expire (IOC, FOK, market; STP: EXPIRED_IN_MATCH) or close."""
        for price, qty, maker in fills:
            trade_id = self.trade(spec, order, price, qty, spec.taker_fee)
            if maker is not None:
                self.maker_fill(spec, orders[maker], price, qty, trade_id)
        remaining = order["remaining"]
        if expired_in_match:
            expire_in_match(order, self.market.now_ms())
        elif remaining <= spec.amount_step / 2:
            order.update(status="closed", remaining=0.0)
        elif order["type"] == "limit" and order["timeInForce"] == "GTC":
            buy = order["side"] == "buy"
            currency = spec.quote if buy else spec.base
            self.lock(int(order["id"]), currency, remaining * order["price"] if buy else remaining)
            self.rested_in[int(order["id"])] = self.market.index()
        else:
            order.update(status="expired", expiryReason=expiry_reason(order),
                         lastUpdateTimestamp=self.market.now_ms())

    def maker_fill(self, spec: MarketSpec, order: dict[str, Any], price: float, qty: float,
                   trade_id: int) -> None:
        """A resting order of the account filled by its own taker (STP NONE), as maker."""
        key = int(order["id"])
        self.shrink(order, qty)  # what the filled part locked pays for it
        self.trade(spec, order, price, qty, spec.maker_fee, maker=True, trade_id=trade_id)
        if order["remaining"] <= spec.amount_step / 2:
            self.release(key)
            self.rested_in.pop(key, None)
            order.update(status="closed", remaining=0.0)

    def commission(self, spec: MarketSpec, buy: bool, qty: float, notional: float,
                   rate: float) -> tuple[str, float]:
        """(asset, amount): in BNB at a discount when enabled and affordable, else in the asset
        received (BUY: base, SELL: quote)."""
        bnb_market = f"BNB/{spec.quote}"
        if self.bnb_burn and bnb_market in self.market.specs:
            bnb = round(notional * rate * (1 - BNB_DISCOUNT) / self.market.quote(bnb_market)[2],
                        10)
            if self.free.get("BNB", 0.0) >= bnb:
                return "BNB", bnb
        return (spec.base, round(qty * rate, 12)) if buy else (spec.quote,
                                                                round(notional * rate, 12))

    def trade(self, spec: MarketSpec, order: dict[str, Any], price: float, qty: float,
              fee_rate: float, maker: bool = False, trade_id: int | None = None) -> int:
        """One fill of `order` (book model): balances, the order's totals, one account trade;
        returns its trade id (`trade_id`: the other row of a self-trade)."""
        buy = order["side"] == "buy"
        notional = price * qty
        asset, fee = self.commission(spec, buy, qty, notional, fee_rate)
        received, paid = (spec.base, spec.quote) if buy else (spec.quote, spec.base)
        self.free[paid] -= notional if buy else qty
        self.free[received] = self.free.get(received, 0.0) + (qty if buy else notional)
        self.free[asset] = self.free.get(asset, 0.0) - fee
        now = self.market.now_ms()
        filled = round(order["filled"] + qty, 10)
        cost = order["cost"] + notional
        total_fee = fee + (order["fee"]["cost"] if order["fee"]["currency"] == asset else 0.0)
        remaining = order["amount"] - filled - order.get("preventedQuantity", 0.0)
        order.update(filled=filled, remaining=round(remaining, 10), cost=cost,
                     average=cost / filled, fee={"cost": total_fee, "currency": asset},
                     lastTradeTimestamp=now, lastUpdateTimestamp=now)
        return self._record(spec, order, price, qty, notional, fee, asset, maker, now, trade_id)

    # -- resting orders ---------------------------------------------------------------------

    def sweep(self, orders: Mapping[int, dict[str, Any]]) -> None:
        """Fill every resting order the current book crosses (as maker, at its limit price); in
        the book model not before the market's next minute (a new book)."""
        for key in list(self.locks):
            order = orders[key]
            if self.rested_in.get(key, -1) == self.market.index():
                continue  # the book it has taken from stays as it left it until the next minute
            spec = self.market.specs[order["symbol"]]
            bid, ask, _ = self.market.quote(spec.symbol)
            crossed = order["price"] >= ask if order["side"] == "buy" else order["price"] <= bid
            if crossed:
                self.release(key)
                if self.fill_model == "book":
                    self.trade(spec, order, order["price"], order["remaining"], spec.maker_fee,
                               maker=True)
                    order["status"] = "closed"
                else:
                    self.fill(spec, order, order["price"], spec.maker_fee, maker=True)

    def _record(self, spec: MarketSpec, order: Mapping[str, Any], price: float, qty: float,
                notional: float, fee: float, fee_asset: str, maker: bool, now: int,
                trade_id: int | None = None) -> int:
        if trade_id is None:
            self._trade_id += 1
            trade_id = self._trade_id
        self.trades.append({
            "id": str(trade_id), "order": order["id"], "symbol": spec.symbol,
            "side": order["side"], "type": order["type"], "price": price, "amount": qty,
            "cost": notional, "fee": {"cost": fee, "currency": fee_asset},
            "takerOrMaker": "maker" if maker else "taker",
            "timestamp": now, "datetime": iso8601(now),
        })
        return trade_id
