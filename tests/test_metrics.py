"""The event recorder: cheap recording, a journal flushed on time, atomic parquet, safe reading."""

from __future__ import annotations

import json
import time

import polars as pl

from runner.metrics import COLUMNS, Recorder, read_journal


def test_rows_become_v1_columns(tmp_path):
    recorder = Recorder("run-1", "dev", tmp_path)
    recorder.record("api_call", "fetch_ticker", True, 12.5, None, 1, "BTC/USDT", phase="p")
    recorder.record("order", "create_order", False, 40.0, "InvalidOrder", 2, "ETH/USDT")
    frame = recorder.frame()
    assert tuple(frame.columns) == COLUMNS
    assert frame.row(1, named=True) | {"ts": None} == {
        "ts": None, "run_id": "run-1", "env": "dev", "phase": None, "kind": "order",
        "name": "create_order", "ok": False, "latency_ms": 40.0, "error": "InvalidOrder",
        "attempt": 2, "symbol": "ETH/USDT"}


def test_journal_is_flushed_within_the_interval_without_close(tmp_path):
    recorder = Recorder("run-1", "dev", tmp_path, flush_interval_s=0.05)
    recorder.start()
    try:
        for _ in range(500):
            recorder.record("api_call", "ping", True, 1.0)
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            lines = (tmp_path / "events.jsonl").read_text().splitlines()
            if len(lines) == 500:
                break
            time.sleep(0.01)
        assert len(lines) == 500
        assert json.loads(lines[0])["ts"].endswith("+00:00")
    finally:
        recorder.close()


def test_close_writes_parquet_atomically_and_equal_to_journal(tmp_path):
    recorder = Recorder("run-1", "dev", tmp_path)
    recorder.start()
    for i in range(1000):
        recorder.record("api_call", "fetch_ohlcv", i % 10 != 0, float(i), None, 1, "BTC/USDT")
    recorder.close()
    assert not list(tmp_path.glob(".*.tmp")), "no temporary file left behind"
    parquet = pl.read_parquet(tmp_path / "metrics.parquet")
    journal = read_journal(tmp_path / "events.jsonl")
    assert journal.bad_lines == 0
    assert parquet.equals(journal.frame.select(parquet.columns).cast(parquet.schema))


def test_bad_journal_lines_are_skipped_and_counted(tmp_path):
    recorder = Recorder("run-1", "dev", tmp_path)
    recorder.start()
    recorder.record("heartbeat", "alive", True)
    recorder.close()
    path = tmp_path / "events.jsonl"
    good = path.read_text()
    wrong_kind = json.loads(good) | {"kind": "gossip"}
    path.write_text(good + "not json\n" + json.dumps(wrong_kind) + "\n" + good)
    read = read_journal(path)
    assert (read.frame.height, read.bad_lines) == (2, 2)
    assert read.first_errors[0].startswith("line 2: not JSON")
    assert read.first_errors[1].startswith("line 3: kind:")


def test_disabled_recorder_records_nothing():
    recorder = Recorder("run-1", "dev", enabled=False)
    recorder.record("api_call", "ping", True)
    assert len(recorder) == 0


def test_every_shipped_schema_is_a_valid_draft_2020_12_schema():
    from jsonschema import Draft202012Validator

    from runner.schemas import load_from

    for package, names in [("runner.schemas", ["config", "event", "result"]),
                           ("slo.schemas", ["spec", "report"])]:
        for name in names:
            Draft202012Validator.check_schema(load_from(package, name))
