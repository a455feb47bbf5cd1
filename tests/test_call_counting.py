"""Exchange calls are counted once each, by their final outcome; retries are their own figure.

The instrumented wrapper marks each attempt's event `final` (true: the last attempt of its
logical call; false: a failed attempt that was retried); the error-rate objective counts only
the final attempts, slo.retries reports the rest.  Events written before the flag existed (no
`final` column in metrics.parquet, no `final` key in a journal line) still read, and count
attempt by attempt, as they always did.  Offline and deterministic: a scripted paper exchange,
events built in memory.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from adapters.errors import AuthFailed, NetworkFailure, OrderRefused, RateLimited
from adapters.instrumented import InstrumentedExchange
from adapters.order_gate import LIVE_ENV, OrderGate
from adapters.paper import PaperExchange
from adapters.retry import RetryPolicy
from runner.recorder import Recorder
from runner.shared.events import COLUMNS, JOURNAL_NAME, PARQUET_NAME, polars_schema, read_journal
from runner.shared.files import write_parquet_atomic
from slo.compute import evaluate
from slo.quality import broken, name_invalid
from slo.read import discover, load_events
from slo.retries import COLUMNS as RETRY_COLUMNS
from slo.retries import retry_summary
from slo.spec import SloSpec, load_objectives

DEFAULT_YAML = Path(__file__).resolve().parents[1] / "conf" / "slo" / "default.yaml"
AS_OF = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
START = AS_OF - timedelta(days=7)
MIN = timedelta(minutes=1)
US = timedelta(microseconds=1)


# -- (a) the wrapper marks each attempt ---------------------------------------------------


class Scripted(PaperExchange):
    """The paper exchange, whose fetch_ticker / create_order first raise the scripted errors."""

    def __init__(self, *, ticker: list[Exception] = (), order: list[Exception] = (),
                 **config: Any) -> None:
        super().__init__(seed=1, clock=lambda: 1_700_000_030.5, **config)
        self.ticker_errors, self.order_errors = list(ticker), list(order)

    def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        if self.ticker_errors:
            raise self.ticker_errors.pop(0)
        return super().fetch_ticker(symbol)

    def create_order(self, *args: Any, **kwargs: Any) -> Any:
        if self.order_errors:
            raise self.order_errors.pop(0)
        return super().create_order(*args, **kwargs)


def wrapped(inner: PaperExchange, *, sleep: Any = None, gate: OrderGate | None = None,
            attempts: int = 3) -> tuple[InstrumentedExchange, Recorder]:
    recorder = Recorder(run_id="r1", env="test")
    exchange = InstrumentedExchange(inner, recorder, RetryPolicy(max_attempts=attempts),
                                    sleep=sleep or (lambda _: None), seed=0, gate=gate)
    return exchange, recorder


def marks(recorder: Recorder, name: str) -> list[tuple[int, bool, bool | None, str | None]]:
    """(attempt, ok, final, error) of each recorded event named `name`."""
    rows = recorder.frame().filter(pl.col("name") == name)
    return list(rows.select("attempt", "ok", "final", "error").iter_rows())


def test_a_retried_failure_is_not_final_and_the_success_is() -> None:
    exchange, recorder = wrapped(Scripted(ticker=[NetworkFailure("reset")]))
    assert exchange.fetch_ticker("BTC/USDT")["symbol"] == "BTC/USDT"
    assert marks(recorder, "fetch_ticker") == [(1, False, False, "NetworkFailure"),
                                               (2, True, True, None)]


def test_a_failure_that_is_not_retried_is_final() -> None:
    exchange, recorder = wrapped(Scripted(ticker=[AuthFailed("bad key")]))
    with pytest.raises(AuthFailed):
        exchange.fetch_ticker("BTC/USDT")
    assert marks(recorder, "fetch_ticker") == [(1, False, True, "AuthFailed")]


def test_the_last_of_max_attempts_is_final() -> None:
    exchange, recorder = wrapped(Scripted(ticker=[NetworkFailure("reset")] * 3))
    with pytest.raises(NetworkFailure):
        exchange.fetch_ticker("BTC/USDT")
    assert marks(recorder, "fetch_ticker") == [(1, False, False, "NetworkFailure"),
                                               (2, False, False, "NetworkFailure"),
                                               (3, False, True, "NetworkFailure")]


def test_an_interrupted_backoff_closes_the_call() -> None:
    """A call whose wait before its retry is cut short never ends on a final=false event: the
    abandoned attempt is recorded (never sent: no latency) as the call's final one."""

    def stop(_: float) -> None:
        raise KeyboardInterrupt

    exchange, recorder = wrapped(Scripted(ticker=[RateLimited("slow down")]), sleep=stop)
    with pytest.raises(KeyboardInterrupt):
        exchange.fetch_ticker("BTC/USDT")
    assert marks(recorder, "fetch_ticker") == [(1, False, False, "RateLimited"),
                                               (2, False, True, "KeyboardInterrupt")]
    assert recorder.frame()["latency_ms"][1] is None


