"""Hydra's failures, worded as one line each: what is wrong and how to fix it.

Hydra exits 1 by itself when composition fails (unknown option, unknown key, bad override) and
prints a several-line message; `one_line` folds it.  Exceptions Hydra does not expect (a config
file that is not YAML, not UTF-8 or not readable, a config group set to null, an OS error) it
prints as a whole traceback: `failure_line` describes those from the exception itself, naming
the file, line and column.  Every line is short: a 10,000-character key or path is shown by its
two ends (`shorten`).  Used by runner/shared/hydra_cli.py (the commands' exit codes) and by the
sweep callbacks.
"""

from __future__ import annotations

import os
import re
import traceback
from collections.abc import Callable
from typing import Any


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


def config_file_of(exc: BaseException) -> str | None:
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

    source = config_file_of(exc)
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
