"""Secrets: the registry of secret values and masking (names, `mask`, `redact`, masking streams).

No secret value may reach a log line or a file under outputs/, however it was given
(docs/SAFETY.md).  The pieces, in the order a run meets them:

1. `hydra_secrets.protect_process(argv)` (runner/__main__.py, before Hydra composes): loads
   `./.env` (runner/shared/dotenv_file.py) without overriding variables already set, registers
   the values of secret-named environment variables, moves secret values given on the command
   line (`adapter.api_key=XYZ`) into the environment and hands Hydra
   `adapter.api_key=${oc.env:PXR_SECRET_ADAPTER_API_KEY}` instead, so the value never reaches
   Hydra's `.hydra/` snapshot or `multirun.yaml`, and masks stdout/stderr as a last net.
2. `hydra_secrets.protect_composition()` (also from `protect_process`): every config Hydra
   composes has its secret-named values registered before Hydra can print it (`--cfg`, `--info`,
   `--help`), so a literal written in any config file is masked too.  Then
   `register_config(config)` (runner/pipeline.py) adds the resolved config's.
3. `mask(text)`: every registered value (>= 4 characters) becomes `***`; the log sinks
   (runner/shared/logs.py), result.json, plan.json, orders and error lines go through it.
4. `hydra_secrets.scrub_snapshot(...)` (runner/task.py, before the run starts): rewrites
   `.hydra/*.yaml` and `multirun.yaml` when a secret-named key holds a literal value or a
   registered value appears, replacing it by `***`.

A name is secret when it is (or ends with `_` plus) api_key, api_secret, secret, secret_key,
password, token, passphrase or private_key, in any case, `-` or camelCase (`apiKey`).
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any, TextIO
from urllib.parse import quote

MASK = "***"
# The live confirmation (runner/live_guard.py): never taken from a file, only from the shell.
CONFIRM_VAR = "PXR_LIVE_CONFIRM"
MIN_LENGTH = 4  # shorter values would mask ordinary words; no real key is that short
# Values that are a setting, not a secret, even under a secret name (e.g. FOO_TOKEN=true).
NOT_SECRETS = frozenset({"true", "false", "null", "none", MASK})
_NAMES = r"(?:api[_-]?key|api[_-]?secret|secret(?:[_-]?key)?|password|token|passphrase" \
         r"|private[_-]?key)"
SECRET_NAME = re.compile(rf"^(?:.*[_-])?{_NAMES}$", re.IGNORECASE)
# key=value inside a longer string (hydra.job.override_dirname joins overrides with commas).
OVERRIDE_IN_TEXT = re.compile(
    rf"(?P<head>(?<![\w.])[+~]{{0,2}}(?:[\w-]+\.)*(?:[\w-]*[_-])?{_NAMES}(?:@[\w.:-]*)?=)"
    r"(?P<value>(?!\$\{)[^,\s]+)", re.IGNORECASE)


def is_secret_name(name: object) -> bool:
    """api_key, BINANCE_API_SECRET, apiKey, db-password, token, ... (config keys and env names)."""
    return isinstance(name, str) and SECRET_NAME.match(name) is not None


def _text(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):  # `adapter.secret=12345678` arrives as an int
        return str(value)
    return value if isinstance(value, str) else None


class SecretRegistry:
    """The values to mask.  One compiled alternation, rebuilt when a value is added; `mask` reads
    the current pattern without a lock (an attribute read), so logging threads never wait."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def add(self, value: object) -> bool:
        """Register a value (and its URL- and JSON-escaped forms); True when it is new."""
        text = _text(value)
        if text is None:
            return False
        text = text.strip()
        if (len(text) < MIN_LENGTH or text.lower() in NOT_SECRETS or text in self._values
                or text.startswith("${")):  # an unresolved interpolation is a reference
            return False
        forms = {text, quote(text, safe=""), json.dumps(text)[1:-1]}
        with self._lock:
            self._values |= {f for f in forms if len(f) >= MIN_LENGTH}
            # Longest first, so a value that contains another is masked whole.
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, ordered)))
        return True

    def mask(self, text: str) -> str:
        pattern = self._pattern
        if pattern is None or not text:
            return text
        return pattern.sub(MASK, text)

    def contains(self, text: str) -> bool:
        pattern = self._pattern
        return pattern is not None and pattern.search(text) is not None

    def clear(self) -> None:  # tests
        with self._lock:
            self._values.clear()
            self._pattern = None


