"""`python -m runner.prune`: lists run folders and sweeps, removes only what is selected (and
only with --yes), never a running folder, never anything outside its roots; compresses the
journals of finished runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from conftest import cli_env

from runner import prune
from runner.shared.events import COLUMNS, polars_schema, read_journal
from runner.shared.liveness import hold_while_alive

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
POSIX_LOCKS = pytest.mark.skipif(sys.platform == "win32", reason="flock")


def at(days_ago: float) -> float:
    return (NOW - timedelta(days=days_ago)).timestamp()


def age(path: Path, days_ago: float) -> None:
    """Every file and folder under `path` last changed `days_ago` days before NOW."""
    moment = at(days_ago)
    for folder, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.utime(os.path.join(folder, name), (moment, moment), follow_symlinks=False)
    os.utime(path, (moment, moment))


def make_run(folder: Path, *, env: str = "dev", days_ago: float = 30, status: str | None =
             "succeeded", journal: str | None = "events.jsonl", size: int = 1000) -> Path:
    """A run folder as the runner leaves it: .hydra/, a journal of `size` bytes, result.json
    (status None: a run that never wrote one) ending `days_ago` days before NOW."""
    (folder / ".hydra").mkdir(parents=True)
    if journal:
        (folder / journal).write_bytes(b"x" * size)
    if status:
        ended = (NOW - timedelta(days=days_ago)).isoformat()
        (folder / "result.json").write_text(json.dumps(
            {"status": status, "env": env, "ended_at": ended}), encoding="utf-8")
    age(folder, days_ago)
    return folder


def run_prune(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    """main() in this process: (exit code, stdout, stderr); SystemExit is an exit code."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = prune.main(list(args), now=NOW.timestamp())
            except SystemExit as exc:
                code = exc.code
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


def tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def row(out: str, folder: Path) -> str:
    """The listing's line of `folder` (matched by its last two names)."""
    tail = f"{folder.parent.name}/{folder.name}"
    (line,) = [line for line in out.splitlines() if line.split()[:1] in (["keep"], ["would"],
                                                                        ["remove"])
               and any(word.endswith(tail) for word in line.split())]
    return line


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """outputs/runs with dev runs 30, 20, 10 and 1 days old and ci runs 30 and 20 days old."""
    base = tmp_path / "outputs" / "runs"
    for days, env in ((30, "dev"), (20, "dev"), (10, "dev"), (1, "dev"), (30, "ci"), (20, "ci")):
        day = (NOW - timedelta(days=days)).strftime("%Y-%m-%d")
        make_run(base / day / f"12-00-00_{env}", env=env, days_ago=days)
    return tmp_path


def folders(cwd: Path) -> list[str]:
    return sorted(p.relative_to(cwd / "outputs" / "runs").as_posix()
                  for p in (cwd / "outputs" / "runs").glob("*/*"))


def test_without_a_selection_it_only_lists(runs):
    before = tree(runs)
    code, out, err = run_prune(cwd=runs)
    assert (code, err) == (0, "")
    assert out.splitlines()[0].split() == ["action", "date", "env", "status", "size", "folder",
                                           "note"]
    assert out.count("keep ") == 6 and "remove" not in out
    assert "\n6 folders, " in out and "KiB; select with --older-than AGE" in out
    assert tree(runs) == before


def test_a_dry_run_lists_what_would_go_and_removes_nothing(runs):
    before = tree(runs)
    code, out, _ = run_prune("--older-than", "14d", cwd=runs)
    assert code == 0
    assert out.count("would remove") == 4 + 1  # four rows, and the summary line
    assert "dry run: would remove 4 of 6 folders (" in out and "nothing was removed" in out
    assert "pass --yes" in out
    assert tree(runs) == before


def test_yes_removes_exactly_the_selected_folders_and_empty_date_folders(runs):
    code, out, _ = run_prune("--older-than", "14d", "--yes", cwd=runs)
    assert code == 0, out
    assert "removed 4 of 6 folders, freed" in out
    day = lambda n: (NOW - timedelta(days=n)).strftime("%Y-%m-%d")  # noqa: E731
    assert folders(runs) == sorted([f"{day(10)}/12-00-00_dev", f"{day(1)}/12-00-00_dev"])
    runs_root = runs / "outputs" / "runs"
    assert sorted(p.name for p in runs_root.iterdir()) == sorted([day(10), day(1)])


