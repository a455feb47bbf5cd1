"""Rolling-window and trading-day tickers (GET /api/v3/ticker, GET /api/v3/ticker/tradingDay).

Both compute their statistics from the seeded price history (the same data as klines and
trades), so a window's open, high, low, last, volume and trade ids agree with the klines and
trades it covers.  Parameters, weights and errors follow Binance's rest-api.md: `symbol` or
`symbols` (one of them, at most 100 symbols), `type` FULL or MINI, `symbolStatus`; `windowSize`
1m..59m, 1h..23h, 1d..7d (ticker), `timeZone` (tradingDay).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from adapters.sim import binance_wire as wire
from adapters.sim.engine import Simulator
from adapters.sim.intervals import DAY_MS, HOUR_MS, MINUTE_MS, open_time, parse_time_zone
from adapters.sim.market import Kline
from adapters.sim.market_routes import Symbols, ticker_type
from adapters.sim.trades import TRADES_PER_MINUTE

MAX_SYMBOLS = 100
SYMBOL_STATUSES = ("TRADING", "HALT", "BREAK")
_WINDOW = re.compile(r"^([1-9][0-9]?)([mhd])$")
_WINDOW_UNITS = {"m": (MINUTE_MS, 59), "h": (HOUR_MS, 23), "d": (DAY_MS, 7)}


def window_weight(p: Mapping[str, str]) -> int:
    """ticker and ticker/tradingDay: 4 per requested symbol, capped at 200 (over 50 symbols)."""
    if "symbols" in p and "symbol" not in p:
        return min(4 * max(1, len(wire.parse_symbol_list(p["symbols"]))), 200)
    return 4


def window_ms(raw: str | None) -> int:
    """`windowSize` in ms: 1m..59m, 1h..23h or 1d..7d (default 1d); units do not combine."""
    if raw is None:
        return DAY_MS
    match = _WINDOW.match(raw)
    if match:
        unit, most = _WINDOW_UNITS[match.group(2)]
        if int(match.group(1)) <= most:
            return int(match.group(1)) * unit
    raise wire.ApiError(400, -1100, "Illegal characters found in parameter 'windowSize'; legal "
                                    "range is '1m..59m, 1h..23h, 1d..7d'.")


def symbol_status(params: Mapping[str, str]) -> str | None:
    """`symbolStatus` (TRADING, HALT, BREAK) or None."""
    status = params.get("symbolStatus")
    if status is not None and status not in SYMBOL_STATUSES:
        raise wire.ApiError(400, -1100, "Illegal characters found in parameter 'symbolStatus'; "
                                        "legal range is 'TRADING, HALT, BREAK'.")
    return status


def status_of(market: Mapping[str, Any]) -> str:
    return "TRADING" if market.get("active", True) else "BREAK"


def chosen_symbols(symbols: Symbols, params: Mapping[str, str]) -> list[str]:
    """`symbol` or `symbols`, exactly one of them (at most 100 symbols, no repeats)."""
    if "symbol" in params and "symbols" in params:
        raise wire.bad_combination()
    if "symbols" in params:
        names = wire.parse_symbol_list(params["symbols"])
        if not names:
            raise wire.missing("symbols")
        if len(names) > MAX_SYMBOLS:
            raise wire.ApiError(400, -1101, "Too many values sent for parameter 'symbols', "
                                            f"maximum allowed up to {MAX_SYMBOLS}.")
        if len({n.upper() for n in names}) != len(names):
            raise wire.ApiError(400, -1151, "Symbol is present multiple times in the list.")
        return [symbols.one({"symbol": n}) for n in names]  # type: ignore[misc]
    if not params.get("symbol"):
        raise wire.missing("symbol")
    return [symbols.one(params)]  # type: ignore[list-item]


def filter_status(markets: Mapping[str, Mapping[str, Any]], chosen: list[str],
                  params: Mapping[str, str]) -> list[str]:
    """`symbolStatus`: one symbol of another status is -1220; of several, those are left out."""
    status = symbol_status(params)
    if status is None:
        return chosen
    kept = [s for s in chosen if status_of(markets[s]) == status]
    if "symbol" in params and not kept:
        raise wire.ApiError(400, -1220, "The symbol's status does not match the requested "
                                        "symbolStatus.")
    return kept


class Tickers:
    """GET ticker (rolling window) and GET ticker/tradingDay."""

    def __init__(self, sim: Simulator, symbols: Symbols) -> None:
        self.sim = sim
        self.symbols = symbols
        self._markets = symbols.markets

    def _answer(self, params: Mapping[str, str],
                stats: Callable[[str], dict[str, Any]]) -> Any:
        kind = ticker_type(params)
        chosen = filter_status(self._markets, chosen_symbols(self.symbols, params), params)
        rows = [stats(s) for s in chosen]
        if kind == "MINI":
            rows = [wire.mini_ticker(r) for r in rows]
        return rows[0] if "symbol" in params else rows

    def rolling(self, params: dict[str, str]) -> Any:
        """GET ticker: `openTime` on the minute `windowSize` before now, `closeTime` now."""
        width = window_ms(params.get("windowSize"))
        return self._answer(params, lambda s: self._window(s, width))

    def _window(self, symbol: str, width: int) -> dict[str, Any]:
        market = self.sim.market
        now = self.sim.server_time()
        # The market's private history: the same lock and data as its klines and rolling day.
        with market._lock:
            current = market.last_minute()
            data_end = (current + 1) * MINUTE_MS
            opened = max(current * MINUTE_MS - width, market.first_ms)
            path = market._paths[symbol]
            k: Kline = market._kline(market.spec(symbol), path.span(opened, data_end), opened,
                                     now)
            first_id = (opened // MINUTE_MS - path.first_minute) * TRADES_PER_MINUTE
        return wire.window_ticker(self._markets[symbol], k, opened, now, first_id)

    def trading_day(self, params: dict[str, str]) -> Any:
        """GET ticker/tradingDay: the day (in `timeZone`) containing now, as its 1d kline."""
        try:
            offset = parse_time_zone(params.get("timeZone"))
        except ValueError:
            raise wire.ApiError(400, -1100, "Illegal characters found in parameter 'timeZone'; "
                                            "legal range is '[-12:00, +14:00]'.") from None
        return self._answer(params, lambda s: self._day(s, offset))

    def _day(self, symbol: str, offset: int) -> dict[str, Any]:
        market = self.sim.market
        day_open = open_time("1d", self.sim.server_time(), offset)
        rows = market.klines(symbol, "1d", start=day_open, limit=1, offset=offset)
        if not rows:  # clock skew put "now" past the data: the newest day there is
            rows = market.klines(symbol, "1d", limit=1, offset=offset)
        k = rows[0]
        first_minute = market._paths[symbol].first_minute
        first_id = (k.open_time // MINUTE_MS - first_minute) * TRADES_PER_MINUTE
        return wire.window_ticker(self._markets[symbol], k, k.open_time, k.close_time, first_id)
