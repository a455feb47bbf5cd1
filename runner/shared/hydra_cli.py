"""What every Hydra command of this project shares: where the configs are, one-line errors, and
the project's exit codes (`python -m runner`, `python -m slo`).

Hydra exits 1 by itself when composition fails (unknown option, unknown key, bad override); such a
failure happens before the task starts, so it is mapped to exit 2 like every other invalid input,
and Hydra's several-line message is folded into one line (HYDRA_FULL_ERROR=1 shows it all).
Exceptions Hydra does not expect (a config file that is not YAML, not UTF-8 or not readable, a
config group set to null, an OS error) it prints as a whole traceback: those are described from
the exception itself (`failure_line`), naming the file, line and column.  Every line is short:
a 10,000-character key or path is shown by its two ends (`shorten`).
"""

from __future__ import annotations

import io
import os
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runner.shared.errors import EXIT_INVALID, EXIT_OK, ConfigError


def config_path() -> str:
    """conf/ of the source tree when present, else the copy shipped inside the wheel."""
    source = Path(__file__).resolve().parents[2] / "conf"
    return str(source) if (source / "config.yaml").is_file() else "pkg://runner.conf"


def one_line(message: str) -> str:
    """Fold Hydra's composition error into one line: the problem and the options it offers."""
    refused = re.search(r"^\S+: error: (.+)$", message, flags=re.M)
    if message.lstrip().startswith("usage:") and refused:  # argparse: its verdict, not the usage
        return f"error: {refused[1]}; allowed: the flags and overrides --help lists"
    noise = ("Set the environment variable HYDRA_FULL_ERROR", "full_key:", "object_type=")
    head: list[str] = []
    options: list[str] = []
    for raw in message.splitlines():
        line = raw.strip()
        if line.startswith("Config search path:"):
            break
        if not line or line.startswith(noise) or set(line) <= {"^"}:
            continue
        (options if raw.startswith("\t") else head).append(line)
    text = "; ".join(line.rstrip(".") for line in head) or "invalid command line"
    return "error: " + text + (" " + ", ".join(options) if options else "")


# A run of this many characters without a space is shown by its two ends.
LONGEST_WORD = 120
YAML_ALLOWED = ("YAML with spaces (not tabs) for indentation, each key once, brackets and quotes "
                "closed")
TEXT_ALLOWED = "a UTF-8 text file of YAML, without control characters"


def shorten(line: str, limit: int = LONGEST_WORD) -> str:
    """`line` with every run of more than `limit` non-space characters cut to its two ends
    (punctuation after it kept), and its length said."""
    keep = limit // 2 - 2

    def cut(found: re.Match[str]) -> str:
        word = found[0].rstrip(":;,.)'\"")
        return f"{word[:keep]}...{word[-keep:]} ({len(word)} characters){found[0][len(word):]}"

    return re.sub(rf"\S{{{limit + 1},}}", cut, line)


def _frame_local(exc: BaseException, pick: Callable[[str, dict[str, Any]], Any]) -> Any:
    """The innermost non-None `pick(function name, locals)` along the exception's traceback."""
    found = None
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        with_value = pick(frame.f_code.co_name, frame.f_locals)
        found = with_value if with_value is not None else found
    return found


def _config_file(exc: BaseException) -> str | None:
    """The config file Hydra was reading when `exc` was raised (its config sources' locals)."""
    def pick(function: str, names: dict[str, Any]) -> Any:
        if function == "load_config" and isinstance(names.get("full_path"), str):
            return names["full_path"]  # FileConfigSource
        if function == "_read_config" and names.get("res") is not None:
            return str(names["res"])  # ImportlibResourcesConfigSource (pkg://)
        return None

    path = _frame_local(exc, pick)
    return None if path is None else _shown(path)


def _shown(path: str) -> str:
    """`path` relative to the working directory when it lies inside it."""
    relative = os.path.relpath(path) if os.path.isabs(path) else path
    return path if relative.startswith("..") else relative


