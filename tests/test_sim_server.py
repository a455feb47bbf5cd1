"""The simulator over HTTP: Binance spot wire format, auth, weights, faults, and real ccxt.

Every server binds 127.0.0.1 on port 0 and is stopped by its fixture or `with` block; nothing
here leaves the machine (ccxt's every API base is rewritten onto the local server).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from adapters.ccxt_transport import SPOT_OPTIONS, point_urls
from adapters.paper import PaperExchange
from adapters.sim import FaultInjector, LatencyModel, Simulator
from adapters.sim.server import SimServer

ROOT = Path(__file__).resolve().parents[1]
KEY, SECRET = "test-key", "test-secret"
T0 = 1_700_000_030.5


class Reply:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status, self.headers, self.raw = status, headers, body

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


def call(server: SimServer, path: str, params: dict[str, Any] | None = None, *,
         method: str = "GET", headers: dict[str, str] | None = None, body: str | None = None,
         timeout: float = 5) -> Reply:
    """One request to /api/v3/<path>; HTTP errors come back as replies, not exceptions."""
    url = f"{server.url}/api/v3/{path}" + (f"?{urlencode(params)}" if params else "")
    req = urllib.request.Request(url, method=method, headers=headers or {},
                                 data=body.encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Reply(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, err.headers, err.read())


def sign(query: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()


def signed(server: SimServer, path: str, params: dict[str, Any] | None = None, *,
           method: str = "GET", key: str | None = KEY, secret: str = SECRET,
           timestamp: int | None = None, in_body: bool = False) -> Reply:
    """A SIGNED request as Binance documents it: in the query string, or as a form body."""
    ts = server.sim.server_time() if timestamp is None else timestamp
    query = urlencode({**(params or {}), "timestamp": ts})
    query += f"&signature={sign(query, secret)}"
    headers = {"X-MBX-APIKEY": key} if key is not None else {}
    if in_body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return call(server, path, method=method, headers=headers, body=query)
    return call(server, f"{path}?{query}", method=method, headers=headers)


@pytest.fixture
def server() -> Iterator[SimServer]:
    with SimServer(Simulator.create(seed=42), api_key=KEY, api_secret=SECRET) as srv:
        yield srv


@pytest.fixture
def ccxt() -> Any:
    import ccxt  # lazily: only the tests that use it pay the import

    return ccxt


def client(ccxt: Any, server: SimServer, **config: Any) -> Any:
    """ccxt's binance, spot only, with every API base pointed at the simulator."""
    exchange = ccxt.binance({"apiKey": KEY, "secret": SECRET, "enableRateLimit": False,
                             "timeout": 3_000, "options": dict(SPOT_OPTIONS), **config})
    return point_urls(exchange, server.url)


# -- raw HTTP: shapes and determinism -----------------------------------------------------------


def test_public_endpoints_have_binance_shapes(server: SimServer) -> None:
    assert call(server, "ping").json == {}
    assert abs(call(server, "time").json["serverTime"] - server.sim.server_time()) < 2_000

    info = call(server, "exchangeInfo").json
    btc = next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT")
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert (btc["status"], btc["baseAsset"], btc["quoteAsset"]) == ("TRADING", "BTC", "USDT")
    assert btc["isSpotTradingAllowed"] and btc["permissionSets"] == [["SPOT"]]
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
    assert filters["LOT_SIZE"]["minQty"] == "0.00001000"
    assert filters["NOTIONAL"]["minNotional"] == "10.00000000"

    klines = call(server, "klines", {"symbol": "BTCUSDT", "interval": "5m", "limit": 3}).json
    assert len(klines) == 3 and all(len(k) == 12 for k in klines)
    assert all(isinstance(k[0], int) and isinstance(k[6], int) for k in klines)
    assert all(isinstance(v, str) for k in klines for v in k[1:6])
    assert [k[6] - k[0] for k in klines] == [5 * 60_000 - 1] * 3

    ticker = call(server, "ticker/24hr", {"symbol": "ETHUSDT"}).json
    book = call(server, "depth", {"symbol": "ETHUSDT", "limit": 5}).json
    assert book["bids"][0][0] == ticker["bidPrice"] and book["asks"][0][0] == ticker["askPrice"]
    assert len(book["bids"]) == len(book["asks"]) == 5
    assert [float(b[0]) for b in book["bids"]] == sorted((float(b[0]) for b in book["bids"]),
                                                         reverse=True)
    assert len(call(server, "ticker/price").json) == len(server.sim.load_markets())


