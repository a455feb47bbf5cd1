"""SIGNED account look-ups that describe the account rather than trade for it.

GET rateLimit/order (the unfilled-order counts), myPreventedMatches (the matches self-trade
prevention expired, self_trade.py: by preventedMatchId, or by the taker's or maker's orderId
from fromPreventedMatchId, oldest first), myAllocations
(SOR allocations: the simulator has no SOR, so none), account/commission (the simulator's
maker/taker fee as Binance's commission rates), order/amendments (the amendments PUT
order/amend/keepPriority recorded; -2013 for an unknown order), and POST order/test, which
validates like POST order and, with computeCommissionRates=true, answers the order's commission
rates.
Parameters, weights and errors follow Binance's rest-api.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters.sim import binance_wire as wire
from adapters.sim import order_wire
from adapters.sim.account_routes import Account
from adapters.sim.engine import Simulator
from adapters.sim.intervals import DAY_MS
from adapters.sim.market_routes import Symbols
from adapters.sim.params import int_param, limit_param, opt_int

ORDER_LIMITS = [r for r in wire.RATE_LIMITS if r["rateLimitType"] == "ORDERS"]
INTERVAL_MS = {"SECOND": 1_000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": DAY_MS}


def prevented_matches_weight(p: Mapping[str, str]) -> int:
    """myPreventedMatches: 2 by preventedMatchId, 20 by orderId."""
    return 20 if "orderId" in p and "preventedMatchId" not in p else 2


def test_order_weight(p: Mapping[str, str]) -> int:
    """order/test: 1, or 20 with computeCommissionRates."""
    return 20 if p.get("computeCommissionRates", "").lower() == "true" else 1


def bool_param(params: Mapping[str, str], name: str) -> bool:
    """A BOOLEAN parameter: 'true' or 'false' (default false)."""
    raw = params.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise wire.ApiError(400, -1100, f"Illegal characters found in parameter '{name}'; "
                                        "legal range is 'true, false'.")
    return raw == "true"


class AccountInfo:
    """The account look-ups above, on the core's one account."""

    def __init__(self, sim: Simulator, symbols: Symbols, account: Account) -> None:
        self.sim = sim
        self.symbols = symbols
        self.account = account
        self._markets = symbols.markets
        # order/amendments' rows (symbol, orderId, fromExecutionId, limit): the amend endpoint
        # (adapters.sim.order_lists) installs its record here; none without it
        self.amendments_of: Callable[[str, int, int | None, int], list[Any]] = (
            lambda *_: [])

    def _symbol(self, params: Mapping[str, str]) -> str:
        symbol = self.symbols.one(params)
        assert symbol is not None
        return symbol

    def rate_limit_order(self, params: dict[str, str]) -> Any:
        """GET rateLimit/order: each ORDERS limit of exchangeInfo with the orders placed in its
        current interval that have not traded (filled orders do not count, as on Binance)."""
        now = self.sim.server_time()
        orders = self.sim.orders()
        rows = []
        for limit in ORDER_LIMITS:
            width = INTERVAL_MS[limit["interval"]] * limit["intervalNum"]
            opened = now - now % width
            count = sum(1 for o in orders
                        if o["timestamp"] >= opened and not (o.get("filled") or 0.0))
            rows.append({**limit, "count": count})
        return rows

    def prevented_matches(self, params: dict[str, str]) -> Any:
        """GET myPreventedMatches: symbol + preventedMatchId, or symbol + orderId
        [+ fromPreventedMatchId [+ limit]]; any other combination is -1128."""
        symbol = self._symbol(params)
        by_match = opt_int(params, "preventedMatchId")
        order_id = opt_int(params, "orderId")
        from_id = opt_int(params, "fromPreventedMatchId")
        if by_match is not None:
            if order_id is not None or from_id is not None or "limit" in params:
                raise wire.bad_combination()
        elif order_id is None:
            raise wire.bad_combination()
        limit = limit_param(params)  # -1100 when malformed or below 1
        rows = self.sim.prevented_matches(symbol)
        if by_match is not None:
            rows = [r for r in rows if r.match_id == by_match]
        else:
            rows = [r for r in rows if order_id in (r.taker_id, r.maker_id)
                    and (from_id is None or r.match_id >= from_id)][:limit]
        return [order_wire.prevented_match(r) for r in rows]

    def allocations(self, params: dict[str, str]) -> Any:
        """GET myAllocations: the simulator has no SOR, so no allocations."""
        self._symbol(params)
        start, end = opt_int(params, "startTime"), opt_int(params, "endTime")
        from_id, order_id = opt_int(params, "fromAllocationId"), opt_int(params, "orderId")
        timed = start is not None or end is not None
        if timed and (from_id is not None or order_id is not None):
            raise wire.bad_combination()
        if start is not None and end is not None and end - start > DAY_MS:
            raise wire.over_a_day()
        limit_param(params)
        return []

    def commission(self, params: dict[str, str]) -> Any:
        """GET account/commission."""
        return order_wire.account_commission(self._markets[self._symbol(params)])

    def amendments(self, params: dict[str, str]) -> Any:
        """GET order/amendments: the order must exist (-2013); its recorded amendments."""
        symbol = self._symbol(params)
        order_id = int_param(params, "orderId")
        from_id = opt_int(params, "fromExecutionId")
        limit = limit_param(params)
        if self.sim.fetch_order(symbol, order_id=order_id) is None:
            raise wire.ApiError(400, -2013, "Order does not exist.")
        return self.amendments_of(symbol, order_id, from_id, limit)

    def test_order(self, params: dict[str, str]) -> Any:
        """POST order/test: POST order's checks, nothing placed; `{}`, or the order's
        commission rates with computeCommissionRates=true."""
        compute = bool_param(params, "computeCommissionRates")
        answer = self.account.test_order(params)
        if not compute:
            return answer
        return order_wire.order_commission(self._markets[self._symbol(params)])