def test_order_placement_attempts_are_marked() -> None:
    # refused before processing (rate limit): retried blindly, so not final
    exchange, recorder = wrapped(Scripted(order=[RateLimited("slow down")]))
    exchange.create_order("BTC/USDT", "buy", "market", 0.001, client_order_id="o1", test=False)
    assert marks(recorder, "create_order") == [(1, False, False, "RateLimited"),
                                               (2, True, True, None)]
    # outcome unknown: looked up first, so final (the resend after "not found" is its own call)
    exchange, recorder = wrapped(Scripted(order=[NetworkFailure("reset")]))
    exchange.create_order("BTC/USDT", "buy", "market", 0.001, client_order_id="o2", test=False)
    assert marks(recorder, "create_order") == [(1, False, True, "NetworkFailure"),
                                               (2, True, True, None)]
    assert marks(recorder, "fetch_order") == [(1, True, True, None)]


def test_a_refused_order_is_final() -> None:
    gate = OrderGate(dry_run=False, env_name=LIVE_ENV, confirmation=lambda: "is not given")
    exchange, recorder = wrapped(Scripted(), gate=gate)
    with pytest.raises(OrderRefused):
        exchange.create_order("BTC/USDT", "buy", "market", 0.001, client_order_id="o3",
                              test=False)
    assert marks(recorder, "create_order") == [(1, False, True, "OrderRefused")]


def test_events_that_are_not_exchange_calls_carry_no_final() -> None:
    recorder = Recorder(run_id="r1", env="test")
    recorder.record("heartbeat", "alive", True)
    recorder.record("phase", "connect", True, 12.0, None, 1, phase="connect")
    frame = recorder.frame()
    assert tuple(frame.columns) == COLUMNS and frame["final"].to_list() == [None, None]


# -- (b), (c) hand-computed: 100 calls, 116 attempts -----------------------------------------


def row(ts: datetime, ok: bool, attempt: int, final: bool | None, *, kind: str = "api_call",
        name: str = "fetch_ticker", run_id: str = "r1") -> dict[str, Any]:
    return {"ts": ts, "run_id": run_id, "env": "dev", "phase": "load", "kind": kind,
            "name": name, "ok": ok, "latency_ms": 100.0,
            "error": None if ok else "NetworkFailure", "attempt": attempt, "symbol": "BTC/USDT",
            "final": final}


def hundred_calls(run_id: str = "r1") -> pl.DataFrame:
    """100 logical fetch_ticker calls a minute apart (attempts 1 s apart): 87 succeed at once,
    10 fail once and succeed on their retry, 3 fail all 3 attempts; plus a heartbeat each
    minute (final null, not an exchange call).  116 attempts."""
    rows = []
    for i in range(100):
        ts = AS_OF - (100 - i) * MIN
        outcomes = ([True] if i < 87 else [False, True] if i < 97 else [False, False, False])
        for attempt, ok in enumerate(outcomes, 1):
            last = attempt == len(outcomes)
            rows.append(row(ts + attempt * timedelta(seconds=1), ok, attempt, last,
                            run_id=run_id))
        rows.append({**row(ts, True, 1, None, kind="heartbeat", name="alive", run_id=run_id),
                     "latency_ms": None, "symbol": None})
    return pl.DataFrame(rows, schema=polars_schema())


