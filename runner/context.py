"""What a phase sees of the run: config, run folder, recorder, exchange, data, cancellation.

Phases hand data on only through `data` (typed, one producer per field: runner/run_data.py);
users' own phases keep anything else in `scratch`.  Never through globals or re-read files.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.recorder import Recorder
from runner.run_data import RunData
from runner.shared.files import write_parquet_atomic

if TYPE_CHECKING:
    import polars as pl

    from adapters.instrumented import InstrumentedExchange


@dataclass
class RunContext:
    config: dict[str, Any]
    run_dir: Path
    run_id: str
    recorder: Recorder
    stop: threading.Event = field(default_factory=threading.Event)
    started_at: str | None = None  # ISO 8601, result.json's started_at
    # What the built-in phases produce for later ones (runner/run_data.py lists who sets what).
    data: RunData = field(default_factory=RunData)
    # For users' own module:function phases only: anything they keep across attempts and phases
    # of this run (e.g. a call counter).  No built-in phase reads or writes it.
    scratch: dict[str, Any] = field(default_factory=dict)
    _exchange: InstrumentedExchange | None = field(default=None, repr=False)
    _exchange_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _attempt: threading.local = field(default_factory=threading.local, repr=False)

    @property
    def env(self) -> str:
        return self.config["env"]["name"]

    @property
    def dry_run(self) -> bool:
        return bool(self.config["dry_run"])

    @property
    def symbols(self) -> list[str]:
        return list(self.config["symbols"])

    @property
    def log(self) -> Any:
        from loguru import logger

        return logger

    # -- exchange: built on first use, so plan_only and health checks never import adapters --

    @property
    def exchange(self) -> InstrumentedExchange:
        with self._exchange_lock:
            if self._exchange is None:
                from adapters import build_exchange
                from runner.live_guard import order_gate

                self._exchange = build_exchange(self.config["adapter"], self.recorder,
                                                order_gate(self.config))
            return self._exchange

    @property
    def exchange_connected(self) -> bool:
        return self._exchange is not None and self._exchange.connected

    @property
    def exchange_built(self) -> bool:
        return self._exchange is not None

    # -- cancellation: a signal stops the run; a timeout stops only the attempt that overran --

    def bind_attempt(self, cancel: threading.Event) -> None:
        """Called in a phase's worker thread: `cancelled` then also watches this attempt's token."""
        self._attempt.cancel = cancel

    @property
    def cancelled(self) -> bool:
        token = getattr(self._attempt, "cancel", None)
        return self.stop.is_set() or (token is not None and token.is_set())

    # -- files in the run folder ---------------------------------------------------------

    def write_artifact(self, name: str, frame: pl.DataFrame) -> Path:
        """Write `<name>.parquet` into the run folder atomically."""
        return write_parquet_atomic(frame, self.run_dir / f"{name}.parquet")
