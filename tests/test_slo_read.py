"""slo.read: run folders found at any depth, finished runs from metrics.parquet, crashed runs from
their journal, broken files skipped with a reason — never fatal."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from omegaconf import OmegaConf

from runner.shared.events import JOURNAL_NAME, PARQUET_NAME, polars_schema
from runner.shared.files import write_parquet_atomic
from slo.compute import evaluate
from slo.read import RunSource, discover, load_events
from slo.spec import load_objectives

CONF = Path(__file__).resolve().parents[1] / "conf"

AS_OF = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
MIN = timedelta(minutes=1)
COLUMNS = ["ts", "run_id", "env", "phase", "kind", "name", "ok", "latency_ms"]


def events(run_id: str, start: datetime, n: int, *, bad: int = 0) -> pl.DataFrame:
    """n api_calls one a minute from `start`, the first `bad` failed, plus a heartbeat each."""
    rows: list[dict[str, Any]] = []
    for i in range(n):
        ts = start + i * MIN
        rows.append({"ts": ts, "run_id": run_id, "env": "dev", "phase": "p", "kind": "api_call",
                     "name": "fetch_ticker", "ok": i >= bad, "latency_ms": 100.0,
                     "error": None if i >= bad else "NetworkError", "attempt": 1, "symbol": None})
        rows.append({**rows[-1], "kind": "heartbeat", "name": "alive", "ok": True,
                     "latency_ms": None, "error": None})
    return pl.DataFrame(rows, schema=polars_schema())


def finished(folder: Path, frame: pl.DataFrame) -> Path:
    """A finished run: its journal and its metrics.parquet."""
    folder.mkdir(parents=True)
    frame.write_ndjson(folder / JOURNAL_NAME)
    return write_parquet_atomic(frame, folder / PARQUET_NAME)


def crashed(folder: Path, frame: pl.DataFrame) -> Path:
    """A crashed run: only the journal it flushed."""
    folder.mkdir(parents=True)
    frame.write_ndjson(folder / JOURNAL_NAME)
    return folder / JOURNAL_NAME


def test_discover_finds_run_folders_at_any_depth(tmp_path: Path) -> None:
    a = finished(tmp_path / "runs" / "2026-03-01" / "10-00-00_dev",
                 events("a", AS_OF - 30 * MIN, 3))
    b = crashed(tmp_path / "sweeps" / "2026-03-01" / "11-00-00" / "error_rate=0.05" / "0",
                events("b", AS_OF - 20 * MIN, 3))
    (tmp_path / "runs" / "empty").mkdir()
    (tmp_path / "runs" / "notes.txt").write_text("not a run")
    sources = discover([tmp_path / "runs", tmp_path / "sweeps", tmp_path / "missing"])
    assert [s.path for s in sources] == [a, b]
    assert [s.kind for s in sources] == ["parquet", "journal"]
    assert sources[0].journal == a.parent / JOURNAL_NAME  # kept as a fallback
    # a root may itself be a run folder, and overlapping roots do not double a run
    assert discover([a.parent, tmp_path]) == discover([tmp_path])
    assert discover([]) == []


def test_finished_and_crashed_runs_read_together(tmp_path: Path) -> None:
    finished(tmp_path / "r1", events("r1", AS_OF - 60 * MIN, 10, bad=2))
    crashed(tmp_path / "r2", events("r2", AS_OF - 30 * MIN, 5, bad=1))
    calls: list[tuple[int, int]] = []
    columns = [*COLUMNS, "final"]  # the default error_rate objective reads `final` too
    data = load_events(discover([tmp_path]), None, columns,
                       progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 2), (2, 2)]
    assert [p.name for p in data.used] == [PARQUET_NAME, JOURNAL_NAME]
    assert data.skipped == [] and data.journal_bad_lines == 0
    frame = data.frame.collect()
    assert frame.columns == columns
    assert frame.schema == {c: polars_schema()[c] for c in columns}
    assert frame.group_by("run_id").len().sort("run_id").rows() == [("r1", 20), ("r2", 10)]
    spec = load_objectives(OmegaConf.to_container(OmegaConf.load(CONF / "slo" / "default.yaml")))
    report = {o["name"]: o for o in evaluate(data.frame, spec, AS_OF)}
    assert (report["error_rate"]["valid"], report["error_rate"]["bad"]) == (15, 3)  # 10+5, 2+1
    # uptime: r1 lives 60..51 min before as_of (10 slices), r2 30..26 min before (5 slices),
    # every minute with a heartbeat: 10 + 5 = 15 expected, 15 good
    assert (report["system_uptime"]["valid"], report["system_uptime"]["good"]) == (15, 15)


def test_since_is_applied_to_parquet_and_journal(tmp_path: Path) -> None:
    finished(tmp_path / "old", events("old", AS_OF - 10 * 24 * 60 * MIN, 5))
    finished(tmp_path / "new", events("new", AS_OF - 10 * MIN, 5))
    crashed(tmp_path / "crash", events("crash", AS_OF - 9 * MIN, 2).vstack(
        events("crash", AS_OF - 9 * 24 * 60 * MIN, 2)))
    data = load_events(discover([tmp_path]), AS_OF - 24 * 60 * MIN, ["ts", "run_id"])
    counts = dict(data.frame.collect().group_by("run_id").len().rows())
    assert counts == {"new": 10, "crash": 4}
    plan = data.frame.explain()
    assert "SELECTION" in plan and "Parquet SCAN" in plan  # pushed into the reader
    assert plan.count("Parquet SCAN") == 1  # all parquet files in one scan


def test_corrupt_and_partial_parquet_are_skipped_with_a_reason(tmp_path: Path) -> None:
    good = finished(tmp_path / "good", events("good", AS_OF - 10 * MIN, 3))
    # not parquet at all, with no journal to fall back to
    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / PARQUET_NAME).write_bytes(b"PAR1 this is not parquet")
    # a partial file (cut in the middle); its journal is read instead
    cut = finished(tmp_path / "cut", events("cut", AS_OF - 20 * MIN, 4))
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    # a parquet with the wrong schema (latency as text)
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    events("wrong", AS_OF - 5 * MIN, 2).with_columns(pl.col("latency_ms").cast(pl.String)
                                                     ).write_parquet(wrong / PARQUET_NAME)
    data = load_events(discover([tmp_path]), None, COLUMNS)
    reasons = {Path(s["path"]).parent.name: s["reason"] for s in data.skipped}
    assert set(reasons) == {"garbage", "cut", "wrong"}
    assert reasons["garbage"].startswith("corrupt or partial parquet")
    assert reasons["cut"].startswith("corrupt or partial parquet")
    assert reasons["cut"].endswith("read its events.jsonl instead")
    assert reasons["wrong"] == "wrong schema: latency_ms is String, expected Float64"
    assert sorted(data.used) == sorted([good, cut.parent / JOURNAL_NAME])
    counts = dict(data.frame.collect().group_by("run_id").len().rows())
    assert counts == {"good": 6, "cut": 8}


def test_truncated_journal_counts_its_bad_lines(tmp_path: Path) -> None:
    journal = crashed(tmp_path / "crash", events("crash", AS_OF - 10 * MIN, 3))
    text = journal.read_text()
    journal.write_text(text + '{"ts": "2026-03-01T11:59:00.000000+00:00", "run_id": "cra')
    with journal.open("a") as out:  # and one line that is JSON but not an event
        out.write('\n{"hello": "world"}\n')
    data = load_events(discover([tmp_path]), None, COLUMNS)
    assert data.journal_bad_lines == 2
    assert data.frame.collect().height == 6  # the 6 complete events survive
    assert data.used == [journal] and data.skipped == []


def test_unreadable_journal_is_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    (folder / JOURNAL_NAME).mkdir(parents=True)  # a folder where the file should be
    source = RunSource(folder=folder, parquet=None, journal=folder / JOURNAL_NAME)
    data = load_events([source], None, COLUMNS)
    assert data.used == [] and data.skipped[0]["reason"].startswith("unreadable journal")
    assert data.frame.collect().height == 0


def test_nothing_to_read_is_an_empty_typed_frame() -> None:
    calls: list[tuple[int, int]] = []
    data = load_events([], None, COLUMNS, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(0, 0)]  # the caller's progress bar is closed
    assert data.frame.collect().schema == {c: polars_schema()[c] for c in COLUMNS}


def test_unknown_column_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown event column"):
        load_events([], None, ["ts", "nope"])
