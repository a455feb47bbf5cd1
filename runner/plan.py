"""Config -> an ordered, validated execution plan (plan.json).

The plan is pure data: which phases run, in which order, with which limits.  Ordering is a stable
topological sort (ties keep the order in which the YAML declares the phases), so the same config
always yields the same plan.
"""

from __future__ import annotations

import heapq
import inspect
from dataclasses import asdict, dataclass, field
from typing import Any

from runner.phases import BUILTIN, resolve_callable
from runner.shared.errors import ConfigError

PLAN_SCHEMA_VERSION = 1
# What a phase's `callable` must name (runner/phases/__init__.py).
PHASE_SHAPE = "a function run(ctx, *, <params>) whose required params are all given"


@dataclass(frozen=True)
class PhaseSpec:
    """One phase as declared in conf/phases/*.yaml, with its defaults filled in."""

    name: str
    callable: str
    params: dict[str, Any] = field(default_factory=dict)
    needs: tuple[str, ...] = ()
    timeout_s: float = 60.0
    retries: int = 0
    on_failure: str = "abort"
    always: bool = False
    enabled: bool = True
    description: str = ""


@dataclass(frozen=True)
class Plan:
    env: str
    adapter: str
    dry_run: bool
    phases: tuple[PhaseSpec, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": PLAN_SCHEMA_VERSION,
            "env": self.env,
            "adapter": self.adapter,
            "dry_run": self.dry_run,
            "phases": [{**asdict(p), "needs": list(p.needs)} for p in self.phases],
        }

    def table(self) -> str:
        from runner.shared.tables import format_table, number

        rows = [
            [str(i), p.name, p.callable, ", ".join(p.needs) or "-", number(p.timeout_s),
             str(p.retries), p.on_failure, "yes" if p.always else "",
             "" if p.enabled else "disabled"]
            for i, p in enumerate(self.phases, 1)
        ]
        header = ["#", "phase", "callable", "needs", "timeout_s", "retries", "on_failure",
                  "always", "note"]
        return format_table(header, rows) + "\n\n" + self.orders_note()

    def orders_note(self) -> str:
        """What the plan does with orders, in one line: the preview must not hide an order."""
        mode = ("only test orders: validated by the exchange, never placed (dry_run=true)"
                if self.dry_run else "the strategy's intended orders are PLACED (dry_run=false)")
        execution = next((p for p in self.phases if p.callable == "execution" and p.enabled),
                         None)
        if execution is None:
            return f"orders: {mode}; no execution phase in this plan"
        probe = ("when the strategy intends none, one minimum-size probe is sent as a test "
                 "order (never placed)" if execution.params.get("probe_when_idle", True)
                 else "no probe when the strategy intends none")
        return f"orders: {mode}; {probe}"


def _spec(name: str, raw: dict[str, Any]) -> PhaseSpec:
    return PhaseSpec(
        name=name,
        callable=raw["callable"],
        params=dict(raw.get("params") or {}),
        needs=tuple(raw.get("needs") or ()),
        timeout_s=float(raw.get("timeout_s", PhaseSpec.timeout_s)),
        retries=int(raw.get("retries", PhaseSpec.retries)),
        on_failure=raw.get("on_failure", PhaseSpec.on_failure),
        always=bool(raw.get("always", PhaseSpec.always)),
        enabled=bool(raw.get("enabled", PhaseSpec.enabled)),
        description=raw.get("description", ""),
    )


def _check_needs(specs: dict[str, PhaseSpec]) -> list[str]:
    problems = []
    for spec in specs.values():
        seen: set[str] = set()
        for need in spec.needs:
            where = f"phases.{spec.name}.needs"
            if need == spec.name:
                problems.append(f"{where}: '{need}' is the phase itself; "
                                "a phase cannot need itself")
            elif need in seen:
                problems.append(f"{where}: '{need}' is listed twice; list each dependency once")
            elif need not in specs:
                problems.append(f"{where}: unknown phase '{need}'; known phases: "
                                f"{', '.join(specs)}")
            seen.add(need)
    return problems


