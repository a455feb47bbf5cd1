"""Progress of long steps, so the console is never silent for more than about two seconds.

Two helpers, used by the runner (the load phase, the sweep's config validation) and by
`python -m slo` (the steps after reading):

- `Progress`: a counted step (calls, jobs).  On a terminal a tqdm bar on stderr; otherwise
  (logs, CI) one status line every `STATUS_EVERY_S`, e.g.
  `load: 40,000/101,000 (40%), 9,950 calls/s, 4.0 s elapsed, 0 errors`.  Either way one last line
  when it ends: `load: 101,000/101,000 done in 10.2 s (9,900 calls/s), 0 errors`.
- `Steps`: uncounted steps one after another (`step("computing error budgets")`).  A step is
  named (`computing error budgets…`) only once the console has been quiet for `QUIET_S`, and
  named again (`computing error budgets… (3.5 s)`) every `STATUS_EVERY_S` while it lasts, so
  fast steps print nothing.

Status lines are loguru records marked `status` (runner/shared/logs.py): the console shows them
whatever `log_level` says, with the sweep job's `[#N]` prefix, and run.log keeps them.  The clock
is a parameter (tests pass a fake one; no test waits).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from runner.shared.tables import number

# A status line at least this often while a counted step runs (plain-line mode).
STATUS_EVERY_S = 1.5
# Steps: name the step under way once the console has been quiet this long.
QUIET_S = 1.0
# How often the Steps watcher looks at the clock.
TICK_S = 0.1
# The bar is redrawn at most this often.
BAR_EVERY_S = 0.2
CLOCK: Callable[[], float] = time.monotonic


def status_line(text: str, *, console: bool = True) -> None:
    """One status line: on the console whatever its level (and in run.log), or with
    `console=False` in run.log only (DEBUG)."""
    from loguru import logger

    if console:
        logger.bind(status=True).info(text)
    else:
        logger.debug(text)


def use_bar(stream: Any = None) -> bool:
    """A tqdm bar only on a terminal that this process has to itself (not parallel sweep jobs,
    whose bars would overwrite one another)."""
    from runner.shared.logs import parallel_jobs

    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty()) and not parallel_jobs()
    except (AttributeError, ValueError):
        return False


class Progress:
    """A counted step: call `update()` per item done (cheap: one clock read), `close()` at the
    end (or use it as a context manager).  `extra` adds to every line (e.g. `0 errors`)."""

    def __init__(self, label: str, total: int, *, unit: str = "items",
                 every_s: float | None = None, clock: Callable[[], float] | None = None,
                 bar: bool | None = None, stream: Any = None,
                 emit: Callable[..., None] | None = None,
                 extra: Callable[[], str] | None = None) -> None:
        from runner.shared.logs import job_prefix

        self.label, self.total, self.unit, self.n = label, total, unit, 0
        self.every_s = STATUS_EVERY_S if every_s is None else every_s
        self._clock = clock or CLOCK
        self._emit = emit or status_line
        self._extra = extra
        self._stream = sys.stderr if stream is None else stream
        self.started = self._last_line = self._clock()
        self._bar: Any = None
        if use_bar(self._stream) if bar is None else bar:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=job_prefix() + label, unit=unit.rstrip("s") or "it",
                             file=self._stream, leave=False, dynamic_ncols=True,
                             mininterval=BAR_EVERY_S)
        self._due = self.started + (BAR_EVERY_S if self._bar is not None else self.every_s)
        self._closed = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self.close(final=kind is None)  # after an error, that error is the last word

    def update(self, n: int = 1) -> None:
        self.n += n
        now = self._clock()
        if now >= self._due:
            self._tick(now)

    def _tick(self, now: float) -> None:
        if self._bar is not None:
            self._bar.update(self.n - self._bar.n)
            self._due = now + BAR_EVERY_S
            if now - self._last_line < self.every_s:
                return
        self._last_line = now
        if self._bar is None:
            self._due = now + self.every_s
        # With the bar on the terminal, run.log still gets the periodic line.
        self._emit(self.line(now), console=self._bar is None)

    def _rate(self, now: float) -> str:
        elapsed = now - self.started
        return f"{number(self.n / elapsed if elapsed > 0 else 0.0)} {self.unit}/s"

    def _suffix(self) -> str:
        return f", {self._extra()}" if self._extra is not None else ""

    def line(self, now: float | None = None) -> str:
        """The periodic status line."""
        now = self._clock() if now is None else now
        pct = f" ({100 * self.n // self.total}%)" if self.total else ""  # 100% only when done
        return (f"{self.label}: {self.n:,}/{self.total:,}{pct}, {self._rate(now)}, "
                f"{now - self.started:.1f} s elapsed{self._suffix()}")

    def final_line(self, now: float | None = None) -> str:
        now = self._clock() if now is None else now
        how = "done" if self.n >= self.total else "stopped"
        return (f"{self.label}: {self.n:,}/{self.total:,} {how} in {now - self.started:.1f} s "
                f"({self._rate(now)}){self._suffix()}")

    def close(self, *, final: bool = True) -> None:
        """Clear the bar and print the last line (once; nothing when there was nothing to do)."""
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
        if final and self.total > 0:
            self._emit(self.final_line())


class Steps:
    """Steps one after another, named only when the console would otherwise stay quiet:
    `step(label)` starts a step; a watcher thread (started with the first step) names the step
    under way after `quiet_s` of silence and again every `every_s` while it lasts.  Use it as a
    context manager so the watcher stops with the work, also on an error."""

    def __init__(self, *, quiet_s: float | None = None, every_s: float | None = None,
                 clock: Callable[[], float] | None = None,
                 emit: Callable[[str], None] | None = None, watch: bool = True) -> None:
        self.quiet_s = QUIET_S if quiet_s is None else quiet_s
        self.every_s = STATUS_EVERY_S if every_s is None else every_s
        self._clock = clock or CLOCK
        self._emit = emit or status_line
        self._watch = watch
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.label: str | None = None
        self._since = self._last = 0.0
        self._named = False

    def __enter__(self) -> Steps:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __call__(self, label: str) -> None:
        with self._lock:
            now = self._clock()
            if self.label is None:  # the watch starts with the first step
                self._last = now
            self.label, self._since, self._named = label, now, False
        if self._watch and self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(target=self._run, name="steps", daemon=True)
            self._thread.start()
        self.poll()

    def _run(self) -> None:
        while not self._stop.wait(TICK_S):
            self.poll()

    def poll(self) -> str | None:
        """Name the step under way if the console has been quiet long enough; returns the line."""
        with self._lock:
            if self.label is None or self._stop.is_set():
                return None
            now = self._clock()
            quiet = now - self._last
            if not self._named and quiet >= self.quiet_s:
                text = f"{self.label}…"
            elif self._named and quiet >= self.every_s:
                text = f"{self.label}… ({now - self._since:.1f} s)"
            else:
                return None
            self._named, self._last = True, now
        self._emit(text)
        return text

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()


def no_step(label: str) -> None:
    """A `Steps` stand-in that names nothing."""
