"""Secrets and Hydra: keep secret values out of what Hydra writes and prints.

Secret command-line overrides are moved into the environment before Hydra sees them
(`protect_argv`), every composed config registers its secret-named values before Hydra can print
it (`protect_composition`), and what still reaches Hydra's snapshot files is scrubbed
(`scrub_snapshot`).  The registry and masking themselves are runner/shared/secrets.py's.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from runner.shared.dotenv_file import load_dotenv_or_exit
from runner.shared.secrets import (
    _NAMES,
    NOT_SECRETS,
    OVERRIDE_IN_TEXT,
    SECRET_NAME,
    install_stream_masks,
    is_secret_name,
    mask,
    redact,
    register,
    register_config,
    register_environ,
)

# One command-line override: prefix (+, ++, ~), dotted key (maybe @package), value.
OVERRIDE = re.compile(
    r"^(?P<prefix>[+~]{0,2})(?P<key>[A-Za-z_][\w.-]*(?:@[\w.:-]*)?)=(?P<value>.*)$", re.DOTALL)
SWEEP_VALUE = re.compile(r"^\w+\(|,")  # choice(...), range(...), glob(...), a,b,c
# A secret-named entry inside a structured override value: `+x={db: {password: abc, ...}}`.
INLINE_SECRET = re.compile(
    rf"(?<![\w-])(?:[\w-]*[_-])?{_NAMES}\s*:\s*"
    r"(?P<value>'[^']*'|\"[^\"]*\"|\[[^\]]*\]|[^,\s{}\[\]]+)", re.IGNORECASE)
ENV_PREFIX = "PXR_SECRET_"


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


def protect_process(argv: list[str]) -> list[str]:
    """Everything before Hydra composes (runner/__main__.py); returns the argv to give Hydra."""
    load_dotenv_or_exit()
    register_environ()
    argv = protect_argv(argv)
    install_stream_masks()
    protect_composition()
    return argv


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