def _group_value(exc: BaseException, argv: list[str]) -> str | None:
    """`group=null` (or `group=5`) on the command line: Hydra's ValueError names neither the
    group nor its options; the config repository in the traceback knows them."""
    repo = _frame_local(exc, lambda _, names: names.get("repo")
                        if hasattr(names.get("repo"), "get_group_options") else None)
    if repo is None:
        return None
    for arg in argv:
        found = re.fullmatch(r"\+{0,2}([\w/.-]+)(?:@[\w.]*)?=(.*)", arg)
        if not found or not repo.group_exists(found[1]):
            continue
        options = repo.get_group_options(found[1])
        if found[2] not in options:
            allowed = ("one of " + ", ".join(options)) if options else "an option of this group"
            return f"{found[1]}: {found[2] or 'null'} is not allowed; allowed: {allowed}"
    return None


def failure_line(exc: BaseException, argv: list[str]) -> str:
    """One `error:` line for an exception Hydra would print with its traceback."""
    import yaml

    source = _config_file(exc)
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        name = source or (mark.name if mark else "config")
        problem = exc.problem or exc.context or "not valid YAML"
        context = f" ({exc.context})" if exc.problem and exc.context else ""
        return f"error: {name}: {where}{problem}{context}; allowed: {YAML_ALLOWED}"
    if isinstance(exc, yaml.YAMLError):  # ReaderError: characters YAML does not take
        name = source or getattr(exc, "name", None) or "config"
        offset = getattr(exc, "position", None)
        where = f"offset {offset}: " if offset is not None else ""
        return f"error: {name}: {where}{first}; allowed: {TEXT_ALLOWED}"
    if isinstance(exc, UnicodeDecodeError):
        return (f"error: {source or 'config'}: offset {exc.start}: byte "
                f"0x{exc.object[exc.start]:02x} is not UTF-8 ({exc.reason}); "
                f"allowed: {TEXT_ALLOWED}")
    if isinstance(exc, OSError):
        path = _shown(str(exc.filename)) if exc.filename is not None else source
        keys = [arg.split("=", 1)[0].lstrip("+~") for arg in argv if "=" in arg]
        key = next((k for k in keys if path and os.path.basename(path) in (k, f"{k}.yaml")),
                   None)
        if key is not None:  # Hydra looked for a config group of that name
            return (f"error: {key}: not a key or config group of this config "
                    f"({exc.strerror or first}); allowed: a key shown by --cfg job")
        return (f"error: {path or 'config'}: cannot be read ({exc.strerror or first}); "
                "allowed: a config file this user can read")
    if type(exc).__name__ == "ArgumentError":  # argparse's, e.g. --cfg nope
        return f"error: {first}; allowed: the flags and overrides --help lists"
    if isinstance(exc, ValueError) and first.startswith("Config group override must be"):
        line = _group_value(exc, argv)
        if line:
            return f"error: {line}"
    where = f"{source}: " if source else ""
    return f"error: {where}{type(exc).__name__}: {first} (HYDRA_FULL_ERROR=1 shows the traceback)"


# The pyproject.toml extra that installs each launcher: Hydra's "could not load/find" names the
# config, never the package, so a newcomer sees the error without the way out.
LAUNCHER_EXTRAS = {"joblib": "joblib", "ray_cluster": "ray", "ray": "ray", "ray_aws": "ray",
                   "slurm": "slurm", "submitit_slurm": "slurm", "submitit_local": "slurm"}


def launcher_hint(line: str) -> str:
    """`line` with the install command appended when it says a launcher plugin is missing."""
    found = re.search(r"Could not (?:load|find) 'hydra/launcher/(\w+)'", line)
    extra = LAUNCHER_EXTRAS.get(found[1]) if found else None
    if extra is None:
        return line
    return f'{line}; fix: pip install -e ".[{extra}]" (the launcher plugin is not installed)'


# Hydra's default sweeper: it expands lists, range() and choice(), and raises on interval().
BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


