"""The documented fault sweeps really inject faults: every rate above 0 in the README's sweep
and in the PR sweep (conf/ci/pr.yaml) makes failed attempts at the default seed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from runner import pipeline
from runner.plan import build_plan
from runner.shared.events import find_journal, read_journal

ROOT = Path(__file__).resolve().parents[1]


def readme_rates() -> list[float]:
    found = re.findall(r"python -m runner -m adapter\.faults\.error_rate=([0-9.,]+)",
                       (ROOT / "README.md").read_text(encoding="utf-8"))
    assert found, "the README no longer shows the fault sweep"
    return sorted({float(v) for text in found for v in text.split(",")})


def pr_sweep() -> tuple[list[str], list[float]]:
    params = yaml.safe_load((ROOT / "conf" / "ci" / "pr.yaml").read_text(encoding="utf-8")
                            )["hydra"]["sweeper"]["params"]
    return (str(params["phases"]).split(","),
            [float(v) for v in str(params["adapter.faults.error_rate"]).split(",")])


CASES = ([("standard", "dev", r) for r in readme_rates() if r > 0]
         + [(p, "ci", r) for p in pr_sweep()[0] for r in pr_sweep()[1] if r > 0])


def failed_attempts(run_dir: Path) -> int:
    events = read_journal(find_journal(run_dir)).frame  # events.jsonl.gz once the run is written
    return events.filter(kind="api_call", ok=False).height


def test_the_demos_sweep_a_zero_rate_and_at_least_one_faulty_one():
    assert 0.0 in readme_rates() and len(readme_rates()) >= 2
    assert 0.0 in pr_sweep()[1] and max(pr_sweep()[1]) > 0


@pytest.mark.parametrize(("phases", "env", "rate"), CASES)
def test_a_documented_fault_rate_yields_failed_attempts(compose, tmp_path, phases, env, rate):
    config = compose(f"env={env}", f"phases={phases}", f"adapter.faults.error_rate={rate}")
    pipeline.execute_run(config, build_plan(config), tmp_path)
    assert failed_attempts(tmp_path) > 0, (
        f"phases={phases} env={env} error_rate={rate} injected no fault at seed "
        f"{config['seed']}: the demo would show identical jobs")
