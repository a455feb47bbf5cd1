"""The route table: which handler serves each Binance path, its weight, and whether it is SIGNED.

One table drives dispatch, request weight (per rate-limit pool: spot /api, /sapi, /fapi, /dapi),
the latency model and the core fault injector (both keyed by the core's endpoint name), so a new
endpoint is one row plus one handler.  Spot paths are keyed below /api/v3/ ("order"), the
discovery stubs by their whole path ("sapi/v1/system/status").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.sim import binance_wire as wire
from adapters.sim.account_routes import Account
from adapters.sim.auth import Weight, by_symbol, depth_weight, ticker_weight
from adapters.sim.discovery_routes import Discovery
from adapters.sim.engine import Simulator
from adapters.sim.info_routes import AccountInfo, prevented_matches_weight, test_order_weight
from adapters.sim.list_queries import ListQueries
from adapters.sim.market_routes import MarketData, Symbols
from adapters.sim.order_lists import OrderLists
from adapters.sim.ticker_routes import Tickers, window_weight

log = logging.getLogger(__name__)


OTHER_PREFIXES = ("sapi/", "fapi/", "dapi/")  # served by stubs, each its own weight pool


@dataclass(frozen=True)
class Route:
    group: str  # "market" (MarketData), "account" (Account), "discovery" (Discovery),
    # "ticker" (Tickers), "info" (AccountInfo), "lists" (OrderLists) or "listq" (ListQueries)
    handler: str  # a method of that group
    name: str  # the core's endpoint name (latency model, core fault injector)
    signed: bool
    weight: int | Weight
    pool: str = "api"  # which per-minute weight it counts against

    def weight_of(self, params: dict[str, str]) -> int:
        return int(self.weight(params) if callable(self.weight) else self.weight)


def _market(handler: str, name: str, weight: int | Weight) -> Route:
    return Route("market", handler, name, False, weight)


def _account(handler: str, name: str, weight: int | Weight) -> Route:
    return Route("account", handler, name, True, weight)


def _stub(handler: str, name: str, signed: bool, weight: int, pool: str) -> Route:
    return Route("discovery", handler, name, signed, weight, pool)


def route_path(path: str) -> str:
    """A request path as its table key: below /api/v3/, or whole for the other prefixes; ''
    (no route) for anything else."""
    if path.startswith(wire.API_PREFIX):
        return path[len(wire.API_PREFIX):]
    bare = path.lstrip("/")
    return bare if bare.startswith(OTHER_PREFIXES) else ""


# (method, path below /api/v3/) -> route
ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "ping"): _market("ping", "ping", 1),
    ("GET", "time"): _market("time", "server_time", 1),
    ("GET", "exchangeInfo"): _market("exchange_info", "load_markets", 20),
    ("GET", "ticker/24hr"): _market("ticker_24hr", "fetch_ticker", ticker_weight),
    ("GET", "ticker/price"): _market("ticker_price", "fetch_ticker", by_symbol(2, 4)),
    ("GET", "ticker/bookTicker"): _market("book_ticker", "fetch_ticker", by_symbol(2, 4)),
    ("GET", "avgPrice"): _market("avg_price", "fetch_ticker", 2),
    ("GET", "klines"): _market("klines", "fetch_ohlcv", 2),
    ("GET", "uiKlines"): _market("klines", "fetch_ohlcv", 2),
    ("GET", "trades"): _market("trades", "fetch_trades", 25),
    ("GET", "historicalTrades"): _market("historical_trades", "fetch_trades", 25),
    ("GET", "aggTrades"): _market("agg_trades", "fetch_trades", 4),
    ("GET", "depth"): _market("depth", "fetch_order_book", depth_weight),
    ("GET", "ticker"): Route("ticker", "rolling", "fetch_ticker", False, window_weight),
    ("GET", "ticker/tradingDay"): Route("ticker", "trading_day", "fetch_ticker", False,
                                        window_weight),
    ("GET", "account"): _account("account", "fetch_balance", 20),
    ("POST", "order"): _account("new_order", "create_order", 1),
    ("POST", "order/test"): Route("info", "test_order", "create_order", True, test_order_weight),
    ("GET", "order"): _account("query_order", "fetch_order", 4),
    ("DELETE", "order"): _account("cancel_order", "cancel_order", 1),
    ("GET", "openOrders"): _account("open_orders", "fetch_open_orders", by_symbol(6, 80)),
    ("DELETE", "openOrders"): Route("listq", "cancel_all", "cancel_order", True, 1),
    ("GET", "allOrders"): _account("all_orders", "fetch_orders", 20),
    ("GET", "myTrades"): _account("my_trades", "fetch_my_trades", lambda p: 5 if "orderId" in p
                                  else 20),
    # account look-ups (adapters.sim.info_routes)
    ("GET", "rateLimit/order"): Route("info", "rate_limit_order", "fetch_balance", True, 40),
    ("GET", "myPreventedMatches"): Route("info", "prevented_matches", "fetch_my_trades", True,
                                         prevented_matches_weight),
    ("GET", "myAllocations"): Route("info", "allocations", "fetch_my_trades", True, 20),
    ("GET", "account/commission"): Route("info", "commission", "fetch_trading_fee", True, 20),
    ("GET", "order/amendments"): Route("info", "amendments", "fetch_order", True, 4),
    # cancel-replace, amend, order lists, SOR (adapters.sim.order_lists)
    ("POST", "order/cancelReplace"): Route("lists", "cancel_replace", "create_order", True, 1),
    ("PUT", "order/amend/keepPriority"): Route("lists", "amend", "create_order", True, 4),
    ("POST", "orderList/oco"): Route("lists", "oco", "create_order", True, 1),
    ("POST", "order/oco"): Route("lists", "legacy_oco", "create_order", True, 1),  # deprecated
    ("POST", "orderList/oto"): Route("lists", "oto", "create_order", True, 1),
    ("POST", "orderList/otoco"): Route("lists", "otoco", "create_order", True, 1),
    ("DELETE", "orderList"): Route("listq", "cancel_list", "cancel_order", True, 1),
    ("GET", "orderList"): Route("listq", "query_list", "fetch_order", True, 4),
    ("GET", "allOrderList"): Route("listq", "all_lists", "fetch_orders", True, 20),
    ("GET", "openOrderList"): Route("listq", "open_lists", "fetch_open_orders", True, 6),
    ("POST", "sor/order"): Route("lists", "sor_order", "create_order", True, 1),
    ("POST", "sor/order/test"): Route("lists", "sor_order", "create_order", True, 1),
    # discovery calls of a stock client (adapters.sim.discovery_routes)
    ("GET", "sapi/v1/system/status"): _stub("system_status", "fetch_status", False, 1, "sapi"),
    ("GET", "sapi/v1/capital/config/getall"): _stub("capital_config", "fetch_currencies", True,
                                                    10, "sapi"),
    ("GET", "sapi/v1/asset/tradeFee"): _stub("trade_fee", "fetch_trading_fee", True, 1, "sapi"),
    ("GET", "sapi/v1/margin/allPairs"): _stub("no_margin", "load_markets", False, 1, "sapi"),
    ("GET", "sapi/v1/margin/isolated/allPairs"): _stub("no_margin", "load_markets", True, 10,
                                                       "sapi"),
    ("GET", "fapi/v1/exchangeInfo"): _stub("usdm_exchange_info", "load_markets", False, 1,
                                           "fapi"),
    ("GET", "dapi/v1/exchangeInfo"): _stub("coinm_exchange_info", "load_markets", False, 1,
                                           "dapi"),
}


class Endpoints:
    """Every handler of the table on one Simulator; `call` turns core errors into Binance's."""

    def __init__(self, sim: Simulator, seed: int) -> None:
        symbols = Symbols(sim.load_markets())
        self.market = MarketData(sim, symbols)
        self.account = Account(sim, symbols, seed)
        self.discovery = Discovery(sim, symbols)
        self.ticker = Tickers(sim, symbols)
        self.info = AccountInfo(sim, symbols, self.account)
        self.lists = OrderLists(sim, symbols, self.account, seed)
        self.listq = ListQueries(sim, symbols, self.account, self.lists.book, self.lists.new_id)
        self.info.amendments_of = self.lists.amendments_of  # GET order/amendments' rows

    def handler(self, route: Route) -> Callable[[dict[str, str]], Any]:
        return getattr(getattr(self, route.group), route.handler)

    def call(self, route: Route, method: str, params: dict[str, str]) -> Any:
        """The handler's answer; a ccxt error from the core becomes its Binance error, any
        other failure a logged -1000 (a simulator bug must not look like an exchange rule)."""
        try:
            return self.handler(route)(params)
        except wire.ApiError:
            raise
        except Exception as exc:
            if type(exc).__module__.startswith("ccxt"):
                action = "cancel" if method == "DELETE" else "query"
                raise wire.error_from_core(exc, action) from exc
            log.exception("sim server: %s %s failed", method, route.handler)
            raise wire.ApiError(500, -1000, "An unknown error occurred while processing the "
                                            "request.") from exc