REGISTRY = SecretRegistry()


def register(value: object) -> bool:
    """Register one secret value, e.g. a key an adapter obtained outside the config."""
    return REGISTRY.add(value)


def mask(text: str) -> str:
    """`text` with every registered secret value replaced by `***`."""
    return REGISTRY.mask(text)


def contains_secret(text: str) -> bool:
    return REGISTRY.contains(text)


# -- where secrets come from --------------------------------------------------------------------


def register_environ(environ: Mapping[str, str] | None = None) -> int:
    """Register the values of secret-named environment variables; returns how many are new."""
    environ = os.environ if environ is None else environ
    return sum(register(value) for name, value in environ.items() if is_secret_name(name))


def _walk(data: Any) -> Iterable[tuple[Any, Any]]:
    """(key, value) of every mapping entry at any depth, through lists."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(data, (list, tuple)):
        for item in data:
            yield from _walk(item)


def register_config(config: Any) -> int:
    """Register the values of the resolved config's secret-named keys, at any depth."""
    added = 0
    for key, value in _walk(config):
        if is_secret_name(key):
            items = value if isinstance(value, (list, tuple)) else [value]
            added += sum(register(item) for item in items)
    return added


class MaskingStream:
    """A text stream that masks registered secrets in everything written through it."""

    def __init__(self, stream: TextIO, *, owned: bool = False) -> None:
        self.stream = stream
        self._owned = owned

    def write(self, text: str) -> int:
        return self.stream.write(mask(text))

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        try:
            return self.stream.isatty()
        except (AttributeError, ValueError):
            return False

    def stop(self) -> None:  # loguru calls this when the sink is removed
        if self._owned:
            self.stream.close()

    def __getattr__(self, name: str) -> Any:  # encoding, fileno, buffer, ...
        if name == "stream":  # not set yet (a copy being built): no endless recursion
            raise AttributeError(name)
        return getattr(self.stream, name)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        """Launchers (joblib) pickle the task's globals, runner.shared.hydra_cli.COMMAND's stderr
        among them:
        a masked standard stream travels as "that process's own sys.stdout/stderr", as
        cloudpickle does for the plain ones."""
        for name in ("stdout", "stderr"):
            if getattr(sys, name) is self or getattr(sys, f"__{name}__") is self.stream:
                return (_standard_stream, (name,))
        raise TypeError("a MaskingStream over a file cannot be pickled")


def _standard_stream(name: str) -> TextIO:
    return getattr(sys, name)


def install_stream_masks() -> None:
    """Mask sys.stdout and sys.stderr (idempotent): the net under everything printed."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, MaskingStream):
            setattr(sys, name, MaskingStream(stream))


def redact(data: Any) -> Any:
    """A copy of plain data with secret-named keys' values and registered values masked.

    Interpolations (`${oc.env:...}`) are references, not values, and stay; so do nulls.
    """
    if isinstance(data, Mapping):
        out = {}
        for key, value in data.items():
            if is_secret_name(key) and not isinstance(value, (Mapping, list, tuple)):
                hidden = value is None or (isinstance(value, str)
                                           and (value in ("", "???") or value.startswith("${")))
                out[key] = value if hidden or _text(value) is None else MASK
            elif is_secret_name(key) and isinstance(value, (list, tuple)):
                out[key] = [redact(v) if isinstance(v, (Mapping, list, tuple)) else MASK
                            for v in value]
            else:
                out[key] = redact(value)
        return out
    if isinstance(data, (list, tuple)):
        return [redact(item) for item in data]
    if isinstance(data, str):
        return mask(OVERRIDE_IN_TEXT.sub(lambda m: m["head"] + MASK, data))
    return data


# A secret-named YAML key and what follows its colon (the value, or nothing for a nested node).
