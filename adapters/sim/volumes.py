"""Volumes shared exactly: a parent's taker-buy steps and quote volumes split over its children
(an hour's minutes, a minute's seconds) in whole units, the parts adding up to the parent's.

Kept apart from the price model (adapters.sim.history) because the rules are about sums, not
prices: whole-unit shares by cumulative rounding (exact sums whatever the floats, no sort), the
taker-buy and maker parts shared apart so a child's taker-buy quote never exceeds its quote
volume.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from itertools import accumulate, pairwise

Prices = tuple[float, float, float, float]  # log open, high, low, close
Flow = tuple[int, int, int, int]  # steps, taker-buy steps, quote units, taker-buy quote units


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split in proportion to `weights` in whole units, by cumulative rounding: part i
    is round(total x W_i / W) - round(total x W_i-1 / W) for the running sums W_i, so the
    parts add up to `total` exactly, none is negative, a zero weight gets nothing, and each is
    within one unit of its share."""
    whole = sum(weights)
    if whole <= 0.0:
        if total:
            raise ValueError(f"cannot share {total} by weights {weights}")
        return [0] * len(weights)
    scale = total / whole
    bounds = [round(w * scale) for w in accumulate(weights)]
    bounds[-1] = total  # the float sums may differ in the last place
    return [b - a for a, b in pairwise([0, *bounds])]


def share(parent: Flow, steps: Sequence[int], takers: Sequence[int], bought: Sequence[float],
          sold: Sequence[float]) -> list[Flow]:
    """`parent`'s quote volumes shared by children of known steps and taker-buy steps, in
    proportion to their taker-bought and maker-sold value: the parts apart, so that a child's
    taker-buy quote never exceeds its quote volume."""
    _, _, quote, taker_quote = parent
    parts = apportion(taker_quote, bought)
    rest = apportion(quote - taker_quote, sold)
    return list(zip(steps, takers, [b + s for b, s in zip(parts, rest, strict=True)], parts,
                    strict=True))


def children(rng: random.Random, parent: Flow, steps: Sequence[int],
             prices: Sequence[Prices]) -> list[Flow]:
    """`parent`'s flow shared by children of known steps and prices: taker-buy steps by steps
    x 0.9..1.1 (from an hour's 40..60 %, a minute's share stays under 0.6 x 1.1 / 0.9 of its
    steps, plus one: below its 24 or more), quote by steps x the midpoint of open and close."""
    takers = apportion(parent[1], [s * (0.9 + 0.2 * rng.random()) for s in steps])
    typical = [math.exp((o + c) / 2.0) for o, _, _, c in prices]
    return share(parent, steps, takers, [t * p for t, p in zip(takers, typical, strict=True)],
                 [(s - t) * p for s, t, p in zip(steps, takers, typical, strict=True)])
