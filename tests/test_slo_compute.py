"""slo.compute: the formulas of docs/SLO.md, checked against hand-computed numbers and the SRE
Workbook's own examples, on events built in memory."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from omegaconf import OmegaConf

from runner.shared.events import polars_schema
from slo.compute import assess, build_query, evaluate, make_grid
from slo.spec import SloSpec, load_objectives

CONF = Path(__file__).resolve().parents[1] / "conf"

AS_OF = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
MIN, SEC, HOUR, DAY = (timedelta(minutes=1), timedelta(seconds=1), timedelta(hours=1),
                       timedelta(days=1))
US = timedelta(microseconds=1)
API_OK = [{"field": "kind", "op": "eq", "value": "api_call"}]
GOOD_OK = [{"field": "ok", "op": "eq", "value": True}]
WORKBOOK_TIERS = [
    {"severity": "page", "long": "1h", "short": "5m", "budget_fraction": 0.02},
    {"severity": "page", "long": "6h", "short": "30m", "budget_fraction": 0.05},
    {"severity": "ticket", "long": "3d", "short": "6h", "budget_fraction": 0.10},
]


def event(ts: datetime, kind: str = "api_call", ok: bool = True, *, name: str = "fetch_ticker",
          latency_ms: float | None = 100.0, run_id: str = "r1") -> dict[str, Any]:
    return {"ts": ts, "run_id": run_id, "env": "dev", "phase": "p", "kind": kind, "name": name,
            "ok": ok, "latency_ms": latency_ms, "error": None if ok else "NetworkError",
            "attempt": 1, "symbol": None}


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=polars_schema())


def make_spec(*, target: float = 0.95, window: str = "7d", tiers: list | None = None,
              min_events: int = 0, at_risk_below: float = 0.25, budgeting: str = "Occurrences",
              valid: list | None = None, good: list | None = None,
              own_min_events: int | None = None, **extra: Any) -> SloSpec:
    if own_min_events is not None:
        extra["min_events"] = own_min_events
    objective = {"budgetingMethod": budgeting, "target": target, "timeWindow": window,
                 "indicator": {"valid": API_OK if valid is None else valid,
                               "good": GOOD_OK if good is None else good}, **extra}
    return load_objectives({
        "service": "bot", "at_risk_below": at_risk_below,
        "alerting": {"min_events": min_events, "tiers": [] if tiers is None else tiers},
        "objectives": {"obj": objective}})


def one(events: pl.DataFrame, spec: SloSpec, as_of: datetime = AS_OF, **kw: Any) -> dict:
    [report] = evaluate(events.lazy(), spec, as_of, **kw)
    return report


def stream(n: int, bad: set[int], start: datetime, step: timedelta) -> pl.DataFrame:
    """n api_calls from `start`, one every `step`; the indices in `bad` failed."""
    return frame([event(start + i * step, ok=i not in bad) for i in range(n)])


# -- the formulas, by hand ---------------------------------------------------------------


def test_formulas_by_hand() -> None:
    # docs/SLO.md's example: t = 0.95, 2,000 valid, 1,930 good; one event a second over the
    # last 2,000 s, the 70 oldest failed.
    events = stream(2000, set(range(70)), AS_OF - 2000 * SEC, SEC)
    tier = {"severity": "page", "long": "1h", "short": "5m", "budget_fraction": 0.02}
    o = one(events, make_spec(target=0.95, window="7d", tiers=[tier], min_events=10))
    assert (o["valid"], o["good"], o["bad"]) == (2000, 1930, 70)  # 2000 - 1930 = 70
    assert o["sli"] == 0.965  # 1930 / 2000
    assert o["budget_ratio"] == 0.05  # 1 - 0.95
    assert o["allowed_bad"] == 100  # 0.05 * 2000
    assert o["budget_remaining"] == 0.3  # 1 - 70 / 100
    assert o["remaining"] == 30 and o["remaining_unit"] == "events"  # 100 - 70
    assert o["coverage"] is None  # Occurrences
    burns = {b["window"]: b for b in o["burn_rates"]}
    assert burns["1h"] == {"window": "1h", "burn": 0.7, "valid": 2000}  # (1 - .965) / .05
    assert burns["5m"] == {"window": "5m", "burn": 0.0, "valid": 300}  # last 300 s all good
    [alert] = o["alerts"]
    assert alert["k"] == 3.36  # 0.02 * 168 h / 1 h
    assert alert == {"severity": "page", "long": "1h", "short": "5m", "k": 3.36,
                     "budget_fraction": 0.02, "burn_long": 0.7, "burn_short": 0.0,
                     "firing": False}
    assert o["time_to_exhaustion_h"] == 72  # 0.3 * 168 h / 0.7
    assert o["status"] == "met"  # 0.3 >= at_risk_below 0.25, nothing fires
    assert o["window"] == "7d" and o["min_events"] == 10
    assert o["window_start"] == (AS_OF - 7 * DAY).isoformat()
    assert o["window_end"] == AS_OF.isoformat()
    assert o["burn_down"][-1] == {"t": AS_OF.isoformat(), "budget_remaining": 0.3}


def test_overspent_budget_is_negative_and_breached() -> None:
    # t = 0.99, 1,000 valid, 25 bad: allowed 0.01 * 1000 = 10, remaining 1 - 25/10 = -1.5
    events = stream(1000, set(range(0, 1000, 40)), AS_OF - HOUR, 3 * SEC)
    o = one(events, make_spec(target=0.99))
    assert o["bad"] == 25  # every 40th of 1000
    assert o["allowed_bad"] == 10  # 0.01 * 1000
    assert o["budget_remaining"] == -1.5  # 1 - 25 / 10: not clamped
    assert o["remaining"] == -15  # 10 - 25
    assert o["status"] == "breached"
    assert o["time_to_exhaustion_h"] is None  # nothing left to exhaust


def test_little_budget_left_is_at_risk() -> None:
    # t = 0.9, 100 valid, 8 bad: allowed 10, remaining 1 - 8/10 = 0.2 < 0.25
    events = stream(100, set(range(8)), AS_OF - 100 * MIN, MIN)
    o = one(events, make_spec(target=0.9, window="1d", tiers=WORKBOOK_TIERS[:1]))
    assert o["budget_remaining"] == 0.2  # 1 - 8 / 10
    assert not o["alerts"][0]["firing"]  # burn(1h) = 0 (the 8 failures are > 1 h old)
    assert o["status"] == "at_risk"
    # burn(1h) = 0: no current burn, so no time to exhaustion
    assert o["time_to_exhaustion_h"] is None


def test_no_data_is_never_met() -> None:
    orders_only = frame([event(AS_OF - MIN, kind="order", name="create_order")])
    for events in (orders_only, frame([])):
        o = one(events, make_spec(tiers=WORKBOOK_TIERS))
        assert o["status"] == "no_data"
        assert (o["valid"], o["good"], o["bad"]) == (0, 0, 0)
        assert o["sli"] is o["budget_remaining"] is o["remaining"] is None
        assert all(b["burn"] is None for b in o["burn_rates"])
        assert not any(a["firing"] for a in o["alerts"])
        assert all(p["budget_remaining"] is None for p in o["burn_down"])


def test_fewer_than_min_events_is_insufficient_data_with_null_burn() -> None:
    events = stream(5, {0, 1, 2, 3, 4}, AS_OF - 10 * MIN, MIN)  # 5 valid, all bad
    o = one(events, make_spec(target=0.9, tiers=WORKBOOK_TIERS[:1], min_events=10))
    assert o["valid"] == 5 and o["sli"] == 0.0
    assert o["budget_remaining"] == -9  # 1 - 5 / (0.1 * 5): overspent, yet ...
    assert o["status"] == "insufficient_data"  # ... 5 < 10 events decide nothing
    assert [b["burn"] for b in o["burn_rates"]] == [None, None]  # 1h and 5m: 5 < 10
    assert [b["valid"] for b in o["burn_rates"]] == [5, 0]  # events 10..6 min before as_of


def test_min_events_per_objective_overrides_alerting() -> None:
    events = stream(5, set(), AS_OF - 10 * MIN, MIN)  # 5 valid events, all good
    assert one(events, make_spec(min_events=10))["status"] == "insufficient_data"  # 5 < 10
    # the objective's alerting.min_events is the burn-rate windows' threshold, not the status's
    o = one(events, make_spec(min_events=10, alerting={"min_events": 5}))
    assert (o["min_events"], o["status"]) == (10, "insufficient_data")
    o = one(events, make_spec(min_events=10, alerting={"min_events": 8}, own_min_events=3))
    assert (o["min_events"], o["status"]) == (3, "met")  # the objective's own min_events wins


def test_window_boundaries() -> None:
    # W = 1 h: as_of - W <= ts < as_of
    rows = [event(AS_OF - HOUR - US, ok=False),  # out (1 µs too old)
            event(AS_OF - HOUR),  # in (exactly at the start)
            event(AS_OF - US),  # in
            event(AS_OF, ok=False),  # out (the end is exclusive)
            event(AS_OF + MIN, ok=False)]  # out (future)
    tier = {"severity": "page", "long": "30m", "short": "1m", "budget_fraction": 0.5}
    o = one(frame(rows), make_spec(target=0.5, window="1h", tiers=[tier]))
    assert (o["valid"], o["good"]) == (2, 2)
    assert [b["valid"] for b in o["burn_rates"]] == [1, 1]  # 30m and 1m: only AS_OF - 1 µs
    # the same boundaries for a burn window, at a timestamp with microseconds and 45 s windows
    as_of = AS_OF + timedelta(seconds=7, microseconds=123)
    rows = [event(as_of - 45 * SEC), event(as_of - 45 * SEC - US, ok=False)]
    tier = {"severity": "page", "long": "45s", "short": "15s", "budget_fraction": 0.5}
    o = one(frame(rows), make_spec(target=0.5, window="1h", tiers=[tier]), as_of=as_of)
    assert o["burn_rates"][0] == {"window": "45s", "burn": 0.0, "valid": 1}


def test_alert_fires_only_when_both_windows_exceed_k_and_never_below_burn_1() -> None:
    # W = 1 d, t = 0.9 (budget ratio 0.1), tier 1h/5m at 2 %: k = 0.02 * 24 h / 1 h = 0.48,
    # below 1, so the threshold is 1. One event a minute during the last hour, oldest first.
    tier = {"severity": "page", "long": "1h", "short": "5m", "budget_fraction": 0.02}
    spec = make_spec(target=0.9, window="1d", tiers=[tier], min_events=1, at_risk_below=0)

    def alert(bad: set[int]) -> dict[str, Any]:
        o = one(stream(60, bad, AS_OF - HOUR, MIN), spec)
        return {**o["alerts"][0], "status": o["status"]}

    a = alert({10, 20, 30})  # long: 3/60/0.1 = 0.5; short (last 5): 0
    assert (a["k"], a["burn_long"], a["burn_short"], a["firing"]) == (1, 0.5, 0.0, False)
    assert a["status"] == "met"  # 1 - 3/6 = 0.5 left, no tier fires
    b = alert({55, 56, 57, 58, 59})  # long: 5/60/0.1 = 0.833 > 0.48 but < 1; short: 10
    assert (b["burn_long"], b["burn_short"], b["firing"]) == (0.833333, 10.0, False)
    assert b["status"] == "met"  # 1 - 5/6 left: spent more slowly than earned, no alert
    c = alert({50, 51, 52, 53, 54, 55, 56, 57, 58, 59})  # long: 1.667 > 1; short: 10 > 1
    assert (c["burn_long"], c["burn_short"], c["firing"]) == (1.66667, 10.0, True)
    assert c["status"] == "breached"  # 10 bad of 6 allowed


# -- the SRE Workbook's numbers ------------------------------------------------------------

N_30D = 900_000  # one event every 2.88 s for 30 days: 1,250 an hour, budget 0.001 * 900,000 = 900


@pytest.fixture(scope="module")
def workbook_stream() -> pl.DataFrame:
    start = AS_OF - 30 * DAY
    ts = pl.datetime_range(start, AS_OF, timedelta(milliseconds=2880), closed="left",
                           time_unit="us", time_zone="UTC", eager=True)
    assert ts.len() == N_30D
    return pl.DataFrame({"ts": ts}).select(
        "ts", pl.lit("r1").alias("run_id"), pl.lit("dev").alias("env"), pl.lit("p").alias("phase"),
        pl.lit("api_call").alias("kind"), pl.lit("fetch_ticker").alias("name"),
        pl.lit(True).alias("ok"), pl.lit(100.0).alias("latency_ms"),
        pl.lit(None, pl.String).alias("error"), pl.lit(1, pl.Int32).alias("attempt"),
        pl.lit(None, pl.String).alias("symbol"), pl.lit(True).alias("final")
    ).cast(polars_schema())


def burning(events: pl.DataFrame, last: int, bad: int) -> pl.DataFrame:
    """`bad` failures spread evenly over the `last` events; all others good."""
    p = pl.int_range(pl.len()) - (pl.len() - last)
    return events.with_columns(ok=~((p >= 0) & ((p * bad) % last < bad)))


@pytest.mark.parametrize(("period", "last", "bad", "burn", "k", "consumed"), [
    # 14.4 for 1 h: 1,250 events, 14.4 * 0.001 * 1250 = 18 bad; 18 / 900 = 2 % of the budget
    ("1h", 1_250, 18, 14.4, 14.4, 0.02),
    # 6 for 6 h: 7,500 events, 6 * 0.001 * 7500 = 45 bad; 45 / 900 = 5 %
    ("6h", 7_500, 45, 6.0, 6.0, 0.05),
    # 1 for 3 d: 90,000 events, 1 * 0.001 * 90000 = 90 bad; 90 / 900 = 10 %
    ("3d", 90_000, 90, 1.0, 1.0, 0.10),
])
def test_sre_workbook_budget_consumption(workbook_stream: pl.DataFrame, period: str, last: int,
                                         bad: int, burn: float, k: float, consumed: float
                                         ) -> None:
    spec = make_spec(target=0.999, window="30d", tiers=WORKBOOK_TIERS, min_events=10)
    o = one(burning(workbook_stream, last, bad), spec)
    assert o["valid"] == N_30D and o["bad"] == bad
    assert o["allowed_bad"] == 900  # 0.001 * 900,000
    assert 1 - o["budget_remaining"] == pytest.approx(consumed, abs=1e-12)
    assert {b["window"]: b["burn"] for b in o["burn_rates"]}[period] == burn
    [alert] = [a for a in o["alerts"] if a["long"] == period]
    assert alert["k"] == k  # 0.02*720/1 = 14.4, 0.05*720/6 = 6, 0.10*720/72 = 1
    assert alert["burn_long"] == burn
    assert not alert["firing"]  # exactly k is not more than k
    assert [a["k"] for a in o["alerts"]] == [14.4, 6.0, 1.0]


def test_sre_workbook_fast_burn_pages(workbook_stream: pl.DataFrame) -> None:
    # all of the last 5 minutes fail (104 events at one per 2.88 s): burn(5m) = 1/0.001 = 1000,
    # burn(1h) = 104/1250/0.001 = 83.2 > 14.4: the first page tier fires.
    spec = make_spec(target=0.999, window="30d", tiers=WORKBOOK_TIERS, min_events=10)
    o = one(burning(workbook_stream, 104, 104), spec)
    first = o["alerts"][0]
    assert (first["burn_long"], first["burn_short"], first["firing"]) == (83.2, 1000.0, True)
    assert o["status"] == "at_risk"  # 1 - 104/900 = 0.884 left, but a page fires
    # time to exhaustion at 83.2: 0.884444 * 720 h / 83.2 = 7.65385 h
    assert o["time_to_exhaustion_h"] == pytest.approx(0.884444 * 720 / 83.2, rel=1e-5)


# -- Timeslices ----------------------------------------------------------------------------


def uptime_spec(**kw: Any) -> SloSpec:
    valid = [{"field": "kind", "op": "in", "value": ["heartbeat", "health"]}]
    return make_spec(budgeting="Timeslices", timeSliceWindow="1m", valid=valid, **kw)


def beats(minute: datetime, n: int = 6, run_id: str = "r1", ok: bool = True) -> list[dict]:
    return [event(minute + i * 10 * SEC, "heartbeat", ok, name="alive", latency_ms=None,
                  run_id=run_id) for i in range(n)]


def test_timeslices_missing_heartbeats_are_bad_slices() -> None:
    # A 5-minute run 10:00:00-10:04:50 with heartbeats in minutes 0, 1 and 4 only: minutes 2
    # and 3 hold just an api_call (not a valid event), so nobody said the runner was alive.
    t0 = AS_OF.replace(hour=10)
    rows = [*beats(t0), *beats(t0 + MIN), event(t0 + 2 * MIN + 5 * SEC),
            event(t0 + 3 * MIN + 30 * SEC), *beats(t0 + 4 * MIN)]
    o = one(frame(rows), uptime_spec(target=0.5, window="1d"))
    assert (o["valid"], o["good"], o["bad"]) == (5, 3, 2)  # expected 5 slices, 3 with heartbeats
    assert o["coverage"] == 0.6  # 3 measured / 5 expected
    assert o["sli"] == 0.6  # 3 / 5
    assert o["allowed_bad"] == 2.5  # (1 - 0.5) * 5 slices
    assert o["budget_remaining"] == 0.2  # 1 - 2 / 2.5
    assert o["remaining"] == 0.5 and o["remaining_unit"] == "minutes"  # 0.5 slices * 1 min


def test_timeslices_failed_check_runs_share_slices_and_lifetimes_bound_them() -> None:
    t0 = AS_OF.replace(hour=10)
    rows = [*beats(t0, run_id="a"), *beats(t0 + MIN, run_id="a"),
            *beats(t0 + 2 * MIN, n=3, run_id="a"),  # a: 10:00:00-10:02:20 -> slices 0, 1, 2
            *beats(t0 + 2 * MIN + 30 * SEC, n=3, run_id="b"),  # b: 10:02:30-10:03:50 -> 2, 3
            *beats(t0 + 3 * MIN, run_id="b"),
            event(t0 + 3 * MIN + 40 * SEC, "health", False, name="disk_space", run_id="b"),
            # c: a lone run an hour later, one minute, healthy
            *beats(t0 + HOUR, run_id="c")]
    o = one(frame(rows), uptime_spec(target=0.5, window="1d"))
    # slices 0, 1, 2 (shared by a and b), 3, and c's one: 5 expected, not 6; the idle hour
    # between the runs is no one's lifetime, so it is not expected at all.
    assert o["valid"] == 5
    assert o["good"] == 4  # slice 3 held a failed disk check
    assert o["coverage"] == 1.0  # every expected slice was measured


def test_timeslice_burn_windows_count_slices() -> None:
    t0 = AS_OF - 10 * MIN  # a 10-minute run up to as_of, heartbeats missing in the last 2 min
    rows = [b for m in range(8) for b in beats(t0 + m * MIN)] + [event(AS_OF - US)]
    tier = {"severity": "page", "long": "10m", "short": "2m", "budget_fraction": 0.5}
    o = one(frame(rows), uptime_spec(target=0.9, window="1h", tiers=[tier], min_events=2))
    assert (o["valid"], o["good"]) == (10, 8)
    assert o["burn_rates"] == [
        {"window": "10m", "burn": 2.0, "valid": 10},  # (2/10) / 0.1
        {"window": "2m", "burn": 10.0, "valid": 2}]  # (2/2) / 0.1
    assert o["alerts"][0]["k"] == 3  # 0.5 * 60 / 10
    assert o["alerts"][0]["firing"] is False  # 2 < 3 over the long window


# -- burn-down -----------------------------------------------------------------------------


def test_burn_down_ends_at_the_reported_budget() -> None:
    # 7 d, one event an hour, the ones 2 days before as_of failed.
    events = stream(168, set(range(100, 110)), AS_OF - 7 * DAY, HOUR)
    o = one(events, make_spec(target=0.9))
    points = o["burn_down"]
    assert len(points) == 169  # the window's start and each hour to as_of (7 d: hourly)
    assert points[0] == {"t": (AS_OF - 7 * DAY).isoformat(), "budget_remaining": 1.0}
    assert points[-1]["budget_remaining"] == o["budget_remaining"]
    # 10 bad of 0.1 * 168 = 16.8 allowed: 1 - 10/16.8 = 0.404762
    assert o["budget_remaining"] == 0.404762
    values = [p["budget_remaining"] for p in points]
    assert values == sorted(values, reverse=True)  # only spent, never refunded
    # under 2 days: one point per bucket, at most ~200
    short = one(stream(60, {30}, AS_OF - HOUR, MIN), make_spec(target=0.9, window="1h"))
    assert len(short["burn_down"]) == 61  # start + 60 one-minute buckets
    day = one(stream(60, {30}, AS_OF - HOUR, MIN), make_spec(target=0.9, window="1d"))
    assert len(day["burn_down"]) <= 202


# -- one read --------------------------------------------------------------------------------


def default_spec() -> SloSpec:
    return load_objectives(OmegaConf.to_container(OmegaConf.load(CONF / "slo" / "default.yaml")))


def test_evaluate_reads_the_events_exactly_once() -> None:
    """All five default objectives, every window and the contributors come from one pass
    over the source."""
    from polars.io.plugins import register_io_source

    events = frame([*beats(AS_OF - 5 * MIN), event(AS_OF - MIN),
                    event(AS_OF - 2 * MIN, "order", name="create_order")])
    reads: list[Any] = []

    def source(with_columns, predicate, n_rows, batch_size):  # polars' io-source protocol
        reads.append(predicate)
        out = events if predicate is None else events.filter(predicate)
        yield out if with_columns is None else out.select(with_columns)

    lazy = register_io_source(source, schema=polars_schema())
    reports = evaluate(lazy, default_spec(), AS_OF)
    assert len(reports) == 5
    windows = sum(1 + len(r["burn_rates"]) for r in reports)
    # 30 d objectives: W + 5 distinct alert windows; 7 d ones (sloth's table): W + 7 ...
    assert windows == 2 * 6 + 3 * 8
    assert len(reads) == 1  # ... from a single read
    reads.clear()
    explained = assess(lazy, default_spec(), AS_OF, explain=True).objectives
    assert explained[3]["contributors"] == []  # error_rate
    assert len(reads) == 1  # no event was bad: the contributors need no second read
    events = events.vstack(frame([event(AS_OF - MIN, ok=False, run_id="r2")]))
    reads.clear()
    explained = assess(lazy, default_spec(), AS_OF, explain=True).objectives
    assert len(reads) == 2  # the contributors read again: only the runs with bad events
    assert "r2" in str(reads[1]) and "is_in" in str(reads[1])
    assert [c["run_id"] for c in explained[3]["contributors"]] == ["r2"]  # error_rate
    assert reads[0] is not None  # with the time filter pushed into the source


def test_one_query_one_scan_over_parquet(tmp_path) -> None:
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"{i}.parquet")
        frame([event(AS_OF - (i + 1) * MIN)]).write_parquet(paths[-1])
    spec = default_spec()
    scan = pl.scan_parquet(paths, hive_partitioning=False)
    plan = build_query(scan, spec, make_grid(spec, AS_OF)).explain()
    assert plan.count("SCAN") == 1, plan
    assert "SELECTION" in plan  # the window's time filter is pushed into the parquet reader
    reports = evaluate(scan, spec, AS_OF)
    assert {r["name"]: r["valid"] for r in reports}["error_rate"] == 3


# -- cross-check against a brute-force reading -----------------------------------------------


def test_matches_brute_force_per_window() -> None:
    rng = random.Random(7)
    as_of = AS_OF + timedelta(seconds=17, microseconds=421)  # nothing aligned
    rows = [event(as_of - timedelta(seconds=rng.uniform(0, 8 * 86400)),
                  rng.choice(["api_call", "order", "heartbeat"]), rng.random() > 0.05,
                  latency_ms=rng.choice([None, rng.uniform(0, 900)]))
            for _ in range(3000)]
    tiers = [{"severity": "page", "long": "1h", "short": "45s", "budget_fraction": 0.02},
             {"severity": "ticket", "long": "2d", "short": "90m", "budget_fraction": 0.1}]
    good = [{"field": "latency_ms", "op": "lt", "value": 500}]
    spec = make_spec(target=0.9, window="7d", tiers=tiers, min_events=1, good=good)
    o = one(frame(rows), spec, as_of=as_of)

    def counts(window: timedelta) -> tuple[int, int]:
        inside = [r for r in rows if as_of - window <= r["ts"] < as_of and r["kind"] == "api_call"]
        return len(inside), sum(1 for r in inside
                                if r["latency_ms"] is not None and r["latency_ms"] < 500)

    assert (o["valid"], o["good"]) == counts(7 * DAY)
    for burn in o["burn_rates"]:
        window = {"1h": HOUR, "45s": 45 * SEC, "2d": 2 * DAY, "90m": 90 * MIN}[burn["window"]]
        valid, good_ = counts(window)
        assert burn["valid"] == valid
        expected = None if valid == 0 else round((valid - good_) / valid / 0.1, 4)
        assert (None if burn["burn"] is None else round(burn["burn"], 4)) == expected


def test_report_is_json_ready_and_matches_report_schema() -> None:
    import json

    from slo.report import run_report, validate_report

    events = frame([*beats(AS_OF - 3 * MIN), event(AS_OF - MIN, ok=False)])
    spec = default_spec()
    reports = evaluate(events.lazy(), spec, AS_OF)
    json.dumps(reports, allow_nan=False)
    validate_report(run_report(spec, reports, AS_OF, run_id="r1", env="dev"))
    assert [r["name"] for r in reports] == ["system_uptime", "api_response_time",
                                            "trade_execution_time", "error_rate", "run_completion"]
    keys = {"name", "description", "budgeting", "target", "window", "window_start",
            "window_end", "valid", "good", "bad", "sli", "budget_ratio", "allowed_bad",
            "budget_remaining", "remaining", "remaining_unit", "coverage", "burn_rates",
            "alerts", "time_to_exhaustion_h", "status", "min_events", "burn_down",
            "sli_per_day"}
    assert all(set(r) == keys for r in reports)


def test_missing_condition_column_is_a_clear_error() -> None:
    from runner.shared.errors import ConfigError

    spec = make_spec(good=[{"field": "symbol", "op": "is_null"}])
    with pytest.raises(ConfigError, match="symbol"):
        evaluate(frame([event(AS_OF - MIN)]).drop("symbol").lazy(), spec, AS_OF)


def test_empty_condition_lists_match_every_event() -> None:
    rows = [event(AS_OF - MIN), event(AS_OF - 2 * MIN, "order", False), *beats(AS_OF - 3 * MIN)]
    o = one(frame(rows), make_spec(valid=[], good=[]))
    assert (o["valid"], o["good"]) == (8, 8)  # 1 + 1 + 6 events, every one valid and good
    o = one(frame(rows), make_spec(valid=[], good=GOOD_OK))
    assert (o["valid"], o["good"]) == (8, 7)  # the failed order is the only bad one
