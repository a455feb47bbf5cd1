"""Logging: loguru is the one sink for everything (stdlib loggers of Hydra, ccxt, urllib3 too).

Hydra's job_logging config installs `InterceptHandler` as the only stdlib handler, so every stdlib
record is re-emitted through loguru exactly once.  Sinks: the console (level from config) and
run.log in the run folder (always DEBUG).
"""

from __future__ import annotations

import inspect
import logging
import sys
from pathlib import Path

CONSOLE_FORMAT = "<green>{time:HH:mm:ss.SSS}</green> | <level>{level: <7}</level> | {message}"
FILE_FORMAT = "{time:YYYY-MM-DDTHH:mm:ss.SSSZ} | {level: <7} | {name}:{line} | {message}"


_console_ready = False


class InterceptHandler(logging.Handler):
    """Forward stdlib records to loguru with the original level and caller (loguru's recipe)."""

    def emit(self, record: logging.LogRecord) -> None:
        from loguru import logger

        if not _console_ready:  # Hydra logs (e.g. "Launching 3 jobs") before the run configures
            configure_console("INFO")

        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        # Skip logging's own frames so loguru names the real caller (loguru's documented recipe).
        frame, depth = inspect.currentframe(), 0
        while frame is not None and (depth == 0 or frame.f_code.co_filename == logging.__file__):
            frame, depth = frame.f_back, depth + 1
        logger.opt(depth=depth, exception=record.exc_info).log(level, record.getMessage())


def configure_console(level: str) -> None:
    """Replace every loguru sink by one console sink on stderr."""
    from loguru import logger

    global _console_ready
    _console_ready = True
    logger.remove()
    logger.add(sys.stderr, level=level, format=CONSOLE_FORMAT, colorize=None)


def add_run_log(run_dir: Path) -> int:
    """Add run.log (DEBUG) and let stdlib DEBUG records through to it; returns the sink id."""
    from loguru import logger

    logging.getLogger().setLevel(logging.DEBUG)
    return logger.add(run_dir / "run.log", level="DEBUG", format=FILE_FORMAT, encoding="utf-8")


def remove_sink(sink_id: int) -> None:
    from loguru import logger

    logger.remove(sink_id)
