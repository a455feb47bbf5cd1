"""Transport faults for the HTTP simulator: which request fails, and the answer it gets.

Kept apart from the server so the rules (parsing, counters, the seeded RNG) can be read and
tested without sockets.  Config (`faults=`): endpoint -> list of rules, most specific key first:

    {"POST /api/v3/order": [{"fault": "accepted_but_response_lost", "first": 1}],
     "ticker/24hr": [{"fault": "rate_limit", "first": 2, "retry_after_s": 3}],
     "*": [{"fault": "unavailable", "rate": 0.05}]}

A key is "[METHOD ]path" (path with or without "/api/v3/", or "*"). A rule fires for the first
`first` requests it matches and/or with probability `rate` (seeded RNG, one draw per match).

The `accepted_*` kinds leave the outcome unknown: the request changes state (POST order, DELETE
order, DELETE openOrders only), then its answer is lost (`accepted_but_response_lost`: dropped),
replaced by a 503 (`accepted_then_503`), or by Binance's -1007 timeout
(`accepted_then_timeout_1007`: HTTP 408, or 503 with `answer: "503"`).  `accepted_after_delay`
answers at once with a 503 (or `answer: "drop"`) and carries the request out `delay_ms` later,
unless by then it is older than its recvWindow, as Binance's engine refuses stale requests.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.sim import binance_wire as wire
from adapters.sim.faults import FaultInjector

FAULT_ALIASES = {"429": "rate_limit", "418": "ip_ban", "503": "unavailable",
                 "500": "server_error", "timeout": "delay", "malformed": "malformed_json",
                 "disconnect": "drop"}
ACCEPTED_KINDS = ("accepted_but_response_lost", "accepted_then_503",
                  "accepted_then_timeout_1007", "accepted_after_delay")
FAULT_KINDS = ("rate_limit", "ip_ban", "unavailable", "server_error", "delay",
               "malformed_json", "drop", *ACCEPTED_KINDS)
# Requests that change state: only these can be "accepted" and then lose their answer.
STATE_CHANGING = frozenset({("POST", "order"), ("DELETE", "order"), ("DELETE", "openOrders")})
# The `answer` an unknown-outcome kind may give instead of its default (the first).
ANSWERS = {"accepted_then_timeout_1007": ("408", "503"), "accepted_after_delay": ("503", "drop")}
UNKNOWN_503 = "Unknown error, please check your request or try again later."
TIMEOUT_1007 = {"code": -1007, "msg": "Timeout waiting for response from backend server. Send "
                                      "status unknown; execution status unknown."}
_RULE_KEYS = {"fault", "first", "rate", "retry_after_s", "delay_ms", "body", "answer"}
_CORE_FAULTS = {"ExchangeNotAvailable": "unavailable", "RateLimitExceeded": "rate_limit",
                "RequestTimeout": "delay"}


class Dropped(Exception):
    """Close the connection without answering."""


class FaultAnswer(wire.ApiError):
    """An injected answer: any status, a JSON or plain-text body."""

    def __init__(self, status: int, body: Any, content_type: str | None = None) -> None:
        super().__init__(status, 0, str(body))
        self.payload = body
        self.content_type = content_type or (
            "application/json;charset=UTF-8" if isinstance(body, Mapping) else "text/plain")

    def body(self) -> Any:  # type: ignore[override]
        return self.payload


@dataclass
class HttpFault:
    """One rule: what to do, when (first N matches and/or a seeded rate), and its details."""

    kind: str
    first: int = 0
    rate: float = 0.0
    retry_after_s: float | None = None
    delay_ms: float = 1_000.0
    body: Any = None
    answer: str = ""  # for the unknown-outcome kinds of ANSWERS
    then_drop: bool = False  # a core timeout: after the delay the client is gone
    seen: int = 0
    fired: int = 0

    @classmethod
    def parse(cls, key: tuple[str, str], raw: Mapping[str, Any]) -> HttpFault:
        where = f"faults[{' '.join(key)!r}]"
        if unknown := set(raw) - _RULE_KEYS:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}; "
                             f"allowed {sorted(_RULE_KEYS)}")
        kind = FAULT_ALIASES.get(str(raw.get("fault")), str(raw.get("fault")))
        if kind not in FAULT_KINDS:
            raise ValueError(f"{where}: fault must be one of {FAULT_KINDS}, "
                             f"got {raw.get('fault')!r}")
        method, path = key
        if kind in ACCEPTED_KINDS and not any(path == p and method in ("*", m)
                                              for m, p in STATE_CHANGING):
            raise ValueError(f"{where}: {kind} applies to requests that change state only "
                             "(POST order, DELETE order, DELETE openOrders)")
        allowed = ANSWERS.get(kind, ())
        answer = str(raw.get("answer", allowed[0] if allowed else ""))
        if "answer" in raw and answer not in allowed:
            raise ValueError(f"{where}: answer {raw['answer']!r} is not one of {allowed} "
                             f"for {kind}")
        rule = cls(kind, first=int(raw.get("first", 0)), rate=float(raw.get("rate", 0.0)),
                   retry_after_s=raw.get("retry_after_s"),
                   delay_ms=float(raw.get("delay_ms", 1_000.0)), body=raw.get("body"),
                   answer=answer)
        if rule.first < 0 or not 0.0 <= rule.rate <= 1.0 or rule.delay_ms < 0:
            raise ValueError(f"{where}: need first >= 0, 0 <= rate <= 1, delay_ms >= 0")
        if not rule.first and not rule.rate:
            raise ValueError(f"{where}: give 'first' (a count) or 'rate' (a probability)")
        return rule

    @classmethod
    def from_core(cls, injector: FaultInjector | None, name: str) -> HttpFault | None:
        """The core FaultInjector's draw for endpoint `name`, as an HTTP fault."""
        if injector is None:
            return None
        fault = injector.draw(name)
        if fault is None:
            return None
        kind = _CORE_FAULTS.get(fault.class_name, "unavailable")
        return cls(kind, first=1, retry_after_s=fault.retry_after_s, delay_ms=fault.timeout_ms,
                   then_drop=kind == "delay")

    def apply(self, headers: dict[str, str], server_time: Callable[[], int],
              stopping: threading.Event) -> None:
        """Raise this fault's answer (FaultAnswer or Dropped), or (delay) wait, then return.

        `stopping` cuts a delay short when the server stops: nobody is waiting any more.
        """
        kind = self.kind
        if kind in ("rate_limit", "ip_ban"):
            default = 1.0 if kind == "rate_limit" else 60.0
            wait = self.retry_after_s if self.retry_after_s is not None else default
            status = 429 if kind == "rate_limit" else 418
            msg = ("Too many requests; current limit is exceeded (simulated)." if status == 429
                   else f"Way too much request weight used; IP banned until "
                        f"{server_time() + int(wait * 1000)} (simulated).")
            body = self.body if self.body is not None else {"code": -1003, "msg": msg}
            headers["Retry-After"] = str(max(0, math.ceil(float(wait))))
            raise FaultAnswer(status, body)
        if kind in ("unavailable", "server_error"):
            status = 503 if kind == "unavailable" else 500
            default = "Service Unavailable." if status == 503 else "Internal Server Error"
            raise FaultAnswer(status, self.body if self.body is not None else default)
        if kind == "malformed_json":
            body = self.body if self.body is not None else '{"symbol":"BTCUSDT","price":"6'
            raise FaultAnswer(200, body, content_type="application/json;charset=UTF-8")
        if kind == "drop":
            raise Dropped
        if kind == "delay":
            stopping.wait(self.delay_ms / 1000.0)
            if self.then_drop or stopping.is_set():
                raise Dropped

    @property
    def accepted(self) -> bool:
        """Whether the request takes effect before this fault strikes."""
        return self.kind in ACCEPTED_KINDS

    def lost_answer(self) -> Exception:
        """What the client gets instead of an accepted request's answer (to raise)."""
        if self.kind == "accepted_but_response_lost" or self.answer == "drop":
            return Dropped()
        if self.kind == "accepted_then_timeout_1007":
            return FaultAnswer(int(self.answer), self.body if self.body is not None
                               else dict(TIMEOUT_1007))
        return FaultAnswer(503, self.body if self.body is not None else UNKNOWN_503)