def test_same_seed_serves_the_same_prices_as_the_paper_adapter() -> None:
    sim = Simulator.create(seed=7, clock=lambda: T0)
    paper = PaperExchange(seed=7, clock=lambda: T0)
    other = Simulator.create(seed=8, clock=lambda: T0)
    with SimServer(sim) as srv, SimServer(other) as srv_other:
        for symbol in ("BTC/USDT", "ETH/USDT"):
            for interval in ("1m", "15m", "1h"):
                params = {"symbol": symbol.replace("/", ""), "interval": interval,
                          "limit": 50}
                rows = [[k[0], *map(float, k[1:6])] for k in call(srv, "klines", params).json]
                assert rows == paper.fetch_ohlcv(symbol, interval, 50)
                assert call(srv_other, "klines", params).json != call(srv, "klines", params).json
            price = call(srv, "ticker/price", {"symbol": symbol.replace("/", "")}).json
            assert float(price["price"]) == paper.fetch_ticker(symbol)["last"]


def test_serves_the_given_core_not_a_copy(server: SimServer) -> None:
    reply = signed(server, "order", {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET",
                                     "quantity": "0.5", "newClientOrderId": "raw-1"},
                   method="POST", in_body=True)
    assert reply.status == 200 and reply.json["status"] == "FILLED"
    assert reply.json["fills"][0]["qty"] == "0.50000000"
    core = server.sim.fetch_order("ETH/USDT", client_order_id="raw-1")
    assert core is not None and core["status"] == "closed"
    balances = {b["asset"]: b for b in signed(server, "account").json["balances"]}
    assert float(balances["ETH"]["free"]) == pytest.approx(5.5)
    assert float(balances["USDT"]["free"]) == pytest.approx(
        server.sim.fetch_balance()["USDT"]["free"], abs=1e-8)


# -- raw HTTP: auth, errors, weights --------------------------------------------------------


def test_signed_endpoints_check_key_signature_and_timestamp(server: SimServer) -> None:
    assert signed(server, "account").status == 200
    bad_sig = signed(server, "account", secret="wrong")
    assert (bad_sig.status, bad_sig.json["code"]) == (400, -1022)
    wrong_key = signed(server, "account", key="not-the-key")
    assert (wrong_key.status, wrong_key.json["code"]) == (401, -2015)
    no_key = signed(server, "account", key=None)
    assert (no_key.status, no_key.json["code"]) == (401, -2014)
    stale = signed(server, "account", timestamp=server.sim.server_time() - 6_000)
    assert (stale.status, stale.json["code"]) == (400, -1021)
    assert "recvWindow" in stale.json["msg"]
    ahead = signed(server, "account", timestamp=server.sim.server_time() + 5_000)
    assert ahead.json["code"] == -1021
    unsigned = call(server, "account", {"timestamp": server.sim.server_time()},
                    headers={"X-MBX-APIKEY": KEY})
    assert (unsigned.status, unsigned.json["code"]) == (400, -1102)


def test_signature_covers_query_string_and_body_concatenated(server: SimServer) -> None:
    query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
    body = f"quantity=0.001&price=30000&timestamp={server.sim.server_time()}"
    body += f"&signature={sign(query + body)}"  # Binance: totalParams = query + body
    reply = call(server, f"order?{query}", method="POST", headers={"X-MBX-APIKEY": KEY},
                 body=body)
    assert reply.json["status"] == "NEW" and reply.json["price"] == "30000.00000000"
    tampered = body.replace("quantity=0.001", "quantity=0.002")
    assert call(server, f"order?{query}", method="POST", headers={"X-MBX-APIKEY": KEY},
                body=tampered).json["code"] == -1022


