"""Binance spot REST wire format for the simulator core's ccxt-shaped data.

Pure functions, no I/O and no ccxt import: the HTTP endpoints (adapters.sim.routes) turn core
results into these JSON shapes and core exceptions into Binance's `{"code", "msg"}` errors, so
a real ccxt `binance` client parses them exactly as it parses api.binance.com.  Numbers travel
as strings with 8 decimals, as Binance sends them; symbols as 'BTCUSDT'.  The account's and its
orders' shapes are in order_wire.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from adapters.sim.market import DAY_MINUTES, MINUTE_MS, Kline
from adapters.sim.self_trade import STP_DEFAULT, STP_MODES
from adapters.sim.trades import Agg, Fill

API_PREFIX = "/api/v3/"  # every spot endpoint lives below it (discovery stubs elsewhere)
ICEBERG_PARTS = 100  # the ICEBERG_PARTS filter's limit (Binance's, all symbols, since 2026-03)
DAY_MS = DAY_MINUTES * MINUTE_MS
RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
]


class ApiError(Exception):
    """A Binance error answer: HTTP status plus the JSON body {"code": ..., "msg": ...}."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(f"{status} {code} {msg}")
        self.status, self.code, self.msg = status, code, msg

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg}


def invalid_symbol() -> ApiError:
    return ApiError(400, -1121, "Invalid symbol.")


def missing(name: str) -> ApiError:
    return ApiError(400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, "
                                "or malformed.")


def not_required(name: str) -> ApiError:
    return ApiError(400, -1106, f"Parameter '{name}' sent when not required.")


def illegal(name: str) -> ApiError:
    return ApiError(400, -1100, f"Illegal characters found in parameter '{name}'; legal range "
                                "is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.")


def bad_combination() -> ApiError:
    return ApiError(400, -1128, "Combination of optional parameters invalid.")


def over_a_day() -> ApiError:
    return ApiError(400, -1127, "More than 24 hours between startTime and endTime.")


def error_from_core(exc: Exception, action: str = "query") -> ApiError:
    """The Binance answer for a ccxt exception raised by the core.

    `action` tells an unknown order apart: Binance says -2013 to a query, -2011 to a cancel.
    """
    kind, text = type(exc).__name__, str(exc)
    if kind == "BadSymbol":
        return invalid_symbol()
    if kind == "InsufficientFunds":
        return ApiError(400, -2010, "Account has insufficient balance for requested action.")
    if kind == "OrderNotFound":
        if action == "cancel":
            return ApiError(400, -2011, "Unknown order sent.")
        return ApiError(400, -2013, "Order does not exist.")
    if kind == "InvalidOrder":
        if text.startswith("Duplicate order"):
            return ApiError(400, -2010, "Duplicate order sent.")
        for prefix, name in (("LOT_SIZE", "LOT_SIZE"), ("PRICE_FILTER", "PRICE_FILTER"),
                             ("MIN_NOTIONAL", "NOTIONAL")):
            if text.startswith(prefix):
                return ApiError(400, -1013, f"Filter failure: {name}")
        return ApiError(400, -1013, text)
    if kind == "BadRequest":
        if "timeframe" in text:
            return ApiError(400, -1120, "Invalid interval.")
        return ApiError(400, -1100, text)
    return ApiError(500, -1000, "An unknown error occurred while processing the request.")


# -- numbers and symbols ----------------------------------------------------------------------


def num(value: float | None) -> str:
    """Binance's decimal string: 8 places ('60000.00000000').

    Goes through the float's shortest repr, so 3291465639.6 reads '3291465639.60000000' and
    not the binary noise '3291465639.59999990'.
    """
    return format(Decimal(repr(float(value or 0.0))), ".8f")


def wire_symbol(symbol: str) -> str:
    """'BTC/USDT' -> 'BTCUSDT'."""
    return symbol.replace("/", "")


