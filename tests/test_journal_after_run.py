"""journal_after_run: once metrics.parquet and result.json are written, the journal is compressed
(default), dropped or kept, and every reader still finds the run's events."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from conftest import cli_env

from runner import pipeline
from runner.plan import build_plan
from runner.prune import after_run
from runner.shared.errors import ConfigError
from runner.shared.events import find_journal, open_journal, read_journal
from runner.validate import validate_config
from slo.read import discover, load_events


def run(compose, tmp_path: Path, *overrides: str) -> Path:
    config = compose("phases=smoke", *overrides)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    assert pipeline.execute_run(config, build_plan(config), run_dir) == 0
    return run_dir


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def debug(self, text: str) -> None:
        self.lines.append(("debug", text))

    def warning(self, text: str) -> None:
        self.lines.append(("warning", text))


def test_by_default_the_journal_is_compressed_once_the_run_is_written(compose, tmp_path):
    assert compose()["journal_after_run"] == "compress"
    run_dir = run(compose, tmp_path)
    files = names(run_dir)
    assert "events.jsonl.gz" in files and "events.jsonl" not in files
    assert not [n for n in files if n.endswith(".tmp")]
    assert (run_dir / "events.jsonl.gz").read_bytes()[:2] == b"\x1f\x8b"
    journal = read_journal(run_dir / "events.jsonl.gz")
    metrics = pl.read_parquet(run_dir / "metrics.parquet")
    assert journal.bad_lines == 0 and journal.frame.height == metrics.height > 0
    assert journal.frame.sort("ts").equals(metrics.sort("ts"))
    [source] = discover([run_dir])
    assert (source.parquet.name, source.journal.name) == ("metrics.parquet", "events.jsonl.gz")
    assert "journal_after_run=compress: events.jsonl -> events.jsonl.gz" in (
        run_dir / "run.log").read_text(encoding="utf-8")


def slo_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "slo", *args], cwd=cwd, env=cli_env(),
                          capture_output=True, text=True, timeout=120)


def counts(report: dict) -> dict[str, tuple[int, int]]:
    return {o["name"]: (o["valid"], o["good"]) for o in report["objectives"]}


def test_slo_reads_a_compressed_run_and_its_journal_when_metrics_parquet_is_corrupt(compose,
                                                                                   tmp_path):
    run_dir = run(compose, tmp_path)
    done = slo_cli(f"run_dir={run_dir}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    intact = json.loads((run_dir / "slo_report.json").read_text())
    assert intact["data_quality"]["skipped"] == []
    parquet = run_dir / "metrics.parquet"
    parquet.write_bytes(parquet.read_bytes()[:200])  # cut short, as a full disk would
    done = slo_cli(f"run_dir={run_dir}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    damaged = json.loads((run_dir / "slo_report.json").read_text())
    [skipped] = damaged["data_quality"]["skipped"]
    assert skipped["path"].endswith("metrics.parquet")
    assert skipped["reason"].endswith("; read its events.jsonl.gz instead")
    assert counts(damaged) == counts(intact)
    assert counts(intact)["api_response_time"][0] > 0


def test_drop_removes_the_journal_and_the_run_is_read_from_metrics_parquet(compose, tmp_path):
    run_dir = run(compose, tmp_path, "journal_after_run=drop")
    assert find_journal(run_dir) is None
    assert {"metrics.parquet", "result.json"} <= names(run_dir)
    [source] = discover([run_dir])
    assert source.journal is None
    data = load_events([source], None, ["kind"])
    assert data.frame.collect().height == pl.read_parquet(run_dir / "metrics.parquet").height


def test_keep_leaves_the_journal_as_it_was(compose, tmp_path):
    run_dir = run(compose, tmp_path, "journal_after_run=keep")
    assert "events.jsonl" in names(run_dir) and "events.jsonl.gz" not in names(run_dir)
    assert read_journal(run_dir / "events.jsonl").frame.height == pl.read_parquet(
        run_dir / "metrics.parquet").height


def test_an_unknown_mode_is_refused_with_the_allowed_ones(compose):
    with pytest.raises(ConfigError) as caught:
        validate_config(compose("journal_after_run=zip"))
    assert caught.value.problems == [
        "journal_after_run: 'zip' is not allowed; allowed: one of keep, compress (to "
        "events.jsonl.gz), drop: what becomes of events.jsonl once metrics.parquet and "
        "result.json are written"]


# -- only when the run is safely written ---------------------------------------------------------


@pytest.fixture
def written(compose, tmp_path) -> Path:
    """A finished run whose journal was kept, to apply after_run to by hand."""
    return run(compose, tmp_path, "journal_after_run=keep")


@pytest.mark.parametrize(("damage", "reason"), [
    (lambda d: (d / "metrics.parquet").unlink(), "no metrics.parquet"),
    (lambda d: (d / "metrics.parquet").write_bytes(b"PAR1 not really"),
     "metrics.parquet cannot be read"),
    (lambda d: (d / "result.json").unlink(), "no readable result.json of a finished run"),
    (lambda d: (d / "result.json").write_text("{not json"), "no readable result.json"),
    (lambda d: (d / "result.json").write_text('{"status": "running"}'), "no readable result.json"),
    (lambda d: (d / "events.jsonl").open("a").write('{"extra": "line"}\n'),
     "the journal has"),
])
@pytest.mark.parametrize("mode", ["compress", "drop"])
def test_a_journal_the_written_files_do_not_cover_stays(written, damage, reason, mode):
    damage(written)
    before = (written / "events.jsonl").read_bytes()
    log = Log()
    after_run(written, mode, log)
    [(level, text)] = log.lines
    assert level == "warning" and text.startswith(f"journal_after_run={mode}: events.jsonl kept: ")
    assert reason in text
    assert (written / "events.jsonl").read_bytes() == before
    assert "events.jsonl.gz" not in names(written)
    assert not [n for n in names(written) if n.endswith(".tmp")]


def test_after_run_with_keep_or_without_a_journal_does_nothing(written):
    log = Log()
    after_run(written, "keep", log)
    (written / "events.jsonl").unlink()
    after_run(written, "compress", log)
    assert log.lines == [] and find_journal(written) is None


# -- reading compressed journals ------------------------------------------------------------------


def test_a_compressed_journal_cut_short_gives_the_events_before_the_cut(written):
    plain = (written / "events.jsonl").read_bytes()
    packed = gzip.compress(plain)
    (written / "events.jsonl").unlink()
    (written / "events.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    read = read_journal(written / "events.jsonl.gz")
    assert 0 < read.frame.height < plain.count(b"\n")
    assert read.bad_lines >= 1
    assert "the compressed journal ends early or is damaged (EOFError" in read.first_errors[-1]


def test_the_plain_journal_wins_while_both_exist(written):
    """A compression cut short between its rename and the unlink leaves both: the plain one is
    the whole journal."""
    (written / "events.jsonl.gz").write_bytes(gzip.compress(b""))
    assert find_journal(written).name == "events.jsonl"
    [source] = discover([written])
    assert source.journal.name == "events.jsonl"
    with open_journal(written / "events.jsonl.gz") as empty:
        assert empty.read() == ""


def test_a_run_folder_with_only_a_compressed_journal_is_found_and_read(written, tmp_path):
    after_run(written, "compress", Log())
    height = pl.read_parquet(written / "metrics.parquet").height
    (written / "metrics.parquet").unlink()
    [source] = discover([tmp_path])
    assert (source.parquet, source.journal.name) == (None, "events.jsonl.gz")
    data = load_events([source], None, ["kind"])
    assert data.frame.collect().height == height and data.used == [source.journal]
