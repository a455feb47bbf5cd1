"""Seeded draws shared by the price levels: a Brownian bridge inside a range (volumes are
split in volumes.py)."""

from __future__ import annotations

import random


def bridge(rng: random.Random, start: float, end: float, low: float, high: float, n: int,
           sigma: float) -> list[float]:
    """`n + 1` points from `start` to `end` (exactly): a random-walk bridge whose steps have
    standard deviation `sigma` (uniform steps: a tenth of the cost of Gaussian ones, and the
    levels above are Gaussian anyway), its deviations from the straight line scaled down until
    every point lies in [low, high]."""
    draw, width, walk, walks = rng.random, sigma * 3.0**0.5 * 2.0, 0.0, [0.0]
    for _ in range(n):
        walk += (draw() - 0.5) * width
        walks.append(walk)
    slope, pull = (end - start) / n, walk / n
    lines = [start + slope * k for k in range(1, n)]
    devs = [walks[k] - pull * k for k in range(1, n)]
    squeeze = 1.0
    for line, dev in zip(lines, devs, strict=True):
        room = high - line if dev > 0 else low - line
        if dev and abs(dev) > abs(room):
            squeeze = min(squeeze, room / dev)
    inner = [min(high, max(low, line + squeeze * dev)) for line, dev in zip(lines, devs,
                                                                               strict=True)]
    return [start, *inner, end]
