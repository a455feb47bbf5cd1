"""The exchange interface: what every adapter implements, in ccxt's unified vocabulary, and the
adapter config node's conventions (`_target_`, the wrapper's keys).

Calls reach an adapter only through adapters/instrumented.py's `InstrumentedExchange`, which
records and retries them and sends orders through the order desk.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from adapters.endpoints import REAL_MONEY
from adapters.order_gate import DEFAULT_GATE, OrderGate

log = logging.getLogger(__name__)

Order = dict[str, Any]
Market = dict[str, Any]

# The keys of an adapter config node that are the wrapper's (the run's adapter name, the retry
# policy), never the adapter's.  `_target_` names the adapter's class (Hydra's convention); every
# other key is a keyword of that class's constructor.
WRAPPER_KEYS = ("name", "retry")
TARGET_KEY = "_target_"


def node_kwargs(node: Mapping[str, Any]) -> dict[str, Any]:
    """What an adapter node passes to its class: the node without `_target_` and the wrapper's
    keys."""
    return {k: v for k, v in node.items() if k not in WRAPPER_KEYS and k != TARGET_KEY}


def constructor_keywords(cls: type) -> set[str]:
    """The keyword parameters of `cls`'s constructor, following `**kwargs` up the base classes
    (a subclass that adds one keyword and passes the rest on accepts its parent's too)."""
    import inspect

    found: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = list(inspect.signature(init).parameters.values())[1:]  # after self
        found |= {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return found


class EventSink(Protocol):
    """What the wrapper needs from the metrics recorder."""

    def record(
        self,
        kind: str,
        name: str,
        ok: bool,
        latency_ms: float | None = None,
        error: str | None = None,
        attempt: int = 1,
        symbol: str | None = None,
        phase: str | None = None,
        final: bool | None = None,
    ) -> None: ...


class Exchange(ABC):
    """One exchange, in ccxt's unified vocabulary (symbols like 'BTC/USDT', ccxt-shaped dicts).

    Adapters raise the project's errors (adapters/errors.py; `translate` maps a client's own
    exceptions), so simulated and real failures take the same retry path.  An adapter that
    models latency instead of spending it sets `simulated_latency_ms` (thread-local) after each
    call; the wrapper records that value.
    """

    name: str = "exchange"
    # False when the adapter has no API keys: signed calls (balances, orders) cannot work, so the
    # phases that need them are skipped with a reason instead of failing.
    has_keys: bool = True
    # What the adapter's requests reach (adapters/endpoints.py), judged from the URLs its client
    # really calls; unknown adapters are assumed to reach real money.
    endpoint_kind: str = REAL_MONEY
    # Asked by network adapters' transports before any order request leaves (order_gate.py).
    order_gate: OrderGate = DEFAULT_GATE
    # How long an order request may stay in flight before the client gives up on it.
    request_timeout_s: float = 10.0
    # After this long, a request the exchange has not processed never will be (Binance rejects
    # it as outside its recvWindow): only then does "no such order" prove an order absent.
    order_expiry_s: float = 0.0

    # -- the class answers for its config node before anything is built ---------------------

    @classmethod
    def check_config(cls, node: Mapping[str, Any]) -> list[str]:
        """Problems with an adapter node of this class, one line each, keys prefixed `adapter.`.

        Asked before the run, so a bad setting is exit 2 rather than a failed connect phase.  The
        default says nothing: an adapter without a check is trusted until it is built.
        """
        return []

    @classmethod
    def endpoint_kind_of(cls, node: Mapping[str, Any]) -> str:
        """What a node of this class would reach (adapters/endpoints.py), without building it:
        the live guard asks before the run.  An adapter that cannot say counts as real money."""
        return REAL_MONEY

    @classmethod
    def unknown_keys(cls, node: Mapping[str, Any],
                     accepted: Iterable[str] | None = None) -> list[str]:
        """For `check_config`: one line per key of `node` that neither the wrapper nor the
        adapter reads (`accepted`; by default its constructor's keywords)."""
        adapter_keys = constructor_keywords(cls) if accepted is None else set(accepted)
        allowed = sorted({*WRAPPER_KEYS, TARGET_KEY, *adapter_keys})
        return [f"adapter.{key}: unknown key of {cls.__qualname__}; allowed keys: "
                f"{', '.join(allowed)}" for key in node if key not in allowed]

    def __init__(self) -> None:
        self._latency = threading.local()

    @property
    def simulated_latency_ms(self) -> float | None:
        return getattr(self._latency, "value", None)

    def _set_simulated_latency(self, value: float | None) -> None:
        self._latency.value = value

    @abstractmethod
    def connect(self) -> None: ...

    @abstractmethod
    def ping(self) -> None: ...

    @abstractmethod
    def server_time(self) -> int:
        """Exchange clock in milliseconds since the epoch."""

    @abstractmethod
    def load_markets(self) -> dict[str, Market]: ...

    @abstractmethod
    def fetch_ticker(self, symbol: str) -> dict[str, Any]: ...

    @abstractmethod
    def fetch_ohlcv(
        self, symbol: str, timeframe: str = "1m", limit: int = 100
    ) -> list[list[float]]:
        """Rows of [timestamp_ms, open, high, low, close, volume], oldest first."""

    @abstractmethod
    def fetch_balance(self) -> dict[str, dict[str, float]]:
        """{currency: {'free': x, 'used': y, 'total': z}}."""

    @abstractmethod
    def create_order(
        self,
        symbol: str,
        side: str,
        type: str,
        amount: float,
        price: float | None = None,
        *,
        client_order_id: str,
        test: bool = True,
    ) -> Order:
        """Place (test=False) or only validate (test=True) an order; returns a ccxt-shaped order."""

    @abstractmethod
    def fetch_order(self, symbol: str, *, client_order_id: str) -> Order | None:
        """The order with this client order id, or None when the exchange has none."""

    @abstractmethod
    def cancel_order(self, symbol: str, *, client_order_id: str) -> Order: ...

    def allow_resend(self, client_order_id: str) -> None:  # noqa: B027 - optional hook
        """A look-up proved the order absent: a transport that refuses to send one client order
        id twice may send it once more."""

    def close(self) -> None:  # noqa: B027 - optional hook, most adapters hold no connection
        """Release connections; the default has nothing to release."""
