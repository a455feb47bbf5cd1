"""Logging: loguru is the one sink for everything (stdlib loggers of Hydra, ccxt, urllib3 too).

Hydra's job_logging config installs `InterceptHandler` as the only stdlib handler, so every stdlib
record is re-emitted through loguru exactly once.  Sinks: the console (level from config) and
run.log in the run folder (always DEBUG).

Both sinks are `runner.shared.secrets.MaskingStream`s: loguru hands them the fully formatted line,
traceback included, and every registered secret in it becomes `***` before it is written (ccxt
logs request headers, the API key among them, at DEBUG).  `diagnose=False`: tracebacks do not
show variable values, which could hold a secret in a form the registry does not know (bytes,
a signature's input).

The console shows records at `log_level` and up, and also, whatever the level, INFO records marked
`status`: progress lines (runner/shared/progress.py) and the sweep launcher's lines (`Launching 3
jobs locally`, `#N : overrides`), which env=ci's WARNING would otherwise hide after the first
job.  In a sweep job every other console line carries the job's number (`[#3] `), set by
runner/task.py for the job's duration (`set_job`).
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

CONSOLE_FORMAT = "<green>{time:HH:mm:ss.SSS}</green> | <level>{level: <7}</level> | {message}"
FILE_FORMAT = "{time:YYYY-MM-DDTHH:mm:ss.SSSZ} | {level: <7} | {name}:{line} | {message}"


_console_ready = False
# The sweep job whose lines this process writes now (None: not a sweep job), and whether other
# jobs write to the same console at the same time (a parallel launcher: no progress bars).
_job: int | None = None
_parallel = False
# stdlib loggers of the sweep launchers (Hydra's basic launcher, the plugins,
# runner/joblib_launch.py): their per-job lines pass the console whatever its level.
LAUNCHER_WORDS = ("launcher", "joblib_launch")


def set_job(num: int | None, *, parallel: bool = False) -> None:
    """The sweep job this process runs from now on (None when it ended)."""
    global _job, _parallel
    _job, _parallel = num, parallel and num is not None


def job_prefix() -> str:
    """`[#3] ` inside sweep job 3, else empty."""
    return "" if _job is None else f"[#{_job}] "


def parallel_jobs() -> bool:
    return _parallel


def is_launcher(logger_name: str) -> bool:
    return any(word in logger_name for word in LAUNCHER_WORDS)


class InterceptHandler(logging.Handler):
    """Forward stdlib records to loguru with the original level and caller (loguru's recipe)."""

    def emit(self, record: logging.LogRecord) -> None:
        from loguru import logger

        ensure_console()  # Hydra logs (e.g. "Launching 3 jobs") before the run configures it

        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        # Skip logging's own frames so loguru names the real caller (loguru's documented recipe).
        frame, depth = inspect.currentframe(), 0
        while frame is not None and (depth == 0 or frame.f_code.co_filename == logging.__file__):
            frame, depth = frame.f_back, depth + 1
        out = logger.opt(depth=depth, exception=record.exc_info)
        if is_launcher(record.name):  # `#N : overrides`: shown at any level, never prefixed
            out = out.bind(status=True, launcher=True)
        elif getattr(record, "status", False):  # logging's extra={"status": True}
            out = out.bind(status=True)
        out.log(level, record.getMessage())


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


def _console_format(record: Any) -> str:
    """CONSOLE_FORMAT, with the sweep job's prefix in front of the message (not on the
    launcher's own lines, which are about all jobs)."""
    prefix = "" if record["extra"].get("launcher") else job_prefix()
    return CONSOLE_FORMAT.replace("{message}", prefix + "{message}") + "\n{exception}"


def console_filter(level: str) -> Callable[[Any], bool]:
    """Records at `level` and up, and INFO-and-up records marked `status`."""
    from loguru import logger

    least, info = logger.level(level.upper()).no, logger.level("INFO").no

    def show(record: Any) -> bool:
        number = record["level"].no
        return number >= least or (number >= info and bool(record["extra"].get("status")))

    return show


def configure_console(level: str) -> None:
    """Replace every loguru sink by one console sink on stderr, secrets masked."""
    from loguru import logger

    global _console_ready
    _console_ready = True
    logger.remove()
    stream, colorize = _console_stream()
    logger.add(stream, level=0, filter=console_filter(level), format=_console_format,
               colorize=colorize, diagnose=False)


def ensure_console() -> None:
    """The console sink at INFO unless one was configured already (e.g. in the process that
    launches a sweep, before Hydra's first line)."""
    if not _console_ready:
        configure_console("INFO")


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
