"""Offline network failures: the root cause in the error, a hint in connect, keys announced.

No traffic leaves the machine: DNS failures use the reserved `.invalid` TLD (RFC 2606, never
resolves) and refused connections a closed port on 127.0.0.1.
"""

from __future__ import annotations

import itertools
import json
import logging
import socket

import pytest
import requests
import urllib3.exceptions
from conftest import only_run_dir, run_cli

from adapters.ccxt_exchange import CcxtExchange
from adapters.errors import AuthFailed, NetworkFailure, network_cause, translate
from runner.context import RunContext
from runner.phases import connect, preflight
from runner.phases.connect import NETWORK_HINT
from runner.recorder import Recorder

NO_KEYS = {"BINANCE_TESTNET_API_KEY": "", "BINANCE_TESTNET_API_SECRET": "",
           "BINANCE_API_KEY": "", "BINANCE_API_SECRET": ""}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chained(*excs: BaseException) -> BaseException:
    """excs[0] raised from excs[1] raised from ... (innermost last)."""
    for outer, inner in itertools.pairwise(excs):
        outer.__cause__ = inner
    return excs[0]


def test_dns_failure_is_named_with_its_host():
    exchange = CcxtExchange(base_url="http://exchange.invalid", timeout_ms=2000)
    try:
        with pytest.raises(NetworkFailure) as caught:
            exchange.connect()
    finally:
        exchange.close()
    message = str(caught.value)
    assert message.endswith("DNS lookup failed for exchange.invalid") and "\n" not in message
    assert caught.value.origin == "NetworkError"


def test_refused_connection_is_named_with_host_and_port(caplog):
    port = closed_port()
    exchange = CcxtExchange(base_url=f"http://127.0.0.1:{port}", timeout_ms=2000)
    try:
        with caplog.at_level(logging.DEBUG, logger="adapters.ccxt_exchange"):
            for _ in range(2):
                with pytest.raises(NetworkFailure, match=f"connection refused by 127.0.0.1:{port}"):
                    exchange.ping()
    finally:
        exchange.close()
    records = [r for r in caplog.records if r.name == "adapters.ccxt_exchange"]
    assert len(records) == 2  # the whole chain once, then a short line
    assert records[0].exc_info is not None and "exception chain" in records[0].getMessage()
    assert records[1].exc_info is None


@pytest.mark.parametrize(("chain", "expected"), [
    (lambda: chained(requests.exceptions.ProxyError("proxy"), urllib3.exceptions.ProxyError(
        "Unable to connect to proxy", ConnectionRefusedError(111, "Connection refused"))),
     "proxy failed: connection refused by the proxy"),
    (lambda: chained(requests.exceptions.SSLError(
        "HTTPSConnectionPool(host='api.binance.com', port=443): Max retries exceeded"),
        urllib3.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")),
     "TLS error with api.binance.com: [SSL: CERTIFICATE_VERIFY_FAILED]"),
    (lambda: chained(requests.exceptions.ConnectTimeout(
        "HTTPSConnectionPool(host='api.binance.com', port=443): connect timeout")),
     "connection to api.binance.com:443 timed out"),
    (lambda: chained(requests.exceptions.ReadTimeout(
        "HTTPSConnectionPool(host='api.binance.com', port=443): Read timed out.")),
     "no answer from api.binance.com in time (read timeout)"),
    (lambda: chained(requests.exceptions.ConnectionError("GET https://api.binance.com/x"),
                     socket.gaierror(-3, "Temporary failure in name resolution")),
     "DNS lookup failed for api.binance.com"),
    (lambda: ValueError("nothing network-like"), None),
])
def test_network_cause_reads_the_chain(chain, expected):
    cause = network_cause(chain())
    assert cause == expected if expected is None else cause.startswith(expected), cause


def test_only_network_failures_get_a_cause():
    import ccxt

    auth = ccxt.AuthenticationError('binance {"code":-2015,"msg":"Invalid API-key"}')
    auth.__cause__ = ConnectionRefusedError(111, "Connection refused")
    assert str(translate(auth)) == str(auth)
    network = ccxt.NetworkError("binance GET https://api.binance.com/api/v3/time")
    network.__cause__ = ConnectionRefusedError(111, "Connection refused")
    assert str(translate(network)).endswith("connection refused by api.binance.com:443")


def make_testnet_ctx(compose, tmp_path, monkeypatch, *overrides: str) -> RunContext:
    for name, value in NO_KEYS.items():
        monkeypatch.setenv(name, value)
    config = compose("env=testnet", *overrides)
    recorder = Recorder("20261127T101010Z-testnet-abcdef", "testnet", tmp_path)
    return RunContext(config=config, run_dir=tmp_path, run_id=recorder.run_id, recorder=recorder)


@pytest.fixture
def warnings():
    from loguru import logger

    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(m.record["message"]), level="WARNING")
    yield lines
    logger.remove(sink)


