"""market_data: tickers and OHLCV for every symbol (-> ctx.data.tickers, ctx.data.ohlcv), checked
for the faults that break strategies.

Data-quality checks (each emits a `health` event per symbol): gaps between candles, a stale last
candle, non-positive or inconsistent prices, and a crossed ticker (bid above ask).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from runner.shared.errors import PhaseError

if TYPE_CHECKING:
    from runner.context import RunContext

UNITS_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000}
OHLCV_COLUMNS = ["ts", "open", "high", "low", "close", "volume"]


def timeframe_ms(timeframe: str) -> int:
    """'15m' -> 900000; the unit set is ccxt's common one."""
    number, unit = timeframe[:-1], timeframe[-1:]
    if not number.isdigit() or unit not in UNITS_MS or int(number) == 0:
        raise PhaseError(f"timeframe '{timeframe}' is not valid; allowed: <n>m, <n>h or <n>d")
    return int(number) * UNITS_MS[unit]


def quality_issues(frame: Any, ticker: dict[str, Any], step_ms: int, max_stale: int,
                   now_ms: int) -> dict[str, str | None]:
    """Check name -> problem (None when the check passed) for one symbol's candles and ticker."""
    import polars as pl

    if frame.height == 0:
        return {"candles": "no candles returned"}
    steps = frame.select(pl.col("ts").diff().drop_nulls()).to_series()
    gaps = int((steps != step_ms).sum())
    bad_prices = frame.filter(
        (pl.min_horizontal("open", "high", "low", "close") <= 0)
        | (pl.col("high") < pl.max_horizontal("open", "close"))
        | (pl.col("low") > pl.min_horizontal("open", "close"))
    ).height
    age_candles = (now_ms - int(frame["ts"][-1])) / step_ms
    bid, ask, last = ticker.get("bid"), ticker.get("ask"), ticker.get("last")
    return {
        "gaps": f"{gaps} uneven candle step(s)" if gaps else None,
        "stale": (f"last candle is {age_candles:.1f} candles old (max {max_stale})"
                  if age_candles > max_stale else None),
        "prices": f"{bad_prices} candle(s) with non-positive or inconsistent prices"
        if bad_prices else None,
        "ticker": (f"ticker not sane: bid={bid} ask={ask} last={last}"
                   if not (last and last > 0 and bid and ask and 0 < bid <= ask) else None),
    }


def run(ctx: RunContext, *, timeframe: str = "1m", limit: int = 200, max_stale_candles: int = 2,
        fail_on_quality: bool = True) -> dict[str, Any]:
    import polars as pl

    step_ms = timeframe_ms(timeframe)
    frames, tickers, problems = [], {}, []
    for symbol in ctx.symbols:
        ticker = ctx.exchange.fetch_ticker(symbol)
        candles = ctx.exchange.fetch_ohlcv(symbol, timeframe, limit)
        frame = pl.DataFrame(candles, schema=OHLCV_COLUMNS, orient="row").with_columns(
            pl.col("ts").cast(pl.Int64), pl.exclude("ts").cast(pl.Float64))
        issues = quality_issues(frame, ticker, step_ms, max_stale_candles,
                                int(time.time() * 1000))
        for check, problem in issues.items():
            ctx.recorder.record("health", f"data_quality.{check}", problem is None,
                                error=None if problem is None else "DataQuality", symbol=symbol)
            if problem:
                problems.append(f"{symbol}: {problem}")
        tickers[symbol] = ticker
        frames.append(frame.with_columns(pl.lit(symbol).alias("symbol")))
    data = pl.concat(frames).select(
        "symbol", pl.col("ts").cast(pl.Datetime("ms", "UTC")), *OHLCV_COLUMNS[1:])
    ctx.write_artifact("market_data", data)
    ctx.data.ohlcv, ctx.data.tickers = data, tickers  # also when the quality check fails below
    if problems:
        message = "data quality: " + "; ".join(problems)
        if fail_on_quality:
            raise PhaseError(message)
        ctx.log.warning(message)
    return {"symbols": len(ctx.symbols), "candles": data.height, "timeframe": timeframe,
            "quality_problems": problems}
