"""Numbers a person reads: thousands separators and fixed decimals, never exponent notation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runner.health import HealthResult
from runner.shared.tables import number, truncate
from runner.summary import DETAIL_WIDTH, print_summary
from slo.markdown import fmt

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("value", "text"), [
    (1e8, "100,000,000"), (8894.3, "8,894"), (33_760, "33,760"), (0.25, "0.25"),
    (1.2345, "1.23"), (1.2e-5, "0.000012"), (0.0, "0"), (-3.5, "-3.5"), (None, "-"),
])
def test_number(value, text):
    assert number(value) == text


def test_report_and_health_texts_have_no_exponent():
    assert fmt(8.894e3, suffix=" h") == "8,894 h"
    assert fmt(None) == "–"
    check = HealthResult("disk_space", False, 80225.1, 1e8, "MB", "abort")
    assert check.describe() == "disk_space=80,225.1 MB (threshold 100,000,000 MB)"


def test_summary_cuts_a_long_detail_and_separates_thousands(capsys, tmp_path):
    result = {"phases": [{"name": "market_data", "status": "failed", "attempts": 1,
                          "duration_s": 0.5, "error": "x" * 157}],
              "events": {"total": 33_760, "by_kind": {"api_call": 33_000, "health": 760}},
              "run_id": "r", "status": "failed", "exit_code": 1, "duration_s": 1234.5}
    print_summary(result, tmp_path)
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines() if "market_data" in line) < 120
    assert "x" * (DETAIL_WIDTH - 1) + "…" in out
    assert "33,760 events (api_call 33,000, health 760)" in out and "1,234.50 s" in out
    assert truncate("a  b\nc", 10) == "a b c"


def test_no_exponent_formatting_left_in_user_facing_code():
    pattern = re.compile(r"\{[\w.\[\]'\"()]+:[,_]?\d*(\.\d+)?[gGeE]\}|%\.?\d*[gGeE]\b")
    offenders = [f"{path.relative_to(ROOT)}:{n}" for package in ("runner", "slo")
                 for path in (ROOT / package).rglob("*.py")
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if pattern.search(line) and path.name != "openslo.py"]  # machine-read YAML
    assert offenders == []
