"""Adapter nodes name their class with `_target_`; the class answers for its node before the run;
a class that cannot be used is one line; the worked example of docs/ADAPTERS.md really runs."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import EventTuples, cli_env, only_run_dir, run_cli

from adapters import (
    adapter_class,
    adapter_problems,
    build_exchange,
    endpoint_kind_of,
    instantiate_adapter,
)
from adapters.base import Exchange, node_kwargs
from adapters.ccxt_exchange import CcxtExchange
from adapters.endpoints import IN_PROCESS, LOOPBACK, REAL_MONEY
from adapters.errors import OrderRejected
from adapters.paper import PaperExchange
from runner import live_guard

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
EXAMPLE_CLASS = TESTS / "example_exchange.py"
EXAMPLE_YAML = TESTS / "conf" / "adapter" / "halted_paper.yaml"
EXAMPLE = ("adapter=halted_paper", f"hydra.searchpath=[file://{TESTS / 'conf'}]")
PAPER = "adapters.paper.PaperExchange"


class Recording(PaperExchange):
    """Remembers what its constructor was given; `label` is its own key, anything at all."""

    def __init__(self, *, label: Any = None, **config: Any) -> None:
        self.given = {"label": label, **config}
        super().__init__(**config)


class Bare(Exchange):
    """An adapter that says nothing about its node (never built here): the defaults apply."""


def test_the_built_in_nodes_name_their_class(compose):
    for overrides, cls in (((), PaperExchange), (("env=local",), CcxtExchange),
                           (("env=testnet",), CcxtExchange)):
        node = compose(*overrides)["adapter"]
        assert "factory" not in node and adapter_class(node) is cls
        assert adapter_problems(node) == []


def test_the_node_reaches_the_class_as_plain_data_exactly_as_resolved():
    node = {"name": "paper", "_target_": f"{__name__}.Recording", "retry": {"max_attempts": 2},
            "seed": 3, "symbols": ["BTC/USDT"], "balances": {"USDT": 50.0},
            "latency": {"mode": "record", "per_endpoint": {"ping": 1.0}},
            "faults": {"per_endpoint": {"ping": {"error_rate": 0.5}}},
            "label": {"secret": "pa${s}word: a resolved value, never interpolated again"}}
    exchange = instantiate_adapter(node)
    assert isinstance(exchange, Recording)
    assert exchange.given == node_kwargs(node)
    assert set(exchange.given) == set(node) - {"name", "retry", "_target_"}
    assert type(exchange.given["latency"]["per_endpoint"]) is dict
    assert exchange.given["label"]["secret"].startswith("pa${s}word:")


def test_the_node_is_also_a_hydra_instantiate_config():
    """What Hydra users expect: instantiate(node minus the wrapper's keys) is the same adapter."""
    from hydra.utils import instantiate

    node = {"name": "paper", "_target_": PAPER, "retry": {}, "seed": 5,
            "symbols": ["BTC/USDT"], "latency": {"mode": "record", "base_ms": 1.0}}
    ours = instantiate_adapter(node)
    hydras = instantiate({"_target_": PAPER, **node_kwargs(node)}, _convert_="all")
    assert type(hydras) is type(ours) and hydras.seed == ours.seed == 5
    assert hydras.fetch_ohlcv("BTC/USDT", "1m", 5) == ours.fetch_ohlcv("BTC/USDT", "1m", 5)


def test_the_wrapper_takes_name_and_retry_the_adapter_everything_else():
    node = {"name": "paper", "_target_": PAPER, "retry": {"max_attempts": 5}, "seed": 1}
    exchange = build_exchange(node, EventTuples())
    assert isinstance(exchange.inner, PaperExchange) and exchange.policy.max_attempts == 5


def test_the_base_class_defaults_are_no_check_and_real_money():
    node = {"name": "bare", "_target_": f"{__name__}.Bare", "anything": 1}
    assert adapter_problems(node) == [] and endpoint_kind_of(node) == REAL_MONEY
    refused = live_guard.problems({"dry_run": False, "env": {"name": "dev"}, "adapter": node}, {})
    assert refused and "needs env=live" in refused[0]
    assert endpoint_kind_of({"_target_": PAPER, "faults": {"error_rate": 1}}) == IN_PROCESS
    assert endpoint_kind_of({"_target_": "adapters.ccxt_exchange.CcxtExchange",
                             "simulator": {"seed": 1}}) == LOOPBACK


def test_unknown_keys_follow_the_constructor_chain():
    from example_exchange import HaltedPaperExchange

    node = {"name": "x", "_target_": "example_exchange.HaltedPaperExchange", "retry": {},
            "halted": [], "spread_bps": 1.0, "sped_bps": 3}
    line, = HaltedPaperExchange.check_config(node)
    head, _, allowed = line.partition("; allowed keys: ")
    assert head == "adapter.sped_bps: unknown key of HaltedPaperExchange"
    assert {"halted", "spread_bps", "seed", "faults", "name", "retry", "_target_"} <= set(
        allowed.split(", "))
    assert "clock" not in allowed.split(", ")  # the paper adapter's test-only keyword


BAD_MODULES = {
    "syntax_error_adapter": "def broken(:\n",
    "raising_adapter": "raise RuntimeError('no config for you\\nsecond line')\n",
    "exiting_adapter": "import sys\nsys.exit(3)\n",
    "missing_dependency_adapter": "import no_such_dependency_xyz\n",
}


@pytest.mark.parametrize(("target", "expected"), [
    ("nosuch.Thing", "adapter._target_: cannot use 'nosuch.Thing': no module named 'nosuch'"),
    ("adapters.nosuch.Thing", "no module named 'adapters.nosuch'"),
    ("adapters.paper.Nope", "'adapters.paper' has no 'Nope'"),
    ("adapters.errors.OrderRejected", "'adapters.errors.OrderRejected' is not an Exchange "
                                      "subclass"),
    ("adapters.paper:build", "adapter._target_: 'adapters.paper:build' is not allowed"),
    ("syntax_error_adapter.X", "importing module 'syntax_error_adapter' failed (SyntaxError: "),
    ("raising_adapter.X", "failed (RuntimeError: no config for you);"),
    ("exiting_adapter.X", "failed (SystemExit: 3);"),
    ("missing_dependency_adapter.X", "failed (ModuleNotFoundError: No module named "
                                     "'no_such_dependency_xyz')"),
])
def test_a_target_that_cannot_be_used_is_one_line(tmp_path, monkeypatch, target, expected):
    for name, text in BAD_MODULES.items():
        (tmp_path / f"{name}.py").write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    line, = adapter_problems({"name": "x", "_target_": target})
    assert expected in line and "\n" not in line
    assert line.endswith("allowed: an adapters.base.Exchange subclass as module.Class, "
                         "e.g. adapters.paper.PaperExchange")


def test_factory_is_refused_with_a_pointer_to_target():
    for node in ({"name": "paper", "factory": "adapters.paper:build"},
                 {"name": "paper", "factory": "adapters.paper:build", "_target_": PAPER}):
        line, = adapter_problems(node)
        assert line.startswith("adapter.factory: no longer supported; name the adapter's class "
                               "with adapter._target_ instead")
    assert adapter_problems({"name": "paper"}) == [
        "adapter._target_: missing; allowed: an adapters.base.Exchange subclass as module.Class, "
        "e.g. adapters.paper.PaperExchange"]


@pytest.mark.parametrize(("overrides", "expected"), [
    (["adapter._target_=nosuch.Thing"], "error: adapter._target_: cannot use 'nosuch.Thing': "),
    (["+adapter.factory=x:y"], "error: adapter.factory: no longer supported; "),
    (["adapter._target_=syntax_error_adapter.X"], "error: adapter._target_: cannot use "
                                                   "'syntax_error_adapter.X': importing module"),
])
def test_the_cli_prints_one_line_and_leaves_no_run_folder(tmp_path, overrides, expected):
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "syntax_error_adapter.py").write_text(BAD_MODULES["syntax_error_adapter"])
    done = run_cli(*overrides, cwd=tmp_path,
                   PYTHONPATH=os.pathsep.join([str(modules), cli_env()["PYTHONPATH"]]))
    assert done.returncode == 2
    line, = done.stderr.splitlines()
    assert line.startswith(expected) and "Traceback" not in done.stdout + done.stderr
    assert list((tmp_path / "outputs").rglob(".hydra")) == []  # no half-written run folder