def test_errors_use_binance_codes(server: SimServer) -> None:
    def code(reply: Reply) -> tuple[int, int]:
        return reply.status, reply.json["code"]

    assert code(call(server, "ticker/24hr", {"symbol": "NOPEUSDT"})) == (400, -1121)
    assert code(call(server, "klines", {"symbol": "BTCUSDT", "interval": "2d"})) == (400, -1120)
    assert code(call(server, "klines", {"interval": "1m"})) == (400, -1102)
    assert call(server, "futures/whatever").status == 404

    def order(**extra: Any) -> Reply:
        params = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", **extra}
        return signed(server, "order", params, method="POST")

    rich = order(quantity="5")
    assert code(rich) == (400, -2010) and "insufficient balance" in rich.json["msg"]
    assert order(quantity="0.000015").json == {
        "code": -1013, "msg": "Filter failure: LOT_SIZE"}
    assert order(quantity="0.00001").json == {"code": -1013, "msg": "Filter failure: NOTIONAL"}
    resting = {"type": "LIMIT", "timeInForce": "GTC", "price": "30000", "quantity": "0.001"}
    assert order(**resting, newClientOrderId="dup").status == 200  # open: its id is taken
    assert order(quantity="0.001", newClientOrderId="dup").json["msg"] == "Duplicate order sent."
    assert code(signed(server, "order", {"symbol": "BTCUSDT", "orderId": 999})) == (400, -2013)
    assert code(signed(server, "order", {"symbol": "BTCUSDT", "origClientOrderId": "nope"},
                       method="DELETE")) == (400, -2011)
    assert code(signed(server, "order", {"symbol": "BTCUSDT"})) == (400, -1102)


def test_weight_header_counts_a_rolling_minute_and_limits(server: SimServer) -> None:
    used = [int(call(server, "ping").headers["X-MBX-USED-WEIGHT-1M"])]
    used.append(int(call(server, "exchangeInfo").headers["X-MBX-USED-WEIGHT-1M"]))
    used.append(int(call(server, "depth", {"symbol": "BTCUSDT", "limit": 500})
                    .headers["X-MBX-USED-WEIGHT-1M"]))
    assert used == [1, 21, 46]

    with SimServer(Simulator.create(seed=1), weight_limit=30) as small:
        assert call(small, "exchangeInfo").status == 200
        over = call(small, "exchangeInfo")
        assert (over.status, over.json["code"]) == (429, -1003)
        assert 1 <= int(over.headers["Retry-After"]) <= 60


# -- faults: configuration and determinism --------------------------------------------------


def test_fault_rules_fire_first_n_then_pass() -> None:
    faults = {"GET ticker/price": [{"fault": "503", "first": 2}]}
    with SimServer(Simulator.create(seed=1), faults=faults) as srv:
        statuses = [call(srv, "ticker/price", {"symbol": "BTCUSDT"}).status for _ in range(3)]
        assert statuses == [503, 503, 200]
        assert call(srv, "ticker/bookTicker", {"symbol": "BTCUSDT"}).status == 200
        assert srv.faults.counts() == {"GET ticker/price unavailable": 2}


def test_fault_rates_are_seeded() -> None:
    faults = {"*": [{"fault": "unavailable", "rate": 0.5}]}

    def statuses(seed: int) -> list[int]:
        with SimServer(Simulator.create(seed=seed), faults=faults) as srv:
            return [call(srv, "ping").status for _ in range(16)]

    first = statuses(3)
    assert first == statuses(3) and {200, 503} == set(first)
    assert first != statuses(4)


@pytest.mark.parametrize("faults", [
    {"ticker/price": [{"fault": "explode", "first": 1}]},
    {"ticker/price": [{"fault": "accepted_but_response_lost", "first": 1}]},
    {"ticker/price": [{"fault": "drop"}]},
    {"ticker/price": [{"fault": "drop", "first": 1, "typo": 2}]},
])
def test_bad_fault_rules_are_refused(faults: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="faults"):
        SimServer(Simulator.create(seed=1), faults=faults)


def test_core_fault_injector_and_latency_model_apply_over_http() -> None:
    sim = Simulator.create(seed=1)
    injector = FaultInjector(1, rate_limit_rate=1.0, retry_after_s=2)
    with SimServer(sim, injector=injector) as srv:
        reply = call(srv, "ping")
        assert (reply.status, reply.json["code"], reply.headers["Retry-After"]) == (
            429, -1003, "2")
    latency = LatencyModel(1, mode="sleep", base_ms=120.0, sigma=0.0)
    with SimServer(sim, latency=latency) as srv:
        started = time.perf_counter()
        assert call(srv, "ping").status == 200
        assert time.perf_counter() - started >= 0.12


def test_refuses_non_loopback_hosts() -> None:
    with pytest.raises(ValueError, match="loopback"):
        SimServer(Simulator.create(seed=1), host="0.0.0.0")
    from adapters.sim.__main__ import main

    assert main(["--host", "0.0.0.0", "--port", "0"]) == 2