def fault_key(key: str) -> tuple[str, str]:
    """A config key as (METHOD or '*', path below /api/v3/ or '*')."""
    method, _, path = key.strip().rpartition(" ")
    path = path.lstrip("/")
    prefix = wire.API_PREFIX.lstrip("/")
    path = path[len(prefix):] if path.startswith(prefix) else path
    return (method.upper() or "*", path or "*")


class FaultPlan:
    """Per-endpoint HTTP fault rules with their counters and one seeded RNG."""

    def __init__(self, config: Mapping[str, Any] | None, seed: int) -> None:
        self.rules: dict[tuple[str, str], list[HttpFault]] = {}
        for key, rules in (config or {}).items():
            parsed = fault_key(key)
            listed = [rules] if isinstance(rules, Mapping) else list(rules)
            self.rules[parsed] = [HttpFault.parse(parsed, r) for r in listed]
        self._rng = random.Random(f"{seed}:http-faults")
        self._lock = threading.Lock()

    def pick(self, method: str, path: str) -> HttpFault | None:
        """The first rule that fires for this request; every matching rule counts it."""
        chosen = None
        with self._lock:
            for key in ((method, path), ("*", path), (method, "*"), ("*", "*")):
                for rule in self.rules.get(key, ()):
                    if rule.accepted and (method, path) not in STATE_CHANGING:
                        continue
                    rule.seen += 1
                    hit = rule.seen <= rule.first
                    if rule.rate:
                        hit = self._rng.random() < rule.rate or hit
                    if hit and chosen is None:
                        rule.fired += 1
                        chosen = rule
        return chosen

    def counts(self) -> dict[str, int]:
        return {f"{m} {p} {r.kind}": r.fired for (m, p), rs in self.rules.items() for r in rs}
