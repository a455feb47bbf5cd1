"""A simulator on a clock the test advances, for reactions to a moving market (held stops,
order lists): signed HTTP requests need the real clock, so these cases run in process through
the same handlers (adapters.sim.routes.Endpoints)."""

from __future__ import annotations

from typing import Any

from adapters.sim import Simulator
from adapters.sim.routes import Endpoints

BIG = {"USDT": 50_000_000.0, "BTC": 1_000.0, "ETH": 5_000.0}


def moving(seed: int = 8) -> tuple[list[float], Simulator, Endpoints]:
    clock = [1_700_000_030.5]
    sim = Simulator.create(seed=seed, clock=lambda: clock[0], fill_model="book", balances=BIG)
    return clock, sim, Endpoints(sim, seed)


def run_until(clock: list[float], sim: Simulator, done: Any) -> None:
    """Advance a minute at a time until `done()`: any call sweeps, and held orders react there."""
    for _ in range(20_000):
        clock[0] += 60
        sim.fetch_ticker("BTC/USDT")
        if done():
            return
    raise AssertionError("the market never got there")