def test_older_than_goes_by_when_the_run_ended_not_by_file_times(tmp_path):
    run = make_run(tmp_path / "r" / "a", days_ago=30)
    os.utime(run / "events.jsonl")  # touched today (e.g. copied): it still ended 30 days ago
    assert "would remove" in row(run_prune("--older-than", "29d", str(tmp_path / "r"))[1], run)
    assert row(run_prune("--older-than", "31d", str(tmp_path / "r"))[1], run).startswith("keep")
    assert "ended less than 31d ago" in row(run_prune("--older-than", "31d",
                                                      str(tmp_path / "r"))[1], run)


@pytest.mark.parametrize(("text", "seconds"), [("14d", 14 * 86400), ("12h", 43200),
                                               ("30m", 1800), ("45s", 45), ("2w", 1209600),
                                               ("1.5d", 129600), ("0s", 0)])
def test_ages(text, seconds):
    assert prune.parse_age(text) == seconds


def test_keep_last_keeps_the_newest_n_of_each_env(runs):
    code, out, _ = run_prune("--keep-last", "1", "--yes", cwd=runs)
    assert code == 0, out
    day = lambda n: (NOW - timedelta(days=n)).strftime("%Y-%m-%d")  # noqa: E731
    assert folders(runs) == sorted([f"{day(1)}/12-00-00_dev", f"{day(20)}/12-00-00_ci"])


def test_keep_last_with_older_than_removes_only_what_is_both_old_and_not_among_the_newest(runs):
    code, out, _ = run_prune("--older-than", "15d", "--keep-last", "2", "--yes", cwd=runs)
    assert code == 0, out
    day = lambda n: (NOW - timedelta(days=n)).strftime("%Y-%m-%d")  # noqa: E731
    # dev: 30 and 20 days are old, 10 and 1 the newest two: both old ones go.  ci: 30 and 20
    # are old but the only two: both stay.
    assert folders(runs) == sorted([f"{day(10)}/12-00-00_dev", f"{day(1)}/12-00-00_dev",
                                    f"{day(30)}/12-00-00_ci", f"{day(20)}/12-00-00_ci"])


def make_sweep(root: Path, *, days_ago: float, jobs: int = 2, env: str = "ci",
               report: bool = True) -> Path:
    root.mkdir(parents=True)
    (root / "multirun.yaml").write_text("hydra: {}\n")
    if report:
        (root / "sweep_report.json").write_text("{}")
    for job in range(jobs):
        make_run(root / str(job), env=env, days_ago=days_ago)
    age(root, days_ago)
    return root


def test_a_sweep_is_listed_and_removed_as_a_whole_and_counted_apart_from_runs(tmp_path):
    sweeps = tmp_path / "outputs" / "sweeps"
    old = make_sweep(sweeps / "2026-10-01" / "10-00-00", days_ago=54)
    new = make_sweep(sweeps / "2026-11-20" / "10-00-00", days_ago=4)
    run = make_run(tmp_path / "outputs" / "runs" / "2026-10-01" / "09-00-00_ci", env="ci",
                   days_ago=54)
    code, out, _ = run_prune("--keep-last", "1", cwd=tmp_path)
    assert code == 0
    assert "sweep of 2 job(s)" in row(out, old) and "would remove" in row(out, old)
    assert "the newest sweep of env ci" in row(out, new)
    assert "the newest run of env ci" in row(out, run)  # runs and sweeps are counted apart
    assert len(out.splitlines()) == 2 + 3 + 2  # header, rule, one row each, blank, summary
    code, out, _ = run_prune("--keep-last", "1", "--yes", cwd=tmp_path)
    assert code == 0
    assert not old.exists() and not old.parent.exists()
    assert (new / "0" / "result.json").is_file() and run.is_dir()


def test_a_sweep_without_its_report_that_changed_recently_is_never_removed(tmp_path):
    sweeps = tmp_path / "sweeps"
    going = make_sweep(sweeps / "a", days_ago=0.01, report=False)  # between two jobs, say
    code, out, _ = run_prune("--older-than", "0s", "--yes", str(sweeps))
    assert code == 0
    assert "never removed: no sweep_report.json and changed" in row(out, going)
    assert going.is_dir()


