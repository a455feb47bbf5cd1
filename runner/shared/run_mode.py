"""Learn Hydra's run mode without composing the config a second time, when nothing can set it.

Why: Hydra 1.3 composes the whole config once in `Hydra.get_mode`, only to read `hydra.mode`,
then composes it again for the run; with conf/ the first composition is ~90 ms, a fifth of a
`plan_only` start.  `hydra.mode` is null unless some config or override sets it (conf/ci/*.yaml
do, selected with `+ci=...`), and `get_mode` returns None for null as for a failed composition;
Hydra then decides from `-m/--multirun` alone, exactly as it would have.

So `install()` wraps `Hydra.get_mode`: it returns None without composing only when a look at
the text of every config in the search path and at the overrides proves that `hydra.mode` stays
null; any doubt, error or unknown case falls back to Hydra's own composition.  `--cfg`, `--info`,
`--help`, `-p` and shell completion never call `get_mode`.  The proof over-approximates what the
composition can reach (tests/test_run_mode.py checks it against Hydra's own answer):

- an override of `hydra`, `hydra.mode`, `hydra.searchpath`, a `_`-key or any `@package`
  placement: doubt;
- reachable: root-level configs, the primary's group, every `hydra*` group, groups named by an
  override's first key segment, and, until nothing changes, every group whose name a reachable
  file mentions as `name:`, `name@` or `name/` (how a defaults list names a group or a path);
- a reachable file that mentions `mode` and may write at the root or under `hydra` (root-level,
  the `hydra` group itself, or any `@package` header), that mentions `searchpath`, or that
  holds `@` outside a comment line: doubt;
- a structured config (ConfigStore) that may place a non-null `mode` there: doubt;
- a search path source other than file:// or pkg://, or more than MAX_FILES files: doubt.

Only Hydra 1.3's `get_mode` is wrapped (pyproject.toml pins `hydra-core<1.4`): what it does is
known there.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

MAX_FILES = 500  # a --config-dir over a large tree: not worth scanning, compose instead
MODE_WORD = re.compile(r"\bmode\b")
# How a file names a group: `name: option`, `name@pkg: option`, `/a/name: option`, `name/option`.
GROUP_MENTION = re.compile(r"(?<![\w-])([\w-]+)['\"]?\s*[:@/]")
COMMENT_LINE = re.compile(r"^\s*#.*$", re.MULTILINE)


def _yaml_files(source: Any) -> Iterator[tuple[str, str]] | None:
    """(group, text) of every YAML file of a file:// or pkg:// source; None for other kinds."""
    scheme = source.scheme()
    if scheme == "file":
        return _walk_dir(source.path)
    if scheme == "pkg":
        from importlib import resources

        return _walk_package(resources.files(source.path), "")
    return None


def _walk_dir(root: str) -> Iterator[tuple[str, str]]:
    for folder, _dirs, files in os.walk(root, followlinks=True):  # as Hydra reads them
        group = os.path.relpath(folder, root).replace(os.sep, "/")
        for name in files:
            if name.endswith((".yaml", ".yml")):
                with open(os.path.join(folder, name), encoding="utf-8") as file:
                    yield ("" if group == "." else group), file.read()


def _walk_package(folder: Any, group: str) -> Iterator[tuple[str, str]]:
    for entry in folder.iterdir():
        if entry.is_dir():
            yield from _walk_package(entry, f"{group}/{entry.name}".lstrip("/"))
        elif entry.name.endswith((".yaml", ".yml")):
            yield group, entry.read_text(encoding="utf-8")


def _override_heads(overrides: Iterable[str]) -> set[str] | None:
    """First key segment of each override (`+ci=pr` -> ci); None when one could set the mode."""
    heads = set()
    for override in overrides:
        key = override.split("=", 1)[0].strip().lstrip("+~")
        path = re.split(r"[./]", key)
        if ("@" in key or not path[0] or path[0].startswith("_")
                or (path[0] == "hydra" and (len(path) == 1 or path[1] in ("mode", "searchpath")))):
            return None
        heads.add(path[0])
    return heads


def _may_set_mode(group: str, text: str) -> bool:
    """Whether this file, once reached, could write `hydra.mode` (or change what is reached)."""
    writes_at_root = group in ("", "hydra") or "@package" in text
    code = COMMENT_LINE.sub("", text)
    return (writes_at_root and MODE_WORD.search(text) is not None) or "searchpath" in text \
        or "@" in code


def _store_may_set_mode() -> bool:
    """Whether a structured config may place a non-null `mode` at the root or under `hydra`."""
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    folders: list[dict[str, Any]] = [ConfigStore.instance().repo]
    while folders:
        for entry in folders.pop().values():
            if isinstance(entry, dict):
                folders.append(entry)
            elif entry.package is not None or (entry.group or "") in ("", "hydra"):
                for key in ("mode", "hydra.mode"):
                    if OmegaConf.select(entry.node, key, default=None) is not None:
                        return True
    return False


def mode_stays_unset(sources: list[Any], config_name: str | None,
                     overrides: list[str]) -> bool:
    """True only when no config Hydra could compose from `sources` sets `hydra.mode`."""
    heads = _override_heads(overrides)
    if heads is None or config_name is None:
        return False
    files: list[tuple[str, str]] = []
    for source in sources:
        if source.scheme() == "structured":
            continue
        found = _yaml_files(source) if source.available() else iter(())
        if found is None:
            return False
        for item in found:
            files.append(item)
            if len(files) > MAX_FILES:
                return False
    if _store_may_set_mode():
        return False
    primary_group = config_name.rpartition("/")[0]

    def reached(group: str) -> bool:
        first = group.split("/")[0]
        return group in ("", primary_group) or first == "hydra" or first in heads

    groups = {group for group, _ in files}
    reachable = {group for group in groups if reached(group)}
    pending = [text for group, text in files if group in reachable]
    while pending:
        named = set(GROUP_MENTION.findall(COMMENT_LINE.sub("", pending.pop())))
        for group in groups - reachable:
            if group.rpartition("/")[2] in named:
                reachable.add(group)
                pending += [text for g, text in files if g == group]
    return not any(_may_set_mode(group, text) for group, text in files if group in reachable)


def install() -> None:
    """Wrap `Hydra.get_mode` (idempotent); see the module docstring for why and when."""
    import hydra
    from hydra._internal.hydra import Hydra

    original = Hydra.get_mode
    if getattr(original, "skips_unset_mode", False) or not hydra.__version__.startswith("1.3."):
        return

    @functools.wraps(original)
    def get_mode(self: Any, config_name: str | None, overrides: list[str]) -> Any:
        try:
            if mode_stays_unset(self.config_loader.get_sources(), config_name, overrides):
                return None
        except Exception:  # anything unexpected: Hydra's own way
            pass
        return original(self, config_name, overrides)

    get_mode.skips_unset_mode = True  # type: ignore[attr-defined]
    Hydra.get_mode = get_mode  # type: ignore[method-assign]
