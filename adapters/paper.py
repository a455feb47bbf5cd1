"""Paper trading: the Exchange interface over an in-process, seeded simulator.

Every call first draws an injected fault, then spends (or records) its latency, then runs the
simulator operation, so a failed call still "takes" time and a fault never changes state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from adapters.base import Exchange, Market, Order, constructor_keywords, node_kwargs
from adapters.endpoints import IN_PROCESS
from adapters.errors import translate
from adapters.sim.faults import FaultInjector
from adapters.sim.latency import LatencyModel
from adapters.sim.settings import SimSettings, simulator_settings

T = TypeVar("T")


class PaperExchange(Exchange):
    """A simulated spot exchange; same seed and config → same prices and fills.

    Keyword config: `seed`, `latency` {mode, base_ms, per_endpoint, sigma}, `faults`
    {error_rate, timeout_rate, rate_limit_rate, response_lost_rate, retry_after_s, timeout_ms,
    per_endpoint}, and
    the market/account settings of `Simulator.create` (symbols, markets, start_prices, drift,
    volatility, spread_bps, slippage_bps, taker_fee, maker_fee, min_notional, balances,
    history, clock_offset_ms).  `clock` is for tests.
    """

    name = "paper"
    endpoint_kind = IN_PROCESS  # nothing leaves the process
    request_timeout_s = 1.0

    def __init__(
        self,
        *,
        seed: int = 42,
        latency: Mapping[str, Any] | None = None,
        faults: Mapping[str, Any] | None = None,
        clock: Callable[[], float] | None = None,
        **market_config: Any,
    ) -> None:
        super().__init__()
        self.seed = int(seed)
        settings, self.latency, self.faults = self._settings(self.seed, latency, faults,
                                                             clock=clock, **market_config)
        from adapters.sim.engine import Simulator  # the engine: only when a run needs it

        self.sim = Simulator.build(settings)
        self.request_timeout_s = max(1.0, self.faults.timeout_ms / 1000.0)

    @classmethod
    def check_config(cls, node: Mapping[str, Any]) -> list[str]:
        """Unknown keys, then the complaints of the simulator's settings check, its latency and
        its fault model: the authorities on their settings, asked without building the
        simulator (whose engine a config check has no use for).  A subclass with a constructor
        of its own is built instead: only it can judge the keywords it adds."""
        import inspect

        simulator_keys = set(inspect.signature(simulator_settings).parameters)
        accepted = (constructor_keywords(cls) | simulator_keys) - {"clock"}  # clock: tests only
        unknown = cls.unknown_keys(node, accepted)
        if unknown:
            return unknown
        try:
            kwargs = node_kwargs(node)
            if cls.__init__ is not PaperExchange.__init__:  # only a subclass judges its keys
                cls(**kwargs)
            else:
                cls._settings(int(kwargs.pop("seed", 42)), kwargs.pop("latency", None),
                              kwargs.pop("faults", None), **kwargs)
        except (TypeError, ValueError) as exc:
            text = str(exc)
            if text.startswith("no start price for "):  # a symbol the run asked for
                return [f"symbols: {text}"]
            return [f"adapter: {text}"]
        return []

    @staticmethod
    def _settings(seed: int, latency: Mapping[str, Any] | None,
                  faults: Mapping[str, Any] | None, **market_config: Any
                  ) -> tuple[SimSettings, LatencyModel, FaultInjector]:
        """The checked settings of the simulator, its latency and its faults: what __init__
        builds from, and all a config check needs (each the authority on its settings)."""
        return (simulator_settings(seed=seed, **market_config),
                LatencyModel.from_config(seed, latency), FaultInjector.from_config(seed, faults))

    @classmethod
    def endpoint_kind_of(cls, node: Mapping[str, Any]) -> str:
        """Nothing leaves the process, whatever the node says."""
        return IN_PROCESS

    def _call(self, endpoint: str, op: Callable[[], T]) -> T:
        """Fault draw, then latency, then the operation; sets the latency the wrapper records."""
        self._set_simulated_latency(None)
        fault = self.faults.draw(endpoint)
        if fault is not None and fault.after_effect:  # it happened; the answer is lost
            self._set_simulated_latency(self.latency.spend(endpoint, fault.latency_ms))
            op()
            raise fault.exception()
        if fault is not None:
            self._set_simulated_latency(self.latency.spend(endpoint, fault.latency_ms))
            raise fault.exception()
        self._set_simulated_latency(self.latency.spend(endpoint))
        try:
            return op()
        except Exception as exc:  # the engine's rejections, in the project's vocabulary
            raise translate(exc) from exc


    def connect(self) -> None:
        self._call("connect", lambda: None)

    def ping(self) -> None:
        self._call("ping", lambda: None)

    def server_time(self) -> int:
        return self._call("server_time", self.sim.server_time)

    def load_markets(self) -> dict[str, Market]:
        return self._call("load_markets", self.sim.load_markets)

    def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        return self._call("fetch_ticker", lambda: self.sim.fetch_ticker(symbol))

    def fetch_ohlcv(
        self, symbol: str, timeframe: str = "1m", limit: int = 100
    ) -> list[list[float]]:
        return self._call("fetch_ohlcv", lambda: self.sim.fetch_ohlcv(symbol, timeframe, limit))

    def fetch_balance(self) -> dict[str, dict[str, float]]:
        return self._call("fetch_balance", self.sim.fetch_balance)

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
        return self._call("create_order", lambda: self.sim.create_order(
            symbol, side, type, amount, price, client_order_id=client_order_id, test=test))

    def fetch_order(self, symbol: str, *, client_order_id: str) -> Order | None:
        return self._call(
            "fetch_order", lambda: self.sim.fetch_order(symbol, client_order_id=client_order_id))

    def cancel_order(self, symbol: str, *, client_order_id: str) -> Order:
        return self._call(
            "cancel_order", lambda: self.sim.cancel_order(symbol, client_order_id=client_order_id))