def _check_callable(spec: PhaseSpec) -> list[str]:
    where = f"phases.{spec.name}"
    try:
        function = resolve_callable(spec.callable)
    except LookupError as exc:
        return [f"{where}.callable: {exc}"]
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError) as exc:  # e.g. builtins:dict, whose signature C code hides
        return [f"{where}.callable: '{spec.callable}' has no signature to check ({exc}); "
                f"allowed: {PHASE_SHAPE}"]
    parameters = signature.parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        allowed = [n for n, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
        unknown = [
            f"{where}.params.{key}: unknown parameter of '{spec.callable}'; "
            f"allowed: {', '.join(allowed) or 'none'}"
            for key in spec.params if key not in allowed
        ]
        if unknown:
            return unknown
    try:  # the executor calls function(ctx, **params): the plan must not fail there
        signature.bind(None, **spec.params)
    except TypeError as exc:
        return [f"{where}.callable: '{spec.callable}' cannot be called as this phase ({exc}); "
                f"allowed: {PHASE_SHAPE}"]
    return []


def _check_slo_report(config: dict[str, Any], specs: dict[str, PhaseSpec]) -> list[str]:
    """slo.fail_on_breach acts on the report phase's summary: without an enabled report phase a
    run meant to be judged by its SLOs would pass unjudged, so such a config is refused."""
    if not (config.get("slo") or {}).get("fail_on_breach"):
        return []
    if any(spec.enabled and BUILTIN.get(spec.callable, spec.callable) == BUILTIN["report"]
           for spec in specs.values()):
        return []
    return ["slo.fail_on_breach: true, but the plan has no enabled report phase, so a breach "
            "could never fail the run; enable phases.report (phases.report.enabled=true) or set "
            "slo.fail_on_breach=false"]


def topological_order(specs: dict[str, PhaseSpec]) -> list[str]:
    """Kahn's algorithm; among ready phases the one declared first goes first."""
    position = {name: i for i, name in enumerate(specs)}
    waiting = {name: set(spec.needs) for name, spec in specs.items()}
    dependents: dict[str, list[str]] = {name: [] for name in specs}
    for name, spec in specs.items():
        for need in spec.needs:
            dependents[need].append(name)
    ready = [(position[n], n) for n, needs in waiting.items() if not needs]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for dependent in dependents[name]:
            waiting[dependent].discard(name)
            if not waiting[dependent]:
                heapq.heappush(ready, (position[dependent], dependent))
    if len(order) < len(specs):
        cycle = find_cycle({n: specs[n].needs for n in specs if n not in order})
        raise ConfigError(f"phases: dependency cycle {' -> '.join(cycle)}; "
                          f"remove one of these 'needs' entries")
    return order


def find_cycle(needs: dict[str, tuple[str, ...]]) -> list[str]:
    """A cycle among phases that could not be ordered, as a path that returns to its start."""
    path: list[str] = []
    node = next(iter(needs))
    while node not in path:
        path.append(node)
        node = next(n for n in needs[node] if n in needs)
    return [*path[path.index(node):], node]


def build_plan(config: dict[str, Any]) -> Plan:
    """Turn a schema-valid, resolved config into a Plan, or raise ConfigError with every problem."""
    raw_phases: dict[str, Any] = config.get("phases") or {}
    specs = {name: _spec(name, raw) for name, raw in raw_phases.items()}
    if not any(spec.enabled for spec in specs.values()):
        raise ConfigError("phases: the plan is empty (no enabled phase); "
                          "choose a plan such as phases=standard or enable a phase")
    problems = _check_needs(specs)
    for spec in specs.values():
        problems += _check_callable(spec)
    problems += _check_slo_report(config, specs)
    if problems:
        raise ConfigError(problems)
    order = topological_order(specs)
    return Plan(
        env=config["env"]["name"],
        adapter=config["adapter"]["name"],
        dry_run=bool(config["dry_run"]),
        phases=tuple(specs[name] for name in order),
    )
