"""execute_run: whatever happens inside, the run folder ends complete and readable."""

from __future__ import annotations

import json

from runner import pipeline
from runner.executor import Executor
from runner.plan import build_plan


def test_an_internal_error_still_leaves_result_events_and_a_traceback(compose, tmp_path,
                                                                      monkeypatch, capsys):
    config = compose()

    def explode(self):
        raise RuntimeError("executor bug")

    monkeypatch.setattr(Executor, "run", explode)
    code = pipeline.execute_run(config, build_plan(config), tmp_path)
    assert code == 1
    result = json.loads((tmp_path / "result.json").read_text())
    assert (result["status"], result["exit_code"]) == ("failed", 1)
    assert (tmp_path / "metrics.parquet").exists()
    assert "Traceback" in (tmp_path / "run.log").read_text()
    assert "Traceback" not in capsys.readouterr().err
