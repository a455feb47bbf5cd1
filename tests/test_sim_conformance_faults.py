"""Unknown-outcome faults: the request takes effect and the client cannot tell.

Each kind places exactly one order, whatever the client then does: the runner's
InstrumentedExchange looks the order up by client order id (never re-sending it blindly) and
reconciles it; a plain client sees Binance's answers (503, -1007 on HTTP 408, a dropped
connection).  Servers bind 127.0.0.1 on port 0.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from conftest import EventTuples as Sink
from test_sim_conformance import KEY, SECRET, ccxt_client, connector

from adapters.ccxt_exchange import CcxtExchange
from adapters.instrumented import InstrumentedExchange
from adapters.retry import RetryPolicy
from adapters.sim import Simulator
from adapters.sim.server import SimServer

pytestmark = pytest.mark.slow  # fault drills against the HTTP simulator, with real timeouts

KINDS = [
    # rule on POST order, what ccxt raises for the answer
    ({"fault": "accepted_but_response_lost"}, "NetworkError"),
    ({"fault": "accepted_then_503"}, "ExchangeNotAvailable"),
    ({"fault": "accepted_then_timeout_1007"}, "RequestTimeout"),
    ({"fault": "accepted_then_timeout_1007", "answer": "503"}, "RequestTimeout"),
    ({"fault": "accepted_after_delay", "delay_ms": 300}, "ExchangeNotAvailable"),
    ({"fault": "accepted_after_delay", "delay_ms": 300, "answer": "drop"}, "NetworkError"),
]
IDS = ["lost", "503", "1007_408", "1007_503", "late_503", "late_drop"]


def wrapped(http_faults: dict[str, Any]) -> tuple[InstrumentedExchange, SimServer]:
    """The runner's wrapper over the ccxt adapter on a simulator (recvWindow 1 s, real sleeps:
    a late order is only proof of absence once its request has expired)."""
    exchange = CcxtExchange(
        simulator={"seed": 7, "symbols": ["BTC/USDT", "ETH/USDT"], "http_faults": http_faults},
        timeout_ms=2000, options={"recvWindow": 1000})
    wrapper = InstrumentedExchange(exchange, Sink(), RetryPolicy(max_attempts=3),
                                   sleep=time.sleep, seed=1)
    wrapper.load_markets()
    assert exchange.server is not None
    return wrapper, exchange.server


@pytest.mark.parametrize(("rule", "_raised"), KINDS, ids=IDS)
def test_each_unknown_outcome_places_one_order_and_is_reconciled(rule: dict[str, Any],
                                                                 _raised: str) -> None:
    exchange, server = wrapped({"POST order": [{**rule, "first": 1}]})
    try:
        order = exchange.create_order("BTC/USDT", "buy", "market", 0.001,
                                      client_order_id="pxr-unknown-1", test=False)
        time.sleep(0.35)  # past any late acceptance: nothing more may appear
        placed = [o for o in server.orders() if o.client_order_id == "pxr-unknown-1"]
        posts = [r for r in server.requests if r[0] == "POST" and r[1].endswith("/order")]
    finally:
        exchange.close()
    assert order["status"] == "closed" and len(placed) == 1 and placed[0].status == "FILLED"
    assert len(posts) == 1, "looked up, never sent again"
    record = exchange.orders.ledger.get("pxr-unknown-1")
    assert record.status == "closed" and record.reconciled
    assert record.exchange_id == str(placed[0].order_id)


@pytest.mark.parametrize(("rule", "raised"), KINDS, ids=IDS)
def test_a_plain_client_sees_binances_answers(rule: dict[str, Any], raised: str) -> None:
    import ccxt

    faults = {"POST order": [{**rule, "first": 1}]}
    with SimServer(Simulator.create(seed=5), api_key=KEY, api_secret=SECRET,
                   faults=faults) as srv:
        ex = ccxt_client(srv, timeout=2000)
        ex.load_markets()
        with pytest.raises(ccxt.BaseError) as caught:
            ex.create_order("ETH/USDT", "market", "buy", 0.1, params={"clientOrderId": "u-1"})
        assert type(caught.value) is getattr(ccxt, raised)
        time.sleep(0.35)
        assert [o.client_order_id for o in srv.orders()] == ["u-1"]


def test_binance_connector_sees_the_1007_timeout_and_the_503() -> None:
    from binance.error import ClientError, ServerError

    faults = {"POST order": [{"fault": "accepted_then_timeout_1007", "first": 1},
                             {"fault": "accepted_then_503", "first": 2}]}
    with SimServer(Simulator.create(seed=5), api_key=KEY, api_secret=SECRET,
                   faults=faults) as srv:
        spot = connector(srv)
        with pytest.raises(ClientError) as timeout:
            spot.new_order("ETHUSDT", "BUY", "MARKET", quantity=0.1)
        assert (timeout.value.status_code, timeout.value.error_code) == (408, -1007)
        assert "execution status unknown" in timeout.value.error_message
        with pytest.raises(ServerError) as unavailable:
            spot.new_order("ETHUSDT", "BUY", "MARKET", quantity=0.1)
        assert unavailable.value.status_code == 503
        assert [o.status for o in srv.orders()] == ["FILLED", "FILLED"]


def test_a_late_request_past_its_recv_window_is_never_carried_out() -> None:
    from binance.error import ServerError

    faults = {"POST order": [{"fault": "accepted_after_delay", "delay_ms": 600, "first": 1}]}
    with SimServer(Simulator.create(seed=5), api_key=KEY, api_secret=SECRET,
                   faults=faults) as srv:
        with pytest.raises(ServerError):
            connector(srv).new_order("ETHUSDT", "BUY", "MARKET", quantity=0.1, recvWindow=300)
        time.sleep(0.75)
        assert srv.orders() == [], "Binance's engine refuses a request older than recvWindow"


def test_a_cancel_can_be_accepted_and_its_answer_lost() -> None:
    import ccxt

    faults = {"DELETE order": [{"fault": "accepted_then_503", "first": 1}]}
    with SimServer(Simulator.create(seed=5), api_key=KEY, api_secret=SECRET,
                   faults=faults) as srv:
        ex = ccxt_client(srv)
        ex.load_markets()
        price = round(srv.sim.fetch_ticker("ETH/USDT")["bid"] * 0.8, 2)
        order = ex.create_order("ETH/USDT", "limit", "buy", 0.1, price)
        with pytest.raises(ccxt.ExchangeNotAvailable):
            ex.cancel_order(order["id"], "ETH/USDT")
        assert [o.status for o in srv.orders()] == ["CANCELED"]


@pytest.mark.parametrize("faults", [
    {"GET order": [{"fault": "accepted_then_503", "first": 1}]},
    {"order/test": [{"fault": "accepted_after_delay", "first": 1}]},
    {"POST order": [{"fault": "accepted_then_timeout_1007", "first": 1, "answer": "500"}]},
    {"POST order": [{"fault": "accepted_after_delay", "first": 1, "answer": "408"}]},
    {"POST order": [{"fault": "accepted_then_503", "first": 1, "answer": "503"}]},
])
def test_unknown_outcome_rules_are_checked(faults: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="faults"):
        SimServer(Simulator.create(seed=1), faults=faults)