def unsupported_sweep(config: Any) -> str | None:
    """Why the configured sweeper cannot take the sweep overrides, or None.

    BasicSweeper raises on interval() only once the sweep has begun, as a traceback and exit 1;
    checked in on_multirun_start it is one line and exit 2 like any other invalid input.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    if config.hydra.sweeper.get("_target_") != BASIC_SWEEPER:
        return None
    overrides = OverridesParser.create().parse_overrides(list(config.hydra.overrides.task))
    for override in overrides:
        if override.is_sweep_override() and not override.is_discrete_sweep():
            return (f"{override.input_line}: interval() needs a sweeper that samples it, e.g. "
                    "hydra/sweeper=optuna or ax (its plugin installed); allowed with the basic "
                    "sweeper: a list a,b,c, range(start,stop,step) or choice(a,b,c)")
    return None


def worst(codes: list[int]) -> int:
    """Several jobs' exit code: interrupted > invalid > failed > SLO breach > ok."""
    for code in (143, 130, 2, 1, 3):
        if code in codes:
            return code
    return EXIT_OK


class HydraCommand:  # one per process: COMMAND below
    """Runs a `@hydra.main` function and turns what happened into the project's exit code.

    The task function calls `started()` first thing, then returns its exit code to `finished()`.
    """

    def __init__(self) -> None:
        self.has_started = False
        self.codes: list[int] = []
        self._held = io.StringIO()  # Hydra's stderr until the first job starts
        self._stderr = sys.stderr

    def started(self) -> None:
        self.has_started = True
        self._release()

    def finished(self, code: int) -> int:
        self.codes.append(code)
        return code

    def _failure(self, exc: SystemExit) -> str:
        """The one line for a composition failure: Hydra's own message folded, or, when Hydra
        printed a traceback, the exception it exited on (the SystemExit's context)."""
        from runner.shared.secrets import mask

        line = one_line(self._held.getvalue())
        try:
            from hydra.errors import CompactHydraException

            cause = exc.__context__
            if isinstance(cause, Exception) and not isinstance(cause, CompactHydraException):
                line = failure_line(cause, sys.argv[1:])
            elif isinstance(cause, Exception):  # e.g. a bad ${...} in a file: name the file
                source = _config_file(cause)
                if source and source not in line:
                    line = f"error: {source}: {line.removeprefix('error: ')}"
        except Exception:  # describing the failure must never become the failure
            pass
        return shorten(mask(launcher_hint(line)))

    def _release(self) -> None:
        """Give stderr back and pass on whatever Hydra wrote while it was held."""
        if sys.stderr is self._held:
            sys.stderr = self._stderr
            sys.stderr.write(self._held.getvalue())

    def run(self, hydra_main: Callable[[], Any],
            after: Callable[[], list[int]] | None = None) -> int:
        """Call Hydra's entry point; returns the exit code (the caller passes it to sys.exit).

        `after` runs once Hydra has returned (or failed) and may add exit codes, e.g. those of
        sweep jobs that ran in other processes.
        """
        if os.environ.get("HYDRA_FULL_ERROR") != "1":
            sys.stderr = self._held
        try:
            hydra_main()
            code = worst(self.codes)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if code != EXIT_OK and not self.has_started:
                code = EXIT_INVALID
                if sys.stderr is self._held:
                    sys.stderr = self._stderr
                    print(self._failure(exc), file=sys.stderr)
            else:
                code = worst([*self.codes, code])
        except Exception:  # HYDRA_FULL_ERROR=1: Hydra re-raises instead of exiting
            if self.has_started:
                raise
            self._release()
            traceback.print_exc()
            code = EXIT_INVALID
        finally:
            self._release()
        if after is not None and self.has_started:
            code = worst([code, *after()])
        return code


# The command of this process. A sweep's launching process never runs a job itself with
# launchers such as joblib, so runner.callbacks marks it started when the sweep begins.
COMMAND = HydraCommand()


def resolve(cfg: Any) -> dict[str, Any]:
    """The composed config as plain data; an interpolation that cannot resolve is a config error."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None) or "<config>"
        message = str(exc).splitlines()[0]
        raise ConfigError(f"{key}: {message}; set it on the command line or in conf/") from None


def report_config_error(error: ConfigError) -> int:
    from runner.shared.secrets import mask

    for problem in error.problems:
        print(shorten(mask(f"error: {problem}")), file=sys.stderr)
    return EXIT_INVALID
