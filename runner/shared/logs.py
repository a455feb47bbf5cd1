"""Logging: loguru is the one sink for everything (stdlib loggers of Hydra, ccxt, urllib3 too).

Hydra's job_logging config installs `InterceptHandler` as the only stdlib handler, so every stdlib
record is re-emitted through loguru exactly once.  Sinks: the console (level from config) and
run.log in the run folder (always DEBUG).

Both sinks are `runner.shared.secrets.MaskingStream`s: loguru hands them the fully formatted line,
traceback included, and every registered secret in it becomes `***` before it is written (ccxt
logs request headers, the API key among them, at DEBUG).  `diagnose=False`: tracebacks do not
show variable values, which could hold a secret in a form the registry does not know (bytes,
a signature's input).
"""

from __future__ import annotations

import inspect
import logging
import sys
from pathlib import Path
from typing import TextIO

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


def _console_stream() -> tuple[TextIO, bool]:
    """stderr behind secret masking, and whether to colour it: loguru's own rules (terminal,
    CI, Windows console wrapping) applied to the raw stream, which the mask would hide."""
    from runner.shared.secrets import MaskingStream

    stream = sys.stderr
    # Under runner/__main__.py stderr is a MaskingStream already: colour by what is behind it.
    raw = stream.stream if isinstance(stream, MaskingStream) else stream
    colorize = False
    try:
        from loguru import _colorama

        colorize = bool(_colorama.should_colorize(raw))
        if colorize and _colorama.should_wrap(raw):
            raw = _colorama.wrap(raw)
    except Exception:  # a loguru without these helpers: plain text is always correct
        pass
    return MaskingStream(raw), colorize


def configure_console(level: str) -> None:
    """Replace every loguru sink by one console sink on stderr, secrets masked."""
    from loguru import logger

    global _console_ready
    _console_ready = True
    logger.remove()
    stream, colorize = _console_stream()
    logger.add(stream, level=level, format=CONSOLE_FORMAT, colorize=colorize, diagnose=False)


def add_run_log(run_dir: Path) -> int:
    """Add run.log (DEBUG, secrets masked) and let stdlib DEBUG records through to it; returns
    the sink id."""
    from loguru import logger

    from runner.shared.secrets import MaskingStream

    logging.getLogger().setLevel(logging.DEBUG)
    file = open(run_dir / "run.log", "a", encoding="utf-8")  # noqa: SIM115 - closed by the sink
    return logger.add(MaskingStream(file, owned=True), level="DEBUG", format=FILE_FORMAT,
                      colorize=False, diagnose=False)


def remove_sink(sink_id: int) -> None:
    from loguru import logger

    logger.remove(sink_id)