# -- the worked example of docs/ADAPTERS.md ------------------------------------------------------


def test_the_docs_show_the_example_files_verbatim():
    blocks = re.findall(r"```\w*\n(.*?)```", (ROOT / "docs" / "ADAPTERS.md").read_text(),
                        flags=re.S)
    assert EXAMPLE_CLASS.read_text() in blocks
    assert EXAMPLE_YAML.read_text() in blocks


def test_the_example_composes_checks_and_builds(compose):
    node = compose(*EXAMPLE)["adapter"]
    assert node["_target_"] == "example_exchange.HaltedPaperExchange"
    assert node["halted"] == ["BTC/USDT"] and node["spread_bps"] == 2.0  # paper.yaml's keys too
    assert adapter_problems(node) == [] and endpoint_kind_of(node) == IN_PROCESS
    exchange = build_exchange(node, EventTuples())
    assert exchange.name == "halted_paper"
    assert type(exchange.inner).__name__ == "HaltedPaperExchange"
    with pytest.raises(OrderRejected, match="BTC/USDT: trading is halted"):
        exchange.inner.create_order("BTC/USDT", "buy", "market", 0.01, client_order_id="a")
    assert exchange.inner.create_order("ETH/USDT", "buy", "market", 0.1,
                                       client_order_id="b")["status"] == "test"
    typo = compose(*EXAMPLE, "adapter.halted=[BTC/USDC]")["adapter"]
    assert adapter_problems(typo) == ["adapter.halted: 'BTC/USDC' is not one of adapter.symbols "
                                      "['BTC/USDT', 'ETH/USDT']"]


def test_the_example_runs_and_the_halt_reaches_the_bot(tmp_path):
    done = run_cli(*EXAMPLE, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    result = json.loads((only_run_dir(tmp_path) / "result.json").read_text())
    phases = {p["name"]: p for p in result["phases"]}
    assert result["adapter"] == "halted_paper" and phases["market_data"]["status"] == "succeeded"
    assert phases["execution"]["status"] == "failed"
    assert "OrderRejected: BTC/USDT: trading is halted" in phases["execution"]["error"]