@POSIX_LOCKS
@pytest.mark.parametrize("with_result", [False, True])
def test_a_running_folder_is_never_removed(tmp_path, with_result):
    root = tmp_path / "runs"
    live = make_run(root / "d" / "live", days_ago=90, status="succeeded" if with_result else None)
    dead = make_run(root / "d" / "dead", days_ago=90, status=None)
    fd = hold_while_alive(live / "events.jsonl")
    assert fd is not None
    try:
        code, out, _ = run_prune("--older-than", "1d", "--yes", str(root))
        assert code == 0, out
        line = row(out, live)
        assert line.startswith("keep") and " running " in line and "never removed: running" in line
        assert " crashed " in row(out, dead)
        assert live.is_dir() and not dead.exists()
        code, out, _ = run_prune("--keep-last", "1", "--yes", str(root))  # not one of the N
        assert code == 0 and live.is_dir()
    finally:
        os.close(fd)


def test_a_folder_without_result_that_changed_recently_is_kept_then_removable(tmp_path):
    root = tmp_path / "runs"
    fresh = make_run(root / "d" / "fresh", days_ago=0.01, status=None, journal=None)
    (fresh / "plan.json").write_text("{}")  # a run between its plan and its first event
    code, out, _ = run_prune("--older-than", "0s", "--yes", str(root))
    assert "never removed: no result.json and changed" in row(out, fresh) and fresh.is_dir()
    age(fresh, 2)
    code, out, _ = run_prune("--older-than", "1d", "--yes", str(root))
    assert code == 0 and " plan_only " in out and not fresh.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_nothing_outside_the_roots_is_touched_and_symlinks_are_not_followed(tmp_path):
    outside = make_run(tmp_path / "elsewhere" / "run", days_ago=90)
    root = tmp_path / "root"
    inside = make_run(root / "d" / "run", days_ago=90)
    (root / "d" / "link_to_run").symlink_to(outside, target_is_directory=True)
    (root / "link_to_elsewhere").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    code, out, _ = run_prune("--older-than", "1d", "--yes", str(root))
    assert code == 0, out
    assert "link_to" not in out and "removed 1 of 1 folders" in out
    assert not inside.exists() and (outside / "result.json").is_file()
    assert (root / "link_to_elsewhere").is_symlink() and root.is_dir()  # the root stays


def test_a_folder_symlinked_in_after_listing_is_left_alone(tmp_path):
    root = tmp_path / "root"
    run = make_run(root / "run", days_ago=90)
    [entry] = prune.find_entries(root, [])
    entry.root = tmp_path / "other"  # as if it had moved out of its root since
    assert prune.remove(entry) == "outside its root (or a symlink): left alone"
    assert run.is_dir()


@pytest.mark.parametrize(("args", "message"), [
    (["--older-than", "14x"], "error: --older-than: '14x' is not allowed; allowed: a number and "
                              "a unit s, m, h, d or w (e.g. 14d, 12h)"),
    (["--older-than", "d"], "error: --older-than: 'd' is not allowed; allowed: a number and"),
    (["--keep-last", "0"], "error: --keep-last: '0' is not allowed; allowed: a whole number >= 1"),
    (["--keep-last", "two"], "error: --keep-last: 'two' is not allowed"),
    (["--keep-last"], "error: argument --keep-last: expected one argument"),
    (["--frobnicate"], "error: unrecognized arguments: --frobnicate"),
    (["--old", "14d"], "error: unrecognized arguments: --old\n"),  # no abbreviations
    (["no/such/folder"], "error: no/such/folder: no such folder; allowed: a folder holding run "
                         "folders"),
])
def test_bad_arguments_are_one_error_line_and_exit_2(runs, args, message):
    before = tree(runs)
    code, out, err = run_prune(*args, "--yes", cwd=runs)
    assert (code, out) == (2, "")
    assert err.startswith(message) and err.count("\n") == 1, err
    assert tree(runs) == before