def error_rate_spec(*, by_attempt: bool = False) -> SloSpec:
    """conf/slo/default.yaml's error_rate objective alone (the others need other events);
    `by_attempt`: its indicator as it was before `final`, every attempt counted."""
    raw = yaml.safe_load(DEFAULT_YAML.read_text(encoding="utf-8"))
    objective = raw["objectives"]["error_rate"]
    if by_attempt:
        valid = [c for c in objective["indicator"]["valid"] if c["field"] != "final"]
        objective = {**objective, "indicator": {**objective["indicator"], "valid": valid}}
    return load_objectives({**raw, "objectives": {"error_rate": objective}})


def test_default_error_rate_counts_calls_not_attempts() -> None:
    events = hundred_calls()
    assert events.filter(pl.col("kind") == "api_call").height == 100 + 10 + 3 * 2
    condition = {"field": "final", "op": "ne", "value": False}
    assert condition in yaml.safe_load(DEFAULT_YAML.read_text(encoding="utf-8"))[
        "objectives"]["error_rate"]["indicator"]["valid"]
    [report] = evaluate(events, error_rate_spec(), AS_OF)
    assert (report["valid"], report["good"], report["bad"]) == (100, 97, 3)
    assert report["sli"] == 0.97
    assert "final outcome" in report["description"]
    # counting attempts, the same traffic would have shown 10 + 3*3 = 19 errors in 116
    [by_attempt] = evaluate(events, error_rate_spec(by_attempt=True), AS_OF)
    assert (by_attempt["valid"], by_attempt["bad"]) == (116, 19)


def test_retry_summary_of_the_hundred_calls() -> None:
    events = pl.concat([hundred_calls(), pl.DataFrame([
        # 5 orders, the second retried once (rate limited, then placed)
        *(row(AS_OF - 200 * MIN + i * MIN, True, 1, True, kind="order", name="create_order")
          for i in (0, 2, 3, 4)),
        row(AS_OF - 199 * MIN, False, 1, False, kind="order", name="create_order"),
        row(AS_OF - 199 * MIN + US, True, 2, True, kind="order", name="create_order"),
        # a call cut off mid-retry (a run killed with kill -9): an attempt, no call
        row(START, False, 1, False, name="fetch_balance"),
        # outside [start, as_of): not counted
        row(START - US, False, 1, True, name="fetch_balance"),
        row(AS_OF, False, 1, True, name="fetch_balance"),
    ], schema=polars_schema())])
    assert retry_summary(events.lazy(), START, AS_OF) == [
        {"kind": "api_call", "name": "fetch_ticker", "calls": 100, "attempts": 116,
         "retries": 16, "retried_calls": 13, "failed_calls": 3, "retry_ratio": 0.16},
        {"kind": "api_call", "name": "fetch_balance", "calls": 0, "attempts": 1,
         "retries": 1, "retried_calls": 0, "failed_calls": 0, "retry_ratio": None},
        {"kind": "order", "name": "create_order", "calls": 5, "attempts": 6,
         "retries": 1, "retried_calls": 1, "failed_calls": 0, "retry_ratio": 0.2},
    ]
    assert retry_summary(events, AS_OF, AS_OF) == []
    # the first 96 calls: 9 of them retried once
    [ratio] = retry_summary(hundred_calls().filter(pl.col("ts") < AS_OF - 4 * MIN), START,
                            AS_OF)
    assert (ratio["calls"], ratio["retries"], ratio["retry_ratio"]) == (96, 9, 0.09375)
    # 6 significant digits
    thirds = pl.DataFrame([row(AS_OF - 3 * MIN, True, 1, True),
                           row(AS_OF - 2 * MIN, False, 1, False),
                           row(AS_OF - 2 * MIN + US, True, 2, True),
                           row(AS_OF - 1 * MIN, True, 1, True)], schema=polars_schema())
    assert retry_summary(thirds, START, AS_OF)[0]["retry_ratio"] == 0.333333


# -- (d) data written before `final` ----------------------------------------------------------


def old_events(run_id: str) -> pl.DataFrame:
    """hundred_calls as an older run wrote them: no `final` column."""
    return hundred_calls(run_id).drop("final")


def test_a_null_final_is_within_the_event_contract() -> None:
    events = hundred_calls().with_columns(pl.lit(None, pl.Boolean).alias("final"))
    assert not events.select(broken(events.columns)).to_series().any()


