"""One run, one folder: a run (or sweep) claims its folder atomically before Hydra writes into it.

Hydra 1.3's `run_job` resolves `hydra.run.dir`, creates it with `exist_ok=True` and writes
`.hydra/*.yaml` into it before the task starts, so two runs started in the same second shared one
folder, and a run refused later had already rewritten the other run's snapshot.  `ClaimFolder`
is a Hydra callback: `on_run_start` receives the very config object `run_job` then uses (and
`on_multirun_start` the one the sweeper and launcher are built from).  It resolves the folder
once, claims it by creating it and, in it, `.hydra/` (a sweep root: `multirun.yaml`) with
`os.mkdir` / `O_CREAT|O_EXCL` (atomic: exactly one process can create a name), and writes the
claimed literal back, so every later reader sees the folder this process owns.

Naming (deterministic):
- A name Hydra makes up from the clock (the value contains `${now:...}` and was not given on the
  command line, e.g. the default `outputs/runs/<date>/<HH-MM-SS>_<env>`) is never shared: when it
  is taken, the run gets `<name>-2`, then `-3`, ... (first free one).
- A folder the user chose (any `hydra.run.dir=` / `hydra.sweep.dir=` on the command line, or a
  name without `${now:...}` in a config file) is never renamed: it is created, or claimed when it
  exists and is empty, and refused when it holds anything.

A refusal is one `error:` line and exit 2, before anything is written.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

from hydra.experimental.callback import Callback

from runner.shared.errors import EXIT_INVALID

# Tried after the made-up name itself: <name>-2 ... <name>-MAX_SUFFIX.
MAX_SUFFIX = 999
# Only a made-up (time-stamped) folder name may get a suffix.
CLOCK = "${now:"
# Override values that need no quoting in Hydra's override grammar.
_PLAIN = re.compile(r"[\w./:-]+")


class FolderError(Exception):
    """The folder cannot be claimed; the message is the whole user-facing line after `error:`."""


def claim(path: str, *, numbered: bool, marker: str = ".hydra", marker_is_file: bool = False,
          key: str = "hydra.run.dir") -> str:
    """Claim `path` for this process and return it; with `numbered`, the first free `path-N`.

    Why exclusive: whoever creates `marker` in the folder (Hydra's `.hydra/`, a sweep's
    `multirun.yaml`) owns it, so concurrent runs never share one.  The folder itself is created
    when missing; a chosen one (not `numbered`) that exists and is empty may be claimed, a
    made-up one that exists is skipped.  Raises FolderError (taken, a file in the way, the OS
    refused) before anything is written; parents this call created are removed again.
    """
    candidates = [path, *(f"{path}-{n}" for n in range(2, MAX_SUFFIX + 1))] if numbered else [path]
    for candidate in candidates:
        target = Path(candidate)
        made: list[Path] | None = None
        try:
            made = _make_exclusive(target)
            created = made is not None
            if not created and numbered:
                continue
            if not created and not target.is_dir():
                raise FolderError(f"{key}: {candidate} is a file, not a folder; pass a new folder")
            held = [] if created else sorted(p.name for p in target.iterdir())
            if not held and _make_marker(target / marker, is_file=marker_is_file):
                return candidate
        except OSError as exc:  # e.g. the marker refused: take back what this call made
            for folder in reversed(made or []):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise FolderError(f"{key}: cannot create {candidate}: {_reason(exc)}") from None
        if numbered:
            continue  # another run claimed this name a moment ago
        shown = ", ".join(held[:3]) + (", ..." if len(held) > 3 else "") if held else marker
        raise FolderError(f"{key}: {candidate} already holds {shown}; pass a new folder")
    raise FolderError(f"{key}: {path} and {path}-2 ... -{MAX_SUFFIX} are all taken; "
                      "pass a new folder")


def _make_marker(marker: Path, *, is_file: bool) -> bool:
    """Create `marker` exclusively (the claim itself); False when it exists already."""
    try:
        if is_file:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        else:
            os.mkdir(marker)
    except FileExistsError:
        return False
    return True


def _make_exclusive(target: Path) -> list[Path] | None:
    """os.mkdir(target), parents as needed; the folders it created (outermost first, `target`
    last), or None when the name exists.  Parents this call created are removed again when it
    fails, so a refused run leaves nothing behind."""
    # A parent can vanish (runner.pipeline.discard_unused drops an empty date dir).
    for _ in range(5):
        created = _make_parents(target.parent)
        try:
            os.mkdir(target)
            return [*created, target]
        except FileExistsError:
            return None
        except OSError as exc:
            if isinstance(exc, FileNotFoundError) and not target.parent.is_dir():
                continue  # the parent vanished meanwhile (not /proc, which refuses new names)
            for folder in reversed(created):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise
    raise FileNotFoundError(errno.ENOENT, "a parent folder keeps disappearing", str(target))


def _make_parents(folder: Path) -> list[Path]:
    """Like os.makedirs(exist_ok=True), but returns the folders it created (outermost first)."""
    missing: list[Path] = []
    while not folder.is_dir():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    created: list[Path] = []
    try:
        for parent in reversed(missing):
            try:
                os.mkdir(parent)
                created.append(parent)
            except FileExistsError:
                if not parent.is_dir():
                    raise
    except OSError:
        for parent in reversed(created):
            with contextlib.suppress(OSError):
                parent.rmdir()
        raise
    return created


def _reason(exc: OSError) -> str:
    """The OS's reason in words, naming the path it concerns when that is not the target."""
    reason = exc.strerror or type(exc).__name__
    if isinstance(exc, FileExistsError):
        reason = "a file is in the way"
    elif isinstance(exc, FileNotFoundError) and exc.filename and Path(
            exc.filename).parent.is_dir():  # e.g. /proc: the folder exists, new names do not
        return f"{reason}: {Path(exc.filename).parent} does not take new folders"
    return f"{reason} ({exc.filename})" if exc.filename else reason


