"""The configs are found from an installed wheel, where no source tree exists."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from conftest import ROOT, cli_env, only_run_dir


def test_wheel_ships_configs_and_runs_from_anywhere(tmp_path):
    wheels, target, cwd = tmp_path / "wheels", tmp_path / "site", tmp_path / "elsewhere"
    cwd.mkdir()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels),
                    str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "runner/conf/config.yaml" in names and "runner/schemas/event.schema.json" in names
    assert not any(n.startswith("runner/conf/local/") and n.endswith(".yaml") for n in names)
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