def test_old_parquets_and_journals_read_and_count_by_attempt(tmp_path: Path) -> None:
    new = tmp_path / "new"
    new.mkdir()
    write_parquet_atomic(hundred_calls("new"), new / PARQUET_NAME)
    for name in ("old1", "old2"):  # two old parquets: one scan for both
        (tmp_path / name).mkdir()
        write_parquet_atomic(old_events(name), tmp_path / name / PARQUET_NAME)
        assert "final" not in pl.read_parquet_schema(tmp_path / name / PARQUET_NAME)
    crashed = tmp_path / "crashed"  # an old crashed run: a journal whose lines lack `final`
    crashed.mkdir()
    old_events("crashed").write_ndjson(crashed / JOURNAL_NAME)
    assert '"final"' not in (crashed / JOURNAL_NAME).read_text()
    assert read_journal(crashed / JOURNAL_NAME).frame["final"].null_count() == 200 + 16

    spec = error_rate_spec()
    columns = list(dict.fromkeys([*spec.columns, *RETRY_COLUMNS]))
    data = load_events(discover([tmp_path]), START, columns)
    assert data.skipped == [] and data.journal_bad_lines == 0
    assert len(data.used) == 4 and len(data.parquets) == 3
    assert data.frame.explain().count("Parquet SCAN") == 2  # with and without `final`
    frame = data.frame.collect()
    assert frame.schema == {c: polars_schema()[c] for c in columns}
    assert frame.filter(pl.col("run_id") != "new")["final"].null_count() == 3 * 216
    assert frame.filter(pl.col("run_id") == "new")["final"].null_count() == 100  # heartbeats

    # the new run counts 100 calls (3 bad); each old run every attempt, as before: 116 (19 bad)
    [report] = evaluate(data.frame, spec, AS_OF)
    assert (report["valid"], report["bad"]) == (100 + 3 * 116, 3 + 3 * 19)
    # old runs show no retries (each attempt is a call), but their attempts numbered 2 and 3
    # (10 + 3*2 each) still show as calls that were retried
    summary = retry_summary(data.frame, START, AS_OF)
    assert summary == [{"kind": "api_call", "name": "fetch_ticker", "calls": 100 + 3 * 116,
                        "attempts": 4 * 116, "retries": 16, "retried_calls": 13 + 3 * 16,
                        "failed_calls": 3 + 3 * 19, "retry_ratio": 0.0357143}]  # 16 / 448


def test_invalid_events_are_named_across_old_and_new_parquets(tmp_path: Path) -> None:
    """The first parquet has `final`, the second does not: naming the out-of-contract rows
    scans both (the one scan never asks for `final`)."""
    for name, frame in (("a_new", hundred_calls("a_new")),
                        ("b_old", old_events("b_old").with_columns(
                            pl.when(pl.col("attempt") == 3).then(None).otherwise(pl.col("ok"))
                            .alias("ok")))):
        (tmp_path / name).mkdir()
        write_parquet_atomic(frame, tmp_path / name / PARQUET_NAME)
    spec = error_rate_spec()
    data = load_events(discover([tmp_path]), START, spec.columns)
    name_invalid(data, {"b_old": 3}, (START, AS_OF))
    assert data.invalid_events == 3
    assert [(Path(p["path"]).parent.name, p["reason"]) for p in data.partly_read] == [
        ("b_old", "3 event(s) left out: ok is null (3)")]


def test_a_journal_line_with_a_bad_final_is_left_out(tmp_path: Path) -> None:
    journal = tmp_path / JOURNAL_NAME
    hundred_calls().head(2).write_ndjson(journal)
    with journal.open("a") as out:
        out.write('{"ts": "2026-03-01T11:59:00Z", "run_id": "r1", "env": "dev", "phase": null, '
                  '"kind": "api_call", "name": "ping", "ok": true, "latency_ms": 1.0, '
                  '"error": null, "attempt": 1, "symbol": null, "final": "yes"}\n')
    read = read_journal(journal)
    assert read.frame["final"].to_list() == [True, None] and read.bad_lines == 1
    assert "final" in read.first_errors[0]