def override_value(text: str) -> str:
    """`text` as a value in Hydra's override grammar (quoted when it needs to be)."""
    if _PLAIN.fullmatch(text):
        return text
    body = re.sub(r"(\\+)(?='|$)", lambda m: m[1] * 2, text)  # only these are escapes
    return "'" + body.replace("'", "\\'").replace("${", "\\${") + "'"


def given_on_command_line(config: Any, key: str) -> bool:
    """Whether `key` (e.g. hydra.run.dir) was set by a command-line override."""
    return any(str(o).split("=", 1)[0].lstrip("+~") == key
               for o in config.hydra.overrides.hydra)


def refuse(message: str) -> NoReturn:
    """One `error:` line and exit 2.  A callback's exceptions are turned into warnings by Hydra,
    but SystemExit passes through to runner.shared.hydra_cli.HydraCommand, which maps it to the
    exit code."""
    from runner.shared.hydra_cli import COMMAND
    from runner.shared.hydra_errors import shorten
    from runner.shared.secrets import mask

    COMMAND.started()  # composition succeeded; hand back stderr, then say why nothing runs
    print(shorten(mask(f"error: {message}")), file=sys.stderr)
    raise SystemExit(EXIT_INVALID)


def claim_in_config(config: Any, node: str) -> str:
    """Claim `hydra.<node>.dir` (node: run | sweep) and write the claimed literal back into
    `config`; refuses (exit 2) when it does not resolve or cannot be claimed."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf, open_dict, read_write

    key = f"hydra.{node}.dir"
    raw = OmegaConf.to_container(config.hydra[node], resolve=False).get("dir")
    hydra_config = HydraConfig.instance()
    previous = hydra_config.cfg
    try:
        hydra_config.set_config(config)  # for ${hydra:...} in the name
        value = OmegaConf.select(config, key)
    except Exception as exc:  # Hydra would fail on it too, with a traceback
        refuse(f"{key}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}; "
               "set it on the command line or in conf/")
    finally:
        hydra_config.cfg = previous
    if value is None:
        refuse(f"{key}: missing; set it on the command line or in conf/")
    if not str(value).strip():  # Path("") is the working directory: the run would land in it
        refuse(f"{key}: {str(value)!r} is not allowed; allowed: a folder path such as "
               f"outputs/{node}s/mine (or leave {key} out for the default)")
    numbered = CLOCK in str(raw) and not given_on_command_line(config, key)
    sweep = node == "sweep"
    try:
        claimed = claim(str(value), numbered=numbered, key=key,
                        marker="multirun.yaml" if sweep else config.hydra.output_subdir or ".hydra",
                        marker_is_file=sweep)
    except FolderError as exc:
        refuse(str(exc))
    with read_write(config.hydra), open_dict(config.hydra):
        config.hydra[node].dir = claimed.replace("${", "\\${")
        if sweep and claimed != str(value):
            # Launchers compose each job's config again from hydra.overrides.hydra (in the job's
            # own process with joblib, Ray, SLURM): the claimed root has to be one of them.
            config.hydra.overrides.hydra.append(f"{key}={override_value(claimed)}")
    return claimed


class ClaimFolder(Callback):
    """Claims the run folder / sweep root before Hydra writes anything (listed first in
    conf/hydra/default.yaml, so later callbacks such as RememberSweep see the claimed path)."""

    def on_run_start(self, config: Any, **kwargs: Any) -> None:
        claim_in_config(config, "run")

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        from omegaconf import OmegaConf

        from runner.shared.hydra_cli import unsupported_sweep

        problem = unsupported_sweep(config)  # before a sweep root is claimed: nothing left behind
        if problem:
            refuse(problem)
        subdir = OmegaConf.to_container(config.hydra.sweep, resolve=False).get("subdir")
        if subdir is None or not str(subdir).strip():  # every job would land in the sweep root
            refuse(f"hydra.sweep.subdir: {subdir!r} is not allowed; allowed: a folder name per "
                   "job such as ${hydra.job.num} (or leave hydra.sweep.subdir out for the "
                   "default)")
        claim_in_config(config, "sweep")