def test_stop_releases_the_port() -> None:
    srv = SimServer(Simulator.create(seed=1)).start()
    url = srv.url
    assert call(srv, "ping").status == 200
    srv.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{url}/api/v3/ping", timeout=1)


def test_cli_serves_until_interrupted() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "adapters.sim", "--port", "0", "--seed", "3"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = first.rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{url}/api/v3/ping", timeout=5) as resp:
            assert json.loads(resp.read()) == {}
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# -- ccxt end to end -------------------------------------------------------------------------


def test_ccxt_binance_trades_against_the_core(ccxt: Any, server: SimServer) -> None:
    ex = client(ccxt, server)
    sim = server.sim
    markets = ex.load_markets()
    assert {s for s, m in markets.items() if m["spot"]} == set(sim.load_markets())
    btc = markets["BTC/USDT"]
    assert (btc["precision"]["amount"], btc["precision"]["price"]) == (1e-5, 0.01)
    assert btc["limits"]["cost"]["min"] == 10.0

    ticker = ex.fetch_ticker("BTC/USDT")
    core = sim.fetch_ticker("BTC/USDT")
    assert (ticker["last"], ticker["bid"], ticker["ask"]) == (core["last"], core["bid"],
                                                             core["ask"])
    assert ex.fetch_ohlcv("ETH/USDT", "5m", limit=20) == sim.fetch_ohlcv("ETH/USDT", "5m", 20)
    book = ex.fetch_order_book("BTC/USDT", 10)
    assert (book["bids"][0][0], book["asks"][0][0]) == (core["bid"], core["ask"])
    balance = ex.fetch_balance()
    assert {c: balance[c]["free"] for c in ("USDT", "BTC")} == {"USDT": 10_000.0, "BTC": 0.5}

    bought = ex.create_order("BTC/USDT", "market", "buy", 0.01, params={"clientOrderId": "m1"})
    assert (bought["status"], bought["filled"], bought["clientOrderId"]) == ("closed", 0.01, "m1")
    assert sim.fetch_balance()["BTC"]["free"] == pytest.approx(0.51)
    assert ex.fetch_balance()["USDT"]["free"] == pytest.approx(
        sim.fetch_balance()["USDT"]["free"], abs=1e-8)

    price = round(core["bid"] * 0.8, 2)
    rested = ex.create_order("BTC/USDT", "limit", "buy", 0.01, price)
    assert rested["status"] == "open" and rested["price"] == price
    assert sim.fetch_balance()["USDT"]["used"] > 0
    assert ex.fetch_order(rested["id"], "BTC/USDT")["status"] == "open"
    assert [o["id"] for o in ex.fetch_open_orders("BTC/USDT")] == [rested["id"]]
    assert ex.cancel_order(rested["id"], "BTC/USDT")["status"] == "canceled"
    core_order = sim.fetch_order("BTC/USDT", client_order_id=rested["clientOrderId"])
    assert core_order is not None and core_order["status"] == "canceled"
    assert sim.fetch_balance()["USDT"]["used"] == 0

    checked = ex.create_order("BTC/USDT", "limit", "buy", 0.01, price,
                              params={"test": True, "clientOrderId": "t1"})
    assert checked["id"] is None
    assert sim.fetch_order("BTC/USDT", client_order_id="t1") is None
    assert {p for _, p, _ in server.requests} <= {
        f"/api/v3/{p}" for p in ("exchangeInfo", "ticker/24hr", "klines", "depth", "account",
                                 "order", "order/test", "openOrders")}

    with pytest.raises(ccxt.InsufficientFunds):
        ex.create_order("BTC/USDT", "market", "buy", 5)
    ex.create_order("BTC/USDT", "limit", "buy", 0.01, price, params={"clientOrderId": "r1"})
    with pytest.raises(ccxt.InvalidOrder):  # -2010 Duplicate order sent.: r1 is open
        ex.create_order("BTC/USDT", "market", "buy", 0.01, params={"clientOrderId": "r1"})
    with pytest.raises(ccxt.OrderNotFound):
        ex.cancel_order(bought["id"], "BTC/USDT")  # filled: Binance says -2011