def symbol_index(markets: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Wire id -> unified symbol ('BTCUSDT' -> 'BTC/USDT'); needs the markets to split ids."""
    return {wire_symbol(symbol): symbol for symbol in markets}


def parse_symbol_list(raw: str) -> list[str]:
    """Binance's `symbols` parameter: a JSON-ish array '["BTCUSDT","ETHUSDT"]'."""
    return [s.strip().strip('"') for s in raw.strip().strip("[]").split(",") if s.strip()]


def step_floor(value: float, step: float) -> float:
    """`value` rounded down onto the `step` grid (1e-9 relative slack for float noise)."""
    return round(math.floor(value / step + 1e-9) * step, 10)


# -- market data ------------------------------------------------------------------------------


def symbol_info(market: Mapping[str, Any]) -> dict[str, Any]:
    """One entry of exchangeInfo.symbols, with the filters the simulator enforces; the order
    lists, cancel-replace and amend it serves are allowed; icebergs unless the market's
    `iceberg_allowed` (info.icebergAllowed) is off."""
    limits, precision = market["limits"], market["precision"]
    amount, price, cost = limits["amount"], limits["price"], limits["cost"]
    lot = {"minQty": num(amount["min"]), "maxQty": num(amount["max"]),
           "stepSize": num(precision["amount"])}
    min_notional = num(cost["min"])
    return {
        "symbol": market["id"], "status": "TRADING" if market.get("active", True) else "BREAK",
        "baseAsset": market["base"], "baseAssetPrecision": 8,
        "quoteAsset": market["quote"], "quotePrecision": 8, "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT",
                       "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": bool(market.get("info", {}).get("icebergAllowed", True)),
        "ocoAllowed": True, "otoAllowed": True, "opoAllowed": False,
        "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": True,
        "cancelReplaceAllowed": True, "amendAllowed": True, "pegInstructionsAllowed": False,
        "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": num(price["min"]),
             "maxPrice": num(price["max"]), "tickSize": num(precision["price"])},
            {"filterType": "LOT_SIZE", **lot},
            {"filterType": "ICEBERG_PARTS", "limit": ICEBERG_PARTS},
            {"filterType": "MARKET_LOT_SIZE", **lot},
            {"filterType": "MIN_NOTIONAL", "minNotional": min_notional,
             "applyToMarket": True, "avgPriceMins": 5},
            {"filterType": "NOTIONAL", "minNotional": min_notional, "applyMinToMarket": True,
             "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
            {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10,
             "maxTrailingAboveDelta": 2000, "minTrailingBelowDelta": 10,
             "maxTrailingBelowDelta": 2000},  # stop_orders.TRAILING_MIN / TRAILING_MAX
        ],
        "permissions": ["SPOT"], "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": STP_DEFAULT,
        "allowedSelfTradePreventionModes": list(STP_MODES),
    }


def exchange_info(markets: Iterable[Mapping[str, Any]], server_time: int) -> dict[str, Any]:
    return {"timezone": "UTC", "serverTime": server_time, "rateLimits": RATE_LIMITS,
            "exchangeFilters": [], "symbols": [symbol_info(m) for m in markets]}


def level_qty(market: Mapping[str, Any], ticker: Mapping[str, Any], level: int = 0) -> float:
    """A deterministic book quantity: a tenth of an average minute's volume, growing per level."""
    step = market["precision"]["amount"]
    per_minute = (ticker.get("baseVolume") or 0.0) / 1_440.0
    return max(step_floor(per_minute * 0.1 * (1 + 0.5 * level), step), market["limits"]["amount"]
               ["min"])


def ticker_24hr(market: Mapping[str, Any], ticker: Mapping[str, Any],
                day: Mapping[str, Any]) -> dict[str, Any]:
    """GET ticker/24hr for one symbol; `day` is the market's rolling day (trade ids, count)."""
    last, open_ = ticker["last"], ticker["open"]
    base_volume, quote_volume = ticker["baseVolume"], ticker["quoteVolume"]
    qty = num(level_qty(market, ticker))
    now = ticker["timestamp"]
    change = last - open_
    return {
        "symbol": market["id"], "priceChange": num(change),
        "priceChangePercent": f"{(change / open_ * 100.0 if open_ else 0.0):.3f}",
        "weightedAvgPrice": num(quote_volume / base_volume if base_volume else last),
        "prevClosePrice": num(open_), "lastPrice": num(last), "lastQty": num(day["lastQty"]),
        "bidPrice": num(ticker["bid"]), "bidQty": qty, "askPrice": num(ticker["ask"]),
        "askQty": qty, "openPrice": num(open_), "highPrice": num(ticker["high"]),
        "lowPrice": num(ticker["low"]), "volume": num(base_volume),
        "quoteVolume": num(quote_volume), "openTime": now - DAY_MS, "closeTime": now,
        "firstId": day["firstId"], "lastId": day["lastId"], "count": day["count"],
    }


