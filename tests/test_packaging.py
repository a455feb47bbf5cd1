"""The configs are found from an installed wheel, where no source tree exists."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, cli_env, only_run_dir

# A machine's own conf/local/default.yaml (git-ignored) must never ship: one is planted in the
# copy the wheel is built from, with a value that would make the installed runner refuse to run.
LOCAL = "# @package _global_\nseed: -1  # planted by test_packaging: must never be shipped\n"


@pytest.mark.slow
def test_wheel_ships_configs_and_runs_from_anywhere(tmp_path):
    source, wheels = tmp_path / "source", tmp_path / "wheels"
    target, cwd = tmp_path / "site", tmp_path / "elsewhere"
    cwd.mkdir()

    def skip(folder: str, names: list[str]) -> list[str]:  # a real local override stays home
        return [n for n in names if n == "__pycache__"
                or (Path(folder).name == "local" and n.endswith(".yaml"))]

    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}  # conf too
    for name in sorted(packages):  # built from a copy: nothing is written into the tree
        shutil.copytree(ROOT / name, source / name, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    (source / "conf" / "local" / "default.yaml").write_text(LOCAL)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels),
                    str(source)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "runner/conf/config.yaml" in names and "runner/schemas/event.schema.json" in names
    assert "runner/conf/env/live.yaml" in names and "runner/conf/hydra/default.yaml" in names
    assert not [n for n in names if n.startswith("runner/conf/local/")], "conf/local/ shipped"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    env = cli_env()
    env["PYTHONPATH"] = str(target)  # ahead of the editable install of the source tree
    done = subprocess.run([sys.executable, "-m", "runner"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert str(target) in subprocess.run(
        [sys.executable, "-c", "import runner; print(runner.__file__)"], cwd=cwd, env=env,
        capture_output=True, text=True, check=True).stdout
    assert (only_run_dir(cwd) / "result.json").exists()