def test_connect_names_the_cause_and_the_hint_and_preflight_the_keys(compose, tmp_path,
                                                                      monkeypatch, warnings):
    ctx = make_testnet_ctx(compose, tmp_path, monkeypatch, "adapter.sandbox=false",
                      f"adapter.base_url=http://127.0.0.1:{closed_port()}",
                      "adapter.retry.max_attempts=1")
    try:
        preflight.run(ctx)
        assert [w for w in warnings if w.startswith("no API keys")] == [
            "no API keys: signed calls (balances, orders) will be skipped; set "
            "BINANCE_TESTNET_API_KEY and BINANCE_TESTNET_API_SECRET (environment or .env) for "
            "env=testnet (docs/ADAPTERS.md)"]
        with pytest.raises(NetworkFailure) as caught:
            connect.run(ctx)
    finally:
        ctx.exchange.close()
    assert "connection refused by 127.0.0.1:" in str(caught.value)
    assert str(caught.value).endswith(NETWORK_HINT)


def test_refused_keys_get_a_key_hint_not_the_network_hint(compose, tmp_path, monkeypatch):
    import ccxt

    ctx = make_testnet_ctx(compose, tmp_path, monkeypatch, "adapter.retry.max_attempts=1")

    def refuse() -> None:
        raise ccxt.AuthenticationError('binance {"code":-2015,"msg":"Invalid API-key"}')

    try:
        monkeypatch.setattr(ctx.exchange.inner.client, "fetch_time", refuse)
        with pytest.raises(AuthFailed) as caught:
            connect.run(ctx)
    finally:
        ctx.exchange.close()
    assert NETWORK_HINT not in str(caught.value)
    assert str(caught.value).endswith(
        "check the API keys: BINANCE_TESTNET_API_KEY and BINANCE_TESTNET_API_SECRET "
        "(environment or .env)")


def test_keys_present_or_simulator_no_warning(compose, tmp_path, monkeypatch, warnings):
    ctx = make_testnet_ctx(compose, tmp_path, monkeypatch)
    monkeypatch.setenv("BINANCE_TESTNET_API_KEY", "k" * 16)
    monkeypatch.setenv("BINANCE_TESTNET_API_SECRET", "s" * 16)
    keyed = RunContext(config=compose("env=testnet"), run_dir=tmp_path, run_id=ctx.run_id,
                       recorder=ctx.recorder)
    try:
        preflight.run(keyed)
    finally:
        keyed.exchange.close()
    assert not [w for w in warnings if w.startswith("no API keys")]


def test_cli_offline_testnet_shows_cause_hint_and_keys(tmp_path):
    done = run_cli("env=testnet", "adapter.sandbox=false", "adapter.base_url=http://exchange.invalid",
                   "phases.connect.retries=0", "adapter.retry.max_attempts=1", cwd=tmp_path,
                   **NO_KEYS)
    assert done.returncode == 1, done.stderr
    failed = next(x for x in done.stderr.splitlines() if "phase connect: failed" in x)
    assert failed.endswith("NetworkFailure: binance GET http://exchange.invalid/api/v3/time: "
                           f"DNS lookup failed for exchange.invalid — {NETWORK_HINT}"), failed
    assert "no API keys" in done.stderr and "BINANCE_TESTNET_API_KEY" in done.stderr
    run_dir = only_run_dir(tmp_path)
    phases = {p["name"]: p for p in json.loads((run_dir / "result.json").read_text())["phases"]}
    assert "DNS lookup failed for exchange.invalid" in phases["connect"]["error"]
    assert NETWORK_HINT in phases["connect"]["error"]
    run_log = (run_dir / "run.log").read_text()
    assert "exception chain" in run_log and "gaierror" in run_log


@pytest.mark.parametrize(("env", "names"), [
    ("testnet", "BINANCE_TESTNET_API_KEY and BINANCE_TESTNET_API_SECRET"),
    ("live", "BINANCE_API_KEY and BINANCE_API_SECRET")])
def test_the_execution_skip_names_the_keys_of_its_env(env, names):
    from runner.phases.execution import no_keys

    assert no_keys(env).startswith("needs API keys") and names in no_keys(env)
    assert ("TESTNET" in no_keys(env)) == (env == "testnet")