def test_ccxt_sees_auth_and_clock_errors(ccxt: Any) -> None:
    sim = Simulator.create(seed=1)
    with SimServer(sim, api_key=KEY, api_secret=SECRET) as srv, \
            pytest.raises(ccxt.AuthenticationError):
        client(ccxt, srv, secret="wrong").fetch_balance()
    skewed = Simulator.create(seed=1, clock_offset_ms=-20_000)  # exchange clock 20 s behind
    with SimServer(skewed, api_key=KEY, api_secret=SECRET) as srv, \
            pytest.raises(ccxt.InvalidNonce):
        client(ccxt, srv).fetch_balance()


FAULT_TABLE = [
    # rule on GET ticker/24hr, the exact ccxt class raised, Retry-After the client sees
    ({"fault": "rate_limit", "retry_after_s": 7}, "DDoSProtection", "7"),
    ({"fault": "ip_ban", "retry_after_s": 120}, "DDoSProtection", "120"),
    ({"fault": "unavailable"}, "ExchangeNotAvailable", None),
    ({"fault": "server_error"}, "ExchangeNotAvailable", None),
    ({"fault": "server_error", "body": {"code": -1001, "msg": "Internal error."}},
     "OperationFailed", None),
    ({"fault": "delay", "delay_ms": 1_500}, "RequestTimeout", None),
    ({"fault": "drop"}, "NetworkError", None),
]


@pytest.mark.parametrize(("rule", "expected", "retry_after"), FAULT_TABLE,
                         ids=[r[0]["fault"] + ("_json" if "body" in r[0] else "")
                              for r in FAULT_TABLE])
def test_ccxt_exception_for_each_fault(ccxt: Any, rule: dict[str, Any], expected: str,
                                       retry_after: str | None) -> None:
    faults = {"GET /api/v3/ticker/24hr": [{**rule, "first": 1}]}
    with SimServer(Simulator.create(seed=5), api_key=KEY, api_secret=SECRET,
                   faults=faults) as srv:
        ex = client(ccxt, srv, timeout=400)
        ex.load_markets()
        with pytest.raises(ccxt.BaseError) as caught:
            ex.fetch_ticker("BTC/USDT")
        assert type(caught.value) is getattr(ccxt, expected)
        if retry_after is not None:
            assert ex.last_response_headers["Retry-After"] == retry_after
        assert ex.fetch_ticker("BTC/USDT")["last"] == srv.sim.fetch_ticker("BTC/USDT")["last"]


def test_ccxt_swallows_malformed_json(ccxt: Any) -> None:
    faults = {"ticker/24hr": [{"fault": "malformed_json", "first": 1}]}
    with SimServer(Simulator.create(seed=5), api_key=KEY, api_secret=SECRET,
                   faults=faults) as srv:
        ex = client(ccxt, srv)
        ex.load_markets()
        ticker = ex.fetch_ticker("BTC/USDT")  # no exception: an empty ticker, raw text in info
        assert ticker["last"] is None and isinstance(ticker["info"], str)


def test_accepted_but_response_lost_places_exactly_one_order(ccxt: Any) -> None:
    faults = {"POST order": [{"fault": "accepted_but_response_lost", "first": 1}]}
    with SimServer(Simulator.create(seed=5), api_key=KEY, api_secret=SECRET,
                   faults=faults) as srv:
        ex = client(ccxt, srv)
        ex.load_markets()
        with pytest.raises(ccxt.NetworkError):
            ex.create_order("ETH/USDT", "market", "buy", 0.1, params={"clientOrderId": "lost-1"})
        core = srv.sim.fetch_order("ETH/USDT", client_order_id="lost-1")
        assert core is not None and core["status"] == "closed"
        assert srv.sim.fetch_balance()["ETH"]["free"] == pytest.approx(5.1)

        found = signed(srv, "order", {"symbol": "ETHUSDT", "origClientOrderId": "lost-1"})
        assert (found.json["status"], found.json["orderId"]) == ("FILLED", int(core["id"]))
        again = ex.fetch_order(None, "ETH/USDT", params={"clientOrderId": "lost-1"})
        assert again["status"] == "closed" and again["id"] == core["id"]
        assert len(ex.fetch_orders("ETH/USDT")) == 1
        # As on Binance, a filled order's id may be reused: a blind retry would buy twice.
        twice = ex.create_order("ETH/USDT", "market", "buy", 0.1,
                                params={"clientOrderId": "lost-1"})
        assert twice["id"] != core["id"] and len(ex.fetch_orders("ETH/USDT")) == 2
