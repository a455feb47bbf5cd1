"""Signal generators. A strategy turns OHLCV (all symbols) into one signal row per candle.

signal: +1 = the fast SMA crossed above the slow one on this candle (buy), -1 = crossed below
(sell), 0 = no cross.  Candles before the slow window is full carry no signal.
"""

from __future__ import annotations

from typing import Any


def sma_cross(ohlcv: Any, *, fast: int = 10, slow: int = 30, **_: Any) -> Any:
    import polars as pl

    above = pl.col("sma_fast") > pl.col("sma_slow")
    return (
        ohlcv.sort("symbol", "ts")
        .with_columns(
            pl.col("close").rolling_mean(fast).over("symbol").alias("sma_fast"),
            pl.col("close").rolling_mean(slow).over("symbol").alias("sma_slow"),
        )
        .with_columns(
            pl.when(pl.col("sma_slow").is_null())
            .then(0)
            .when(above & ~above.shift(1).over("symbol").fill_null(above))
            .then(1)
            .when(~above & above.shift(1).over("symbol").fill_null(above))
            .then(-1)
            .otherwise(0)
            .cast(pl.Int8)
            .alias("signal")
        )
        .select("symbol", "ts", "close", "sma_fast", "sma_slow", "signal")
    )


STRATEGIES = {"sma_cross": sma_cross}
