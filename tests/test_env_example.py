""".env.example lists every environment variable the project reads, each with a comment, and
holds no value: found in the code (os.environ / getenv reads, by literal or by a module-level
constant) and in the configs (`${oc.env:NAME...}`), and checked in both directions."""

from __future__ import annotations

import ast
import fnmatch
import functools
import os
import re
from pathlib import Path

import pytest
from conftest import ROOT

EXAMPLE = ROOT / ".env.example"
PACKAGES = ("runner", "slo", "adapters")  # the shipped code (benchmarks/ and tests/ are tools)
# Read with a name built at run time, never from the user: the runner sets them itself.
SET_BY_THE_PROCESS = ("PXR_SECRET_",)  # secret command-line overrides (runner/shared/hydra_secrets)
OC_ENV = re.compile(r"\$\{oc\.env:([A-Za-z_][A-Za-z0-9_]*)")
# `NAME=value`, or `# NAME=value` for an entry kept commented out (with its reason).
ENTRY = re.compile(r"^(?P<off>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


def python_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def string_constants(files: list[Path]) -> dict[str, str]:
    """Module-level `NAME = "text"` of all files (constants such as CONFIRM_VAR)."""
    found: dict[str, str] = {}
    for path in files:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = node.value.value
    return found


def _name_of(node: ast.AST, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)  # a loop variable (the .env loader's names) is no name
    return None


def read_in_code() -> dict[str, str]:
    """Variable -> where: every os.environ / getenv read of a known name in the shipped code."""
    files = python_files()
    constants = string_constants(files)
    found: dict[str, str] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            key = None
            if isinstance(node, ast.Call) and node.args:
                func = ast.unparse(node.func)
                if func.endswith("getenv") or (func.endswith((".get", ".pop"))
                                              and "environ" in func):
                    key = node.args[0]
            elif (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
                  and "environ" in ast.unparse(node.value)):
                key = node.slice
            elif (isinstance(node, ast.Compare) and isinstance(node.ops[0], (ast.In, ast.NotIn))
                  and "environ" in ast.unparse(node.comparators[0])):
                key = node.left
            name = _name_of(key, constants) if key is not None else None
            if name:
                found.setdefault(name, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def read_in_configs() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((ROOT / "conf").rglob("*.yaml")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for name in OC_ENV.findall(line):
                if not name.startswith(SET_BY_THE_PROCESS):
                    found.setdefault(name, f"{path.relative_to(ROOT)}:{n}")
    return found


@functools.cache
def read_by_the_project() -> dict[str, str]:
    return {**read_in_code(), **read_in_configs()}  # cached: callers must not change it


def example_entries() -> list[tuple[int, re.Match[str]]]:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    return [(n, m) for n, line in enumerate(lines) if (m := ENTRY.match(line))]


def test_the_scan_finds_the_known_reads():
    """A broken scan would pass the next test vacuously."""
    found = read_by_the_project()
    assert {"PXR_LIVE_CONFIRM", "HYDRA_FULL_ERROR", "BINANCE_API_KEY",
            "BINANCE_TESTNET_API_SECRET", "RAY_ADDRESS"} <= set(found), found


def test_every_variable_the_project_reads_is_listed():
    listed = {m["name"] for _, m in example_entries()}
    missing = {name: where for name, where in read_by_the_project().items()
               if name not in listed}
    assert missing == {}, f"add these to .env.example, each with a comment: {missing}"


def test_every_listed_variable_is_read_by_the_project():
    read = read_by_the_project()
    assert [m["name"] for _, m in example_entries() if m["name"] not in read] == []


def test_no_value_and_a_comment_for_each():
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    entries = example_entries()
    assert entries
    assert [m.group(0) for _, m in entries if m["value"] != ""] == [], "values must stay empty"
    assert [m["name"] for n, m in entries if n == 0 or not lines[n - 1].startswith("#")
            or ENTRY.match(lines[n - 1])] == [], "each variable needs a comment line above it"
    names = [m["name"] for _, m in entries]
    assert len(names) == len(set(names))
    # every other line is a comment or blank: nothing python-dotenv would read as a value
    other = [line for n, line in enumerate(lines)
             if line.strip() and not line.startswith("#") and n not in dict(entries)]
    assert other == []


def test_python_dotenv_reads_only_empty_values():
    from dotenv import dotenv_values

    values = dotenv_values(EXAMPLE)
    assert values and set(values.values()) == {""}


def test_copied_to_dotenv_it_loads_quietly(monkeypatch, capsys, tmp_path):
    """`cp .env.example .env` then `python -m runner`: no warning (the live confirmation is
    commented out), only empty values, and nothing a shell variable already holds is changed."""
    from runner.shared.dotenv_file import load_dotenv

    for _, m in example_entries():  # set then delete: monkeypatch restores the original state
        monkeypatch.setenv(m["name"], "placeholder")
        monkeypatch.delenv(m["name"])
    monkeypatch.setenv("BINANCE_API_KEY", "from-the-shell")
    (tmp_path / ".env").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    loaded = load_dotenv(tmp_path / ".env")
    assert capsys.readouterr().err == ""
    assert loaded and "BINANCE_API_KEY" not in loaded and "PXR_LIVE_CONFIRM" not in loaded
    assert {os.environ[name] for name in loaded} == {""}
    assert os.environ["BINANCE_API_KEY"] == "from-the-shell"


def _ignored(path: str, patterns: list[str]) -> bool:
    """A .gitignore's verdict for a file at the root (last matching pattern wins)."""
    verdict = False
    for raw in patterns:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").lstrip("/").rstrip("/")
        if fnmatch.fnmatchcase(path, pattern):
            verdict = not negate
    return verdict


@pytest.mark.parametrize(("path", "ignored"), [(".env", True), (".env.example", False)])
def test_gitignore_keeps_dotenv_out_and_the_example_in(path, ignored):
    patterns = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert _ignored(path, patterns) is ignored
