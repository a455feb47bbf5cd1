"""Secrets: `.env` loading, the registry of secret values, masking, and scrubbing Hydra's snapshot.

No secret value may reach a log line or a file under outputs/, however it was given
(docs/SAFETY.md).  The pieces, in the order a run meets them:

1. `protect_process(argv)` (runner/__main__.py, before Hydra composes): loads `./.env` without
   overriding variables already set, registers the values of secret-named environment variables,
   moves secret values given on the command line (`adapter.api_key=XYZ`) into the environment and
   hands Hydra `adapter.api_key=${oc.env:PXR_SECRET_ADAPTER_API_KEY}` instead, so the value never
   reaches Hydra's `.hydra/` snapshot or `multirun.yaml`, and masks stdout/stderr as a last net.
2. `protect_composition()` (also from `protect_process`): every config Hydra composes has its
   secret-named values registered before Hydra can print it (`--cfg`, `--info`, `--help`), so a
   literal written in any config file (conf/local/default.yaml, a `--config-dir`, a searchpath)
   is masked too.  Then `register_config(config)` (runner/pipeline.py) adds the resolved config's.
3. `mask(text)`: every registered value (>= 4 characters) becomes `***`; the log sinks
   (runner/shared/logs.py), result.json, plan.json, orders and error lines go through it.
4. `scrub_snapshot(...)` (runner/task.py, before the run starts): rewrites `.hydra/*.yaml` and
   `multirun.yaml` when a secret-named key holds a literal value (a secret written into a config
   file, a sweep over keys) or a registered value appears, replacing it by `***`.

A name is secret when it is (or ends with `_` plus) api_key, api_secret, secret, secret_key,
password, token, passphrase or private_key, in any case, `-` or camelCase (`apiKey`).
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
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
# One command-line override: prefix (+, ++, ~), dotted key (maybe @package), value.
OVERRIDE = re.compile(
    r"^(?P<prefix>[+~]{0,2})(?P<key>[A-Za-z_][\w.-]*(?:@[\w.:-]*)?)=(?P<value>.*)$", re.DOTALL)
# key=value inside a longer string (hydra.job.override_dirname joins overrides with commas).
OVERRIDE_IN_TEXT = re.compile(
    rf"(?P<head>(?<![\w.])[+~]{{0,2}}(?:[\w-]+\.)*(?:[\w-]*[_-])?{_NAMES}(?:@[\w.:-]*)?=)"
    r"(?P<value>(?!\$\{)[^,\s]+)", re.IGNORECASE)
SWEEP_VALUE = re.compile(r"^\w+\(|,")  # choice(...), range(...), glob(...), a,b,c
# A secret-named entry inside a structured override value: `+x={db: {password: abc, ...}}`.
INLINE_SECRET = re.compile(
    rf"(?<![\w-])(?:[\w-]*[_-])?{_NAMES}\s*:\s*"
    r"(?P<value>'[^']*'|\"[^\"]*\"|\[[^\]]*\]|[^,\s{}\[\]]+)", re.IGNORECASE)
ENV_PREFIX = "PXR_SECRET_"


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
    import io

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


def register_hydra_config(cfg: Any) -> int:
    """`register_config` for a composed DictConfig, resolved when it can be (else as written):
    a secret inside a structured override (`+x={token: ...}`) is known before the scrub."""
    from omegaconf import OmegaConf

    try:
        data = OmegaConf.to_container(cfg, resolve=True)
    except Exception:  # reported by the run's own resolve step; here only the literals matter
        data = OmegaConf.to_container(cfg, resolve=False)
    return register_config(data)


def _secret_leaves(node: Any) -> Iterator[tuple[Any, Any, Any]]:
    """(container, key, raw value) of every secret-named leaf of a composed config, through lists.

    Reads OmegaConf's node tree directly: ~0.3 ms for conf/, against ~1.2 ms for
    `OmegaConf.to_container` (a start composes twice).  A list under a secret name yields its
    items; interpolations stay as written (`${...}`).
    """
    from omegaconf import Container

    content = node._content
    items = content.items() if isinstance(content, dict) else \
        enumerate(content) if isinstance(content, list) else ()
    for key, child in items:
        secret = isinstance(key, str) and SECRET_NAME.match(key) is not None
        if secret and isinstance(child, Container) and isinstance(child._content, list):
            yield from ((child, index, item._value()) for index, item in enumerate(child._content)
                        if not isinstance(item, Container))
        if isinstance(child, Container):
            yield from _secret_leaves(child)
        elif secret:
            yield node, key, child._value()


def register_composed(cfg: Any) -> int:
    """Register the secret-named values of a config Hydra just composed, before anything prints it.

    Literals as written, and interpolations resolved where they can be already (`${oc.env:X}`,
    `${creds.key}`): `--cfg job --resolve` prints them resolved.  Never raises.
    """
    from omegaconf import Container, OmegaConf

    added = 0
    try:
        leaves = list(_secret_leaves(cfg))
    except Exception:  # OmegaConf's internals changed: the public, slower walk
        try:
            return register_hydra_config(cfg)
        except Exception:  # not a config at all: nothing to register, and Hydra goes on
            return 0
    for parent, key, value in leaves:
        if isinstance(value, str) and "${" in value:
            try:
                value = parent[key]
                if isinstance(value, Container):  # resolved to a list or mapping
                    value = OmegaConf.to_container(value, resolve=True)
            except Exception:  # unresolvable yet (`${hydra:...}`, unset variable): not a value
                continue
        if isinstance(value, (Mapping, list)):  # taken whole, as under a secret name
            added += register_config({"secret": value})
        else:
            added += register(value)
    return added


def protect_composition() -> None:
    """Have every config Hydra composes go through `register_composed` first (idempotent).

    Hydra 1.3 prints the composed config for `--cfg`, `--info`, `--help` and exits without
    starting the task, and has no callback between composing and printing: its config loader
    is the one place every route passes (config files, searchpath, `--config-dir`, overrides,
    structured configs, each sweep job).
    """
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    load = ConfigLoaderImpl.load_configuration
    if getattr(load, "registers_secrets", False):
        return

    @functools.wraps(load)
    def load_configuration(self: Any, *args: Any, **kwargs: Any) -> Any:
        cfg = load(self, *args, **kwargs)
        register_composed(cfg)
        return cfg

    load_configuration.registers_secrets = True  # type: ignore[attr-defined]
    ConfigLoaderImpl.load_configuration = load_configuration  # type: ignore[method-assign]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def protect_argv(argv: list[str]) -> list[str]:
    """Register secret values given as overrides and keep them away from Hydra's snapshot.

    `adapter.api_key=XYZ` becomes `adapter.api_key=${oc.env:PXR_SECRET_ADAPTER_API_KEY}` with
    the value in that (process-only) environment variable: Hydra resolves it as usual, but its
    `.hydra/` files and `multirun.yaml` record only the reference.  Sweeps (`a,b`, `choice(...)`)
    and values that already are interpolations are left to Hydra; their values are registered,
    and `scrub_snapshot` removes them from the files; so are secret-named entries of a structured
    value (`+x={token: ...}`).
    """
    out = []
    for arg in argv:
        match = OVERRIDE.match(arg)
        key = match["key"].partition("@")[0] if match else ""
        if not match or arg.startswith("-") or not is_secret_name(key.rsplit(".", 1)[-1]):
            if match and "{" in match["value"]:  # echoed as given if argparse refuses argv
                for inline in INLINE_SECRET.finditer(match["value"]):
                    found = inline["value"]
                    parts = found[1:-1].split(",") if found.startswith("[") else [found]
                    for part in parts:
                        register(_unquote(part.strip()))
            out.append(arg)
            continue
        value = match["value"]
        if not value or value.startswith("${") or value.lower() in NOT_SECRETS:
            out.append(arg)
        elif SWEEP_VALUE.search(value):
            inner = re.sub(r"^\w+\((.*)\)$", r"\1", value, flags=re.DOTALL)
            for part in inner.split(","):
                register(_unquote(part.strip()))
            out.append(arg)
        else:
            secret = _unquote(value)
            register(secret)
            variable = ENV_PREFIX + re.sub(r"\W", "_", key).upper()
            os.environ[variable] = secret
            out.append(f"{match['prefix']}{match['key']}=${{oc.env:{variable}}}")
    return out


# -- where secrets must not go --------------------------------------------------------------------


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


def protect_process(argv: list[str]) -> list[str]:
    """Everything before Hydra composes (runner/__main__.py); returns the argv to give Hydra."""
    load_dotenv_or_exit()
    register_environ()
    argv = protect_argv(argv)
    install_stream_masks()
    protect_composition()
    return argv


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
SECRET_KEY_LINE = re.compile(
    rf"^\s*(?:-\s+)?['\"]?(?:[\w-]*[_-])?{_NAMES}['\"]?\s*:(?P<value>.*)$",
    re.IGNORECASE | re.MULTILINE)
NO_VALUE = ("", "null", "~", "???", "''", '""', "'???'")


def might_hold_secret(text: str) -> bool:
    """A cheap, conservative look before parsing: a registered value, a `key=value` override of
    a secret name, or a secret-named key with a literal (or nested) value."""
    if mask(text) != text or OVERRIDE_IN_TEXT.search(text):
        return True
    for match in SECRET_KEY_LINE.finditer(text):
        value = match["value"].strip()
        if value == "" or not (value in NO_VALUE[1:] or value.lstrip("'\"").startswith("${")):
            return True
    return False


def scrub_yaml(path: Path) -> bool:
    """Rewrite a YAML file Hydra saved (config, hydra, overrides, multirun) without secrets.

    Untouched when it holds none, so ordinary runs keep Hydra's files byte for byte (and pay
    only a text scan: parsing hydra.yaml costs ~30 ms).  Returns whether it was rewritten.
    """
    if not path.is_file() or not might_hold_secret(path.read_text(encoding="utf-8")):
        return False
    from omegaconf import OmegaConf

    data = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    clean = redact(data)
    if clean == data:
        return False
    # A unique name: parallel sweep jobs may scrub the same multirun.yaml at once.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    OmegaConf.save(OmegaConf.create(clean), tmp)
    os.replace(tmp, path)
    return True


def scrub_snapshot(hydra_dir: Path | None, sweep_dir: Path | None = None) -> list[Path]:
    """Scrub `<run>/.hydra/*.yaml` and a sweep root's `multirun.yaml`; returns what changed."""
    files = sorted(hydra_dir.glob("*.yaml")) if hydra_dir is not None and hydra_dir.is_dir() \
        else []
    if sweep_dir is not None:
        files.append(sweep_dir / "multirun.yaml")
    return [path for path in files if scrub_yaml(path)]
