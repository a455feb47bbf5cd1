"""Public market-data endpoints (ping, time, exchangeInfo, tickers, klines, trades, depth).

Each handler takes the merged request parameters and returns the JSON-ready answer, raising
`binance_wire.ApiError` for Binance's parameter errors; the route table (adapters.sim.routes)
says which handler serves which path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters.sim import binance_wire as wire
from adapters.sim.engine import Simulator
from adapters.sim.intervals import INTERVALS, MINUTE_MS, parse_time_zone
from adapters.sim.params import int_param, limit_param, opt_int


class Symbols:
    """Binance's `symbol` / `symbols` parameters resolved to the core's unified symbols."""

    def __init__(self, markets: Mapping[str, dict[str, Any]]) -> None:
        self.markets = markets
        self._index = wire.symbol_index(markets)

    def one(self, params: Mapping[str, str], required: bool = True) -> str | None:
        """The `symbol` parameter ('BTCUSDT' -> 'BTC/USDT'); None when absent and optional."""
        wire_id = params.get("symbol")
        if not wire_id:
            if required:
                raise wire.missing("symbol")
            return None
        try:
            return self._index[wire_id.upper()]
        except KeyError:
            raise wire.invalid_symbol() from None

    def many(self, params: Mapping[str, str]) -> list[str] | None:
        """One symbol (`symbol`), several (`symbols`), or None meaning all."""
        if "symbol" in params:
            return [self.one(params)]  # type: ignore[list-item]
        if "symbols" in params:
            names = wire.parse_symbol_list(params["symbols"])
            return [self.one({"symbol": n}) for n in names]  # type: ignore[misc]
        return None


def ticker_type(params: Mapping[str, str]) -> str:
    """A ticker's `type`: FULL (default) or MINI; anything else is -1139."""
    kind = params.get("type", "FULL")
    if kind not in ("FULL", "MINI"):
        raise wire.ApiError(400, -1139, "Invalid ticker type.")
    return kind


class MarketData:
    """The unsigned endpoints, answered from the core's markets, tickers and candles."""

    def __init__(self, sim: Simulator, symbols: Symbols) -> None:
        self.sim = sim
        self.symbols = symbols
        self._markets = symbols.markets

    def _each_ticker(self, params: dict[str, str],
                     shape: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]) -> Any:
        chosen = self.symbols.many(params)
        rows = [shape(self._markets[s], self.sim.fetch_ticker(s))
                for s in (chosen or list(self._markets))]
        return rows[0] if "symbol" in params else rows

    def ping(self, params: dict[str, str]) -> Any:
        return {}

    def time(self, params: dict[str, str]) -> Any:
        return {"serverTime": self.sim.server_time()}

    def exchange_info(self, params: dict[str, str]) -> Any:
        chosen = self.symbols.many(params) or list(self._markets)
        return wire.exchange_info([self._markets[s] for s in chosen], self.sim.server_time())

    def ticker_24hr(self, params: dict[str, str]) -> Any:
        """type FULL (default) or MINI (-1139 otherwise)."""
        mini = ticker_type(params) == "MINI"
        rolling_day = self.sim.market.rolling_day

        def shape(m: dict[str, Any], t: dict[str, Any]) -> dict[str, Any]:
            full = wire.ticker_24hr(m, t, rolling_day(t["symbol"]))
            return wire.mini_ticker(full) if mini else full

        return self._each_ticker(params, shape)

    def ticker_price(self, params: dict[str, str]) -> Any:
        return self._each_ticker(params, wire.price_ticker)

    def book_ticker(self, params: dict[str, str]) -> Any:
        return self._each_ticker(params, wire.book_ticker)

    def avg_price(self, params: dict[str, str]) -> Any:
        """Binance's average price: sum(price x qty) / sum(qty) of the last 5 minutes' trades
        (the data's, which end with the current minute), `closeTime` the last trade's time."""
        symbol = self.symbols.one(params)
        market = self.sim.market
        end = (market.last_minute() + 1) * MINUTE_MS - 1
        aggs = market.agg_trades(symbol, 1_000, start=end + 1 - 5 * MINUTE_MS,  # type: ignore[arg-type]
                                 end=end)
        qty = sum(sum(a.qtys) for a in aggs)
        value = sum(a.price * sum(a.qtys) for a in aggs)
        return {"mins": 5, "price": wire.num(value / qty), "closeTime": aggs[-1].time}

    def klines(self, params: dict[str, str]) -> Any:
        """klines and uiKlines: any interval, startTime/endTime/limit/timeZone as Binance reads
        them (the market selects the rows)."""
        symbol = self.symbols.one(params)
        interval = params.get("interval") or ""
        if not interval:
            raise wire.missing("interval")
        if interval not in INTERVALS:
            raise wire.ApiError(400, -1120, "Invalid interval.")
        try:
            offset = parse_time_zone(params.get("timeZone"))
        except ValueError:
            raise wire.ApiError(400, -1100, "Illegal characters found in parameter 'timeZone'; "
                                            "legal range is '[-12:00, +14:00]'.") from None
        rows = self.sim.market.klines(symbol, interval, start=opt_int(params, "startTime"),  # type: ignore[arg-type]
                                      end=opt_int(params, "endTime"), limit=limit_param(params),
                                      offset=offset)
        return [wire.kline(k) for k in rows]

    def trades(self, params: dict[str, str]) -> Any:
        """The most recent trades."""
        symbol = self.symbols.one(params)
        rows = self.sim.market.trades(symbol, limit_param(params))  # type: ignore[arg-type]
        return [wire.public_trade(f) for f in rows]

    def historical_trades(self, params: dict[str, str]) -> Any:
        """Older trades: from trade id `fromId`, else the most recent."""
        symbol = self.symbols.one(params)
        rows = self.sim.market.trades(symbol, limit_param(params),  # type: ignore[arg-type]
                                      opt_int(params, "fromId", 0))
        return [wire.public_trade(f) for f in rows]

    def agg_trades(self, params: dict[str, str]) -> Any:
        """Aggregate trades from `fromId`, or within startTime/endTime (not both ways: -1128),
        or the most recent."""
        symbol = self.symbols.one(params)
        from_id = opt_int(params, "fromId", 0)
        start, end = opt_int(params, "startTime"), opt_int(params, "endTime")
        if from_id is not None and (start is not None or end is not None):
            raise wire.bad_combination()
        rows = self.sim.market.agg_trades(symbol, limit_param(params), from_id=from_id,  # type: ignore[arg-type]
                                          start=start, end=end)
        return [wire.agg_trade(a) for a in rows]

    def depth(self, params: dict[str, str]) -> Any:
        symbol = self.symbols.one(params)
        limit = int_param(params, "limit", 100)
        if limit < 1:
            raise wire.illegal("limit")
        limit = min(limit, 5_000)  # Binance: "If limit > 5000, only 5000 entries will be returned."
        ticker = self.sim.fetch_ticker(symbol)  # type: ignore[arg-type]
        return wire.depth(self._markets[symbol], ticker, limit, self.sim.server_time())  # type: ignore[index]