def price_ticker(market: Mapping[str, Any], ticker: Mapping[str, Any]) -> dict[str, Any]:
    return {"symbol": market["id"], "price": num(ticker["last"])}


def book_ticker(market: Mapping[str, Any], ticker: Mapping[str, Any]) -> dict[str, Any]:
    qty = num(level_qty(market, ticker))
    return {"symbol": market["id"], "bidPrice": num(ticker["bid"]), "bidQty": qty,
            "askPrice": num(ticker["ask"]), "askQty": qty}


def kline(k: Kline) -> list[Any]:
    """A kline as Binance's 12-field array."""
    return [k.open_time, num(k.open), num(k.high), num(k.low), num(k.close), num(k.volume),
            k.close_time, num(k.quote_volume), k.trades, num(k.taker_base), num(k.taker_quote),
            "0"]


def public_trade(fill: Fill) -> dict[str, Any]:
    """One row of GET trades / historicalTrades (`steps` already in base units)."""
    return {"id": fill.id, "price": num(fill.price), "qty": num(fill.steps),
            "quoteQty": num(round(fill.price * fill.steps, 8)), "time": fill.time,
            "isBuyerMaker": fill.buyer_maker, "isBestMatch": True}


def agg_trade(agg: Agg) -> dict[str, Any]:
    """One row of GET aggTrades (`qtys` already in base units)."""
    return {"a": agg.id, "p": num(agg.price), "q": num(round(sum(agg.qtys), 10)),
            "f": agg.first_id, "l": agg.first_id + len(agg.qtys) - 1, "T": agg.time,
            "m": agg.buyer_maker, "M": True}


def depth(
    market: Mapping[str, Any], ticker: Mapping[str, Any], limit: int, update_id: int
) -> dict[str, Any]:
    """`limit` synthetic levels a side, 1 bp apart, starting at the core's bid and ask."""
    tick = market["precision"]["price"]
    gap = max(tick, round(ticker["last"] * 1e-4 / tick) * tick)
    bids, asks = [], []
    for i in range(limit):
        qty = num(level_qty(market, ticker, i))
        bid = round(ticker["bid"] - i * gap, 10)
        if bid > 0:
            bids.append([num(bid), qty])
        asks.append([num(round(ticker["ask"] + i * gap, 10)), qty])
    return {"lastUpdateId": update_id, "bids": bids, "asks": asks}


# -- rolling-window / trading-day tickers and commission rates (new endpoints) ----------------

MINI_TICKER_FIELDS = ("symbol", "openPrice", "highPrice", "lowPrice", "lastPrice", "volume",
                      "quoteVolume", "openTime", "closeTime", "firstId", "lastId", "count")


def mini_ticker(full: Mapping[str, Any]) -> dict[str, Any]:
    """A FULL ticker (24hr, rolling window or trading day) cut to Binance's MINI shape."""
    return {k: full[k] for k in MINI_TICKER_FIELDS}


def window_ticker(market: Mapping[str, Any], k: Kline, open_time: int, close_time: int,
                  first_id: int) -> dict[str, Any]:
    """GET ticker (rolling window) and ticker/tradingDay, FULL: the statistics of kline `k`
    (the window's open, high, low, last, volumes and trade count)."""
    change = k.close - k.open
    return {
        "symbol": market["id"], "priceChange": num(change),
        "priceChangePercent": f"{(change / k.open * 100.0 if k.open else 0.0):.3f}",
        "weightedAvgPrice": num(k.quote_volume / k.volume if k.volume else k.close),
        "openPrice": num(k.open), "highPrice": num(k.high), "lowPrice": num(k.low),
        "lastPrice": num(k.close), "volume": num(k.volume), "quoteVolume": num(k.quote_volume),
        "openTime": open_time, "closeTime": close_time, "firstId": first_id,
        "lastId": first_id + k.trades - 1, "count": k.trades,
    }
