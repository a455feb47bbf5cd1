"""SIGINT/SIGTERM for the whole process: one stop request, from the first line to the last file.

Why process-wide and installed first thing (runner/__main__.py), never restored: a signal can
land anywhere — while Hydra composes, in the load phase, inside a polars call, after the last
phase while result.json is being written.  Python's default SIGINT handler raises
KeyboardInterrupt wherever the main thread happens to be, and a handler that logs can raise too
(loguru's "deadlock avoided" when the main thread was inside a log call); either way result.json
is never written, or a journal chunk that was written but not yet counted is written twice.

So the handler only records the signal in plain attributes and writes one byte to a
non-blocking pipe: it takes no lock, logs nothing and never raises.  The wake-up also goes
through `signal.set_wakeup_fd` (CPython writes the signal number to that pipe at C level, even
while the main thread is busy in native code).  A watcher thread reads the pipe,
sets `STOP` (an Event takes a lock, which a handler must not: it may have interrupted the main
thread while it held that very lock), writes one line to fd 2 and runs the hooks (a sweep
forwards the signal to its worker processes).  Everything else polls between steps: the executor
and the phases read `STOP` (ctx.stop, ctx.cancelled), a job checks `requested()` before it
starts, and `exit_code()` turns the first signal into the exit code (130 / 143).

`reclaim()` puts the handlers back in front after importing polars: polars (since early 2025,
pola-rs/polars#20961) registers a native SIGINT hook on import that turns Ctrl-C into
KeyboardInterrupt inside whatever polars call is running, in any thread (a report phase failing,
a journal flush torn and written again).  `finish()` ends the handling when the process exits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator

from runner.shared.errors import EXIT_SIGINT, EXIT_SIGTERM

STOP = threading.Event()  # set (by the watcher thread) once a stop was requested
SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))
# What the announcement says happens next; see stage().
IDLE = "exiting: no run is in progress and none will start"

_first: int | None = None  # the first signal received: it decides the exit code
_count = 0  # signals received so far (by the handler)
_pid: int | None = None  # the process the handlers and the watcher were installed in
_wake = -1  # write end of the watcher's pipe
_announce = True  # worker processes of a sweep stay quiet: the launching process speaks
_stages = [IDLE]  # outermost first; the line says the innermost, then the outer ones
_hooks: list[Callable[[int], None]] = []
_fired: int | None = None  # the signal the watcher acted on (hooks, first line)
_said_again = False
_lock = threading.Lock()  # hooks vs. the watcher; never taken by the handler


def _handle(signum: int, _frame: object) -> None:
    """The handler: attribute writes and one non-blocking os.write (the wake-up fd may have been
    taken over, e.g. by an asyncio loop, or be unsupported: Windows)."""
    global _first, _count
    _count += 1
    if _first is None:
        _first = signum
    with contextlib.suppress(OSError):  # pipe full: a wake-up is pending anyway
        os.write(_wake, bytes([signum]))


def install(*, announce: bool = True) -> bool:
    """Install the handlers and start the watcher (main thread only; once per process).

    Returns False where Python does not allow signal handlers (a non-main thread)."""
    global _pid, _wake, _announce
    if _pid == os.getpid():
        return True
    if threading.current_thread() is not threading.main_thread():
        return False
    read_end, _wake = os.pipe()
    with contextlib.suppress(AttributeError, OSError, ValueError):  # Windows: the handler wakes
        os.set_blocking(_wake, False)
        signal.set_wakeup_fd(_wake, warn_on_full_buffer=False)
    _announce = announce
    threading.Thread(target=_watch, args=(read_end,), name="signal-watcher", daemon=True).start()
    _pid = os.getpid()
    reclaim()
    return True


def reclaim() -> None:
    """Put the handlers back in front of any a native library registered since (polars does on
    import).  Main thread of the installing process only; two syscalls."""
    if _pid == os.getpid() and threading.current_thread() is threading.main_thread():
        for signum in SIGNALS:
            signal.signal(signum, _handle)


def reclaim_from(*modules: str) -> None:
    """Import `modules` now, on the main thread, then reclaim(): a SIGINT hook they register on
    import (polars) is undone before any of their calls can run."""
    import importlib

    for module in modules:
        importlib.import_module(module)
    reclaim()


def _watch(read_end: int) -> None:
    while True:
        try:
            data = os.read(read_end, 4096)
        except OSError:
            return
        if not data:
            return
        _act(next((b for b in data if b in SIGNALS), None))


def _act(woken_by: int | None) -> None:
    """On the watcher thread: set STOP, say once what happens next, run the hooks once."""
    global _first, _fired, _said_again
    if _first is None and woken_by is not None:  # the handler has not run yet: it will agree
        _first = woken_by
    signum = _first
    if signum is None:
        return
    with _lock:
        first_time = _fired is None
        if first_time:
            _fired = signum
        hooks = list(_hooks) if first_time else []
    STOP.set()
    if first_time and _announce:
        said = [text for text in reversed(list(_stages)) if text != IDLE]
        _say(f"{name(signum)} received: {'; '.join(said) or IDLE}")
    elif _count >= 2 and _announce and not _said_again:
        _said_again = True
        _say(f"{name(signum)} received again: already stopping, the run still ends cleanly "
             "(kill -9 would lose result.json)")
    for hook in hooks:
        with contextlib.suppress(Exception):  # a hook's failure must not stop the watcher
            hook(signum)


def _say(line: str) -> None:
    with contextlib.suppress(OSError):
        os.write(2, (line + "\n").encode("utf-8", "replace"))


# -- what the rest of the process reads ---------------------------------------------------------


def received() -> int | None:
    """The first signal received (None: none)."""
    return _first


def name(signum: int | None = None) -> str | None:
    """'SIGINT' for the given (default: the first received) signal."""
    signum = _first if signum is None else signum
    if signum is None:
        return None
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def requested() -> bool:
    """A stop was requested (a signal arrived; the watcher may not have set STOP yet)."""
    return _first is not None or STOP.is_set()


def exit_code(default: int) -> int:
    """130 after SIGINT, 143 after SIGTERM; `default` when no stop was requested."""
    if not requested():
        return default
    return EXIT_SIGTERM if _first == getattr(signal, "SIGTERM", None) else EXIT_SIGINT


def finish(default: int) -> int:
    """The process's exit code, once the last file is written; from here on SIGINT/SIGTERM are
    ignored.  Why: Python's finalization puts SIG_DFL back in place of a Python handler (not of
    an ignored signal), so a Ctrl-C while the interpreter shuts down would kill the process with
    -2 after all, instead of the exit code decided here."""
    import sys

    for stream in (sys.stdout, sys.stderr):  # the last output, while signals are still handled
        with contextlib.suppress(Exception):
            stream.flush()
    if _pid == os.getpid() and threading.current_thread() is threading.main_thread():
        for signum in SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
    return exit_code(default)


class Stopped(Exception):
    """Raised by checkpoint(): a command that has nothing to finish (no run) stops right there."""


def checkpoint() -> None:
    """Raise Stopped when a stop was requested; for loops of commands that write nothing until
    the end (`python -m slo`), never inside a run (a run stops between phases, see execute.py)."""
    if requested():
        raise Stopped(name() or "a stop request")


def note(signum: int) -> None:
    """Record a stop request that arrived by other means (a sweep's launcher tells a job in a
    worker process that the sweep is stopping); not for use inside a signal handler."""
    global _first
    if _first is None:
        _first = signum
    STOP.set()


@contextlib.contextmanager
def stage(message: str) -> Iterator[None]:
    """What a signal arriving now leads to, for the one line the watcher prints (inside a
    sweep's stage, both are said: the run's first)."""
    _stages.append(message)
    try:
        yield
    finally:
        _stages.pop()


def set_stage(message: str) -> None:
    """Replace the innermost stage (within stage(); outside it, for the rest of the process)."""
    _stages[-1] = message


@contextlib.contextmanager
def on_stop(hook: Callable[[int], None]) -> Iterator[None]:
    """Run `hook(signum)` on the watcher thread when the first signal arrives, while inside;
    at once when the watcher has acted on one already."""
    with _lock:
        _hooks.append(hook)
        fired = _fired
    try:
        if fired is not None:
            with contextlib.suppress(Exception):
                hook(fired)
        yield
    finally:
        with _lock:
            _hooks.remove(hook)
