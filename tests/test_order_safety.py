"""Order safety at the exchange boundary, with the real components: the ccxt Binance client, the
order gate, the transport guard and the exchange simulator on 127.0.0.1.

- Every caller is judged: a user's own phase calling create_order through ctx.exchange, past it
  on the adapter, or on the raw ccxt client, in every environment.
- The endpoint is judged from the URLs the client really calls (sandbox + base_url, backslashes).
- No order the strategy did not ask for: the idle probe is a test order, also in live mode.
- Unknown outcomes are looked up, never re-sent blindly, and reconciled before the run ends.

Binance's real and sandbox hosts are never contacted: `binance_hosts` makes them "resolve" to a
local simulator at the requests layer, so the client builds and signs the real URLs (which the
guards judge) while the bytes go to 127.0.0.1.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import fake_phases
import polars as pl
import pytest
import requests
from conftest import EventTuples as Sink
from conftest import only_run_dir, run_cli

from adapters.ccxt_exchange import CcxtExchange
from adapters.endpoints import LOOPBACK, REAL_MONEY, SANDBOX, UnsafeUrl, classify
from adapters.errors import OrderOutcomeUnknown, OrderRefused
from adapters.instrumented import InstrumentedExchange
from adapters.retry import RetryPolicy
from adapters.sim.server import SimServer
from runner import live_guard
from runner.context import RunContext
from runner.order_book import settle_orders
from runner.phases import connect, execution, market_data
from runner.recorder import Recorder

KEY, SECRET = "fakeKey" + "k" * 20, "fakeSecret" + "s" * 20
SYMBOLS = ["BTC/USDT", "ETH/USDT"]


def posts(server: SimServer, test: bool = False) -> list[str]:
    """POST order requests the simulator received (test=True: the validate-only ones)."""
    wanted = "/order/test" if test else "/order"
    return [r[1] for r in server.requests if r[0] == "POST" and r[1].split("?")[0].endswith(wanted)]


def placed(server: SimServer, client_order_id: str) -> int:
    return sum(1 for order in server.orders() if order.client_order_id == client_order_id)


@pytest.fixture
def binance_hosts(monkeypatch):
    """api.binance.com and testnet.binance.vision answered by a simulator on 127.0.0.1; yields
    (server, every (method, URL) the client asked for)."""
    server = SimServer.from_config(seed=3, symbols=SYMBOLS, api_key=KEY, api_secret=SECRET)
    server.start()
    asked: list[tuple[str, str]] = []
    send = requests.Session.request

    def request(self, method, url, *args, **kwargs):
        asked.append((method.upper(), url))
        parts = urlsplit(url)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            url = server.url + parts.path + (f"?{parts.query}" if parts.query else "")
        return send(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", request)
    monkeypatch.setenv("BINANCE_API_KEY", KEY)
    monkeypatch.setenv("BINANCE_API_SECRET", SECRET)
    monkeypatch.setenv("BINANCE_TESTNET_API_KEY", KEY)
    monkeypatch.setenv("BINANCE_TESTNET_API_SECRET", SECRET)
    monkeypatch.delenv(live_guard.CONFIRM_VAR, raising=False)
    yield server, asked
    server.stop()


def context(compose, tmp_path, *overrides: str) -> RunContext:
    config = compose(*overrides)
    recorder = Recorder("20261127T101010Z-x-abcdef", config["env"]["name"], tmp_path)
    return RunContext(config=config, run_dir=tmp_path, run_id=recorder.run_id, recorder=recorder)


def order_requests(asked: list[tuple[str, str]], test: bool) -> list[str]:
    suffix = "/order/test" if test else "/order"
    return [url for method, url in asked
            if method == "POST" and urlsplit(url).path.endswith(suffix)]


# -- 1. every caller meets the gate, in every environment -------------------------------------


@pytest.mark.parametrize("env", ["testnet", "live"])
@pytest.mark.parametrize("via", ["wrapper", "adapter", "client"])
def test_a_user_phase_cannot_place_an_order_in_dry_run(compose, tmp_path, binance_hosts, env,
                                                       via):
    _, asked = binance_hosts
    ctx = context(compose, tmp_path, f"env={env}")
    if via == "wrapper":  # through the boundary: turned into a test order, and said so
        assert fake_phases.place_order(ctx, via=via) == {"status": "test"}
        assert len(order_requests(asked, test=True)) == 1
    else:  # past the wrapper: the transport guard refuses it before it leaves
        with pytest.raises(OrderRefused, match="dry_run=true"):
            fake_phases.place_order(ctx, via=via)
    assert order_requests(asked, test=False) == [], "no order request left the process"


@pytest.mark.parametrize("via", ["wrapper", "adapter", "client"])
def test_live_orders_from_a_user_phase_need_the_confirmation_at_the_moment_they_leave(
        compose, tmp_path, binance_hosts, monkeypatch, via):
    _, asked = binance_hosts
    ctx = context(compose, tmp_path, "env=live", "dry_run=false")
    with pytest.raises(OrderRefused, match=live_guard.CONFIRM_VAR):
        fake_phases.place_order(ctx, via=via)
    assert order_requests(asked, test=False) == []
    monkeypatch.setenv(live_guard.CONFIRM_VAR, live_guard.CONFIRM_VALUE)
    fake_phases.place_order(ctx, via="wrapper")  # all three switches: it leaves, for real money
    live = order_requests(asked, test=False)
    assert len(live) == 1 and urlsplit(live[0]).hostname == "api.binance.com"
    assert ctx.exchange.endpoint_kind == REAL_MONEY


def test_testnet_orders_go_to_the_sandbox_host_only_with_dry_run_false(compose, tmp_path,
                                                                        binance_hosts):
    _, asked = binance_hosts
    ctx = context(compose, tmp_path, "env=testnet", "dry_run=false")
    assert fake_phases.place_order(ctx, via="client")["status"] == "closed"
    sent = order_requests(asked, test=False)
    assert len(sent) == 1 and urlsplit(sent[0]).hostname == "testnet.binance.vision"
    assert ctx.exchange.endpoint_kind == SANDBOX


@pytest.mark.parametrize("env", ["dev", "ci", "local"])
def test_offline_envs_turn_a_user_phases_placement_into_a_test_order(compose, tmp_path, env):
    ctx = context(compose, tmp_path, f"env={env}")
    try:
        assert fake_phases.place_order(ctx, via="wrapper") == {"status": "test"}
        if env == "local":  # the raw client meets the transport guard
            with pytest.raises(OrderRefused, match="dry_run=true"):
                fake_phases.place_order(ctx, via="client")
            assert posts(ctx.exchange.inner.server) == []
    finally:
        ctx.exchange.close()
    record, = ctx.exchange.orders.ledger.records()[:1]
    assert record.test and record.status == "test"


# -- 2. and 3. the endpoint is what the client will really call --------------------------------


def test_sandbox_is_trusted_only_on_the_exchanges_own_sandbox_host():
    assert CcxtExchange(sandbox=True).endpoint_kind == SANDBOX
    assert CcxtExchange(sandbox=False).endpoint_kind == REAL_MONEY
    assert CcxtExchange(sandbox=True, base_url="https://api.binance.com").endpoint_kind \
        == REAL_MONEY
    assert CcxtExchange(sandbox=True, base_url="https://sandbox.example.com").endpoint_kind \
        == REAL_MONEY
    assert CcxtExchange(base_url="http://127.0.0.1:9").endpoint_kind == LOOPBACK


@pytest.mark.parametrize("base_url", [
    "https://api.binance.com", pytest.param("https://example.com", marks=pytest.mark.slow)])
def test_testnet_with_a_foreign_base_url_cannot_place_orders(tmp_path, base_url):
    done = run_cli("env=testnet", f"adapter.base_url={base_url}", "dry_run=false", cwd=tmp_path,
                   BINANCE_TESTNET_API_KEY=KEY, BINANCE_TESTNET_API_SECRET=SECRET)
    assert done.returncode == 2
    line, = done.stderr.splitlines()
    assert line.startswith("error: live guard:") and "real money" in line
    assert not (tmp_path / "outputs").exists() or not list((tmp_path / "outputs").rglob("*.json"))


@pytest.mark.parametrize("url", [
    "http://127.0.0.2:1\\@127.0.0.1:1", "http://user@127.0.0.1:1", "http://127.0.0.1:1 /x",
    "ftp://127.0.0.1", "http://%31%32%37.0.0.1", "http:///nohost", "http://127.0.0.1\t:1"])
def test_ambiguous_urls_are_refused(url):
    with pytest.raises(UnsafeUrl):
        classify(url)


def test_urls_are_classified_as_the_http_client_reads_them():
    assert classify("http://127.0.0.2:8765") == LOOPBACK
    assert classify("http://[::1]:8765/api") == LOOPBACK
    assert classify("http://LOCALHOST:1") == LOOPBACK
    assert classify("https://testnet.binance.vision", {"testnet.binance.vision"}) == SANDBOX
    assert classify("https://127.0.0.1.nip.io") == REAL_MONEY
    assert classify("http://0x7f000001") == REAL_MONEY  # not an address we can prove is loopback


def test_the_backslash_url_is_one_error_line_before_anything_runs(tmp_path):
    done = run_cli("env=testnet", "adapter.base_url='http://127.0.0.2:1\\@127.0.0.1:1'",
                   cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    line, = done.stderr.splitlines()
    assert line.startswith("error: adapter.base_url:") and "backslash" in line


def test_ccxt_retry_options_are_refused_before_the_run():
    problem, = CcxtExchange.check_config({"options": {"maxRetriesOnFailure": 3}})
    assert problem.startswith("adapter.options.maxRetriesOnFailure:")


# -- 4. no order the strategy did not ask for ---------------------------------------------------


def test_the_idle_probe_is_a_test_order_in_live_mode(compose, tmp_path, binance_hosts,
                                                     monkeypatch):
    _, asked = binance_hosts
    monkeypatch.setenv(live_guard.CONFIRM_VAR, live_guard.CONFIRM_VALUE)
    ctx = context(compose, tmp_path, "env=live", "dry_run=false")
    connect.run(ctx)
    market_data.run(ctx, limit=60)
    ctx.data.intended_orders = []
    assert execution.run(ctx)["probe"] is True
    assert order_requests(asked, test=False) == []
    assert len(order_requests(asked, test=True)) == 1
    summary = settle_orders(ctx)
    assert summary["placed"] == 0 and summary["by_status"] == {"test": 1}


# -- 5. unknown outcomes ------------------------------------------------------------------------


def wrapped(http_faults: dict | None = None, *, timeout_ms: int = 2000, recv_window_ms: int = 1000,
            sleep=lambda _s: None, options: dict | None = None):
    exchange = CcxtExchange(
        simulator={"seed": 7, "symbols": SYMBOLS, "http_faults": http_faults},
        timeout_ms=timeout_ms, options={"recvWindow": recv_window_ms, **(options or {})})
    sink = Sink()
    wrapper = InstrumentedExchange(exchange, sink, RetryPolicy(max_attempts=3), sleep=sleep,
                                   seed=1)
    wrapper.load_markets()
    return wrapper, sink, exchange.server


def buy(exchange: InstrumentedExchange, cid: str) -> dict:
    return exchange.create_order("BTC/USDT", "buy", "market", 0.001, client_order_id=cid,
                                 test=False)


@pytest.mark.slow
def test_a_request_that_times_out_and_is_then_accepted_is_found_not_resent():
    """The exchange processes the order after the client gave up: the first look-up is too
    early; the desk waits until the request has expired (recvWindow) and finds it."""
    exchange, _, server = wrapped({"POST order": [{"fault": "delay", "first": 1,
                                                   "delay_ms": 900}]},
                                  timeout_ms=400, recv_window_ms=1500, sleep=time.sleep)
    try:
        order = buy(exchange, "pxr-late-1")
        time.sleep(0.3)
        assert placed(server, "pxr-late-1") == 1 and len(posts(server)) == 1
    finally:
        exchange.close()
    assert order["status"] == "closed"
    record = exchange.orders.ledger.get("pxr-late-1")
    assert record.status == "closed" and record.reconciled


def test_a_lost_answer_and_a_failing_look_up_leave_the_order_unknown_until_reconciled():
    exchange, _, server = wrapped({
        "POST order": [{"fault": "accepted_but_response_lost", "first": 1}],
        "GET order": [{"fault": "unavailable", "first": 4}]})
    try:
        with pytest.raises(OrderOutcomeUnknown, match="pxr-ghost-1"):
            buy(exchange, "pxr-ghost-1")
        record = exchange.orders.ledger.get("pxr-ghost-1")
        assert record.status == "unknown", "not 'error': it may well be filled"
        assert exchange.orders.reconcile() == []
    finally:
        exchange.close()
    assert record.status == "closed" and record.reconciled and record.exchange_id
    assert placed(server, "pxr-ghost-1") == 1 and len(posts(server)) == 1


def test_a_lost_answer_to_the_last_retry_is_still_looked_up():
    exchange, _, server = wrapped({"POST order": [
        {"fault": "unavailable", "first": 2}, {"fault": "accepted_but_response_lost",
                                               "first": 3}]})
    try:
        order = buy(exchange, "pxr-last-1")
    finally:
        exchange.close()
    assert order["status"] == "closed" and len(posts(server)) == 3
    assert placed(server, "pxr-last-1") == 1


def test_an_unreadable_answer_is_not_an_accepted_order():
    exchange, sink, server = wrapped({"POST order": [{"fault": "malformed_json", "first": 1}]})
    try:
        order = buy(exchange, "pxr-garbled-1")
    finally:
        exchange.close()
    first = next(e for e in sink.events if e[1] == "create_order")
    assert first[2] is False, "an answer without an order id is not a success"
    assert order["id"] and placed(server, "pxr-garbled-1") == 1 and len(posts(server)) == 2


def test_ccxts_own_retries_cannot_resend_an_order():
    exchange, _, server = wrapped({"POST order": [{"fault": "unavailable", "first": 1}]})
    exchange.inner.client.options["maxRetriesOnFailure"] = 3  # a user's phase, at run time
    try:
        order = buy(exchange, "pxr-ccxt-1")
    finally:
        exchange.close()
    assert order["status"] == "closed" and placed(server, "pxr-ccxt-1") == 1
    assert len(posts(server)) == 2, "ccxt's resend was stopped; ours came after a look-up"
    assert exchange.inner.client.options["maxRetriesOnFailure"] == 3


def test_the_client_never_retries_on_its_own():
    exchange = CcxtExchange(options={"maxRetriesOnFailure": 5})
    assert exchange.client.options["maxRetriesOnFailure"] == 0


@pytest.mark.slow
def test_an_order_in_flight_when_its_phase_times_out_is_reconciled(tmp_path):
    done = run_cli("env=local", "dry_run=false", "phases.strategy.callable=fake_phases:intend_buy",
                   "phases.execution.timeout_s=0.5", "adapter.timeout_ms=3000",
                   "+adapter.options.recvWindow=2000",
                   "+adapter.simulator.http_faults={order:[{fault:delay,first:1,delay_ms:1500}]}",
                   cwd=tmp_path)
    run_dir = only_run_dir(tmp_path)
    result = json.loads((run_dir / "result.json").read_text())
    phases = {p["name"]: p for p in result["phases"]}
    assert phases["execution"]["status"] == "timed_out", done.stderr
    orders = pl.read_parquet(run_dir / "orders.parquet").row(0, named=True)
    assert orders["status"] == "closed" and orders["reconciled"] and orders["exchange_id"]
    assert result["orders"]["unresolved"] == [] and result["orders"]["placed"] == 1
    assert "reconciled by client order id: closed" in done.stderr