def test_the_command_is_a_module_with_one_line_errors(tmp_path):
    done = subprocess.run([sys.executable, "-m", "runner.prune", "--older-than", "14x"],
                          cwd=tmp_path, env=cli_env(), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: --older-than: '14x' is not allowed")
    assert done.stderr.count("\n") == 1
    done = subprocess.run([sys.executable, "-m", "runner.prune"], cwd=tmp_path, env=cli_env(),
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "no run folders under outputs/runs, "
                                                 "outputs/sweeps\n")


# -- --compress-journals ------------------------------------------------------------------------


def finished_run(folder: Path, events: int = 50, *, rows: int | None = None,
                 days_ago: float = 30) -> Path:
    """A finished run with a real journal of `events` events and a metrics.parquet of `rows`
    (default: the same events)."""
    make_run(folder, days_ago=days_ago, journal=None)
    schema = polars_schema()
    frame = pl.DataFrame({
        "ts": [NOW + timedelta(seconds=i) for i in range(events)],
        "run_id": ["r1"] * events, "env": ["dev"] * events, "phase": ["connect"] * events,
        "kind": ["api_call"] * events, "name": ["ping"] * events, "ok": [True] * events,
        "latency_ms": [1.5] * events, "error": [None] * events, "attempt": [1] * events,
        "symbol": [None] * events, "final": [True] * events}, schema=schema).select(COLUMNS)
    frame.write_ndjson(folder / "events.jsonl")
    frame.head(events if rows is None else rows).write_parquet(folder / "metrics.parquet")
    age(folder, days_ago)
    return folder


def test_compress_journals_is_a_dry_run_first_then_gzips_finished_runs_only(tmp_path):
    root = tmp_path / "runs"
    done = finished_run(root / "d" / "done")
    crashed = make_run(root / "d" / "crashed", days_ago=30, status=None)
    before = tree(root)
    code, out, _ = run_prune("--compress-journals", str(root))
    assert code == 0
    assert "would compress  " in out and "dry run: would compress 1 journal(s)" in out
    assert tree(root) == before
    original = read_journal(done / "events.jsonl").frame
    mtime = (done / "events.jsonl").stat().st_mtime_ns
    code, out, _ = run_prune("--compress-journals", "--yes", str(root))
    assert code == 0, out
    assert "compressed 1 journal(s): " in out
    assert sorted(p.name for p in done.iterdir()) == [".hydra", "events.jsonl.gz",
                                                      "metrics.parquet", "result.json"]
    assert (done / "events.jsonl.gz").stat().st_mtime_ns == mtime  # its age is unchanged
    assert read_journal(done / "events.jsonl.gz").frame.equals(original)
    assert (crashed / "events.jsonl").is_file()  # a crashed run's journal is its only record
    code, out, _ = run_prune("--compress-journals", "--yes", str(root))
    assert "compressed 0 journal(s)" in out


def test_compress_journals_keeps_a_journal_that_metrics_parquet_does_not_cover(tmp_path):
    short = finished_run(tmp_path / "runs" / "short", events=50, rows=40)
    code, out, _ = run_prune("--compress-journals", "--yes", str(tmp_path / "runs"))
    assert code == 0
    assert "the journal has 50 lines but metrics.parquet only 40 rows" in out
    assert sorted(p.name for p in short.iterdir()) == [".hydra", "events.jsonl",
                                                       "metrics.parquet", "result.json"]


@POSIX_LOCKS
def test_compress_journals_leaves_a_running_runs_journal_alone(tmp_path):
    run = finished_run(tmp_path / "runs" / "live")
    fd = hold_while_alive(run / "events.jsonl")
    try:
        code, out, _ = run_prune("--compress-journals", "--yes", str(tmp_path / "runs"))
    finally:
        os.close(fd)
    assert code == 0 and "compressed 0 journal(s)" in out and (run / "events.jsonl").is_file()


def test_folders_selected_for_removal_are_not_compressed_first(tmp_path):
    root = tmp_path / "runs"
    old, new = finished_run(root / "old", days_ago=30), finished_run(root / "new", days_ago=2)
    code, out, _ = run_prune("--older-than", "14d", "--compress-journals", "--yes", str(root))
    assert code == 0, out
    assert not old.exists() and (new / "events.jsonl.gz").is_file()
    assert "removed 1 of 2 folders" in out and "compressed 1 journal(s)" in out
