"""`./.env`: exchange keys in a file, loaded before Hydra composes, never over variables already
set, never the live confirmation; a file that is not readable UTF-8 text is one line, exit 2."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

from runner.shared.secrets import CONFIRM_VAR

DOTENV_FIX = "fix: make it a UTF-8 text file of NAME=value lines, or move it away"


def _dotenv_text(path: Path) -> str:
    """The text of a .env file; ConfigError naming the file, the line and the fix when it is not
    readable UTF-8 text.  The file holds secrets: no message quotes its content."""
    from runner.shared.errors import ConfigError

    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror or error}); fix: make it "
                          "readable by this user, or move it away") from None
    if b"\0" in data:
        line = data[:data.index(b"\0")].count(b"\n") + 1
        raise ConfigError(f"{path}: line {line} holds a NUL byte, so this is not a text file; "
                          + DOTENV_FIX)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ConfigError(f"{path}: line {line} is not UTF-8 text (byte "
                          f"0x{data[error.start]:02x}); {DOTENV_FIX}") from None


def load_dotenv(path: Path | str = ".env") -> list[str]:
    """Load `path` (default: ./.env) into os.environ without overriding variables already set.

    PXR_LIVE_CONFIRM is never taken from a file: it must come from the shell, each time.
    Returns the names loaded.  python-dotenv is imported only when the file exists.  A file
    that is not readable UTF-8 text (binary, a NUL byte, no permission) raises ConfigError
    with one line naming it: before Hydra starts nothing else could report it.
    """

    path = Path(path)
    if not path.is_file():
        return []

    from dotenv import dotenv_values

    from runner.shared.errors import ConfigError

    loaded = []
    for name, value in dotenv_values(stream=io.StringIO(_dotenv_text(path))).items():
        if value is None or name in os.environ:
            continue
        if name == CONFIRM_VAR:
            print(f"warning: {path}: {CONFIRM_VAR} is ignored in a .env file; the live "
                  "confirmation must be set in the shell for each command", file=sys.stderr)
            continue
        try:
            os.environ[name] = value
        except ValueError:  # a name the OS refuses (empty, with '=')
            raise ConfigError(f"{path}: {name!r} is not allowed as a variable name; "
                              + DOTENV_FIX) from None
        loaded.append(name)
    return loaded


def load_dotenv_or_exit(path: Path | str = ".env") -> list[str]:
    """`load_dotenv`, or its one `error:` line on stderr and exit 2 (nothing has run yet)."""
    from runner.shared.errors import EXIT_INVALID, ConfigError

    try:
        return load_dotenv(path)
    except ConfigError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        raise SystemExit(EXIT_INVALID) from None
