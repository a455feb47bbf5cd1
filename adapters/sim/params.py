"""Binance request parameters: merged from query and form body, read with Binance's errors.

Shared by the signature check (timestamp, recvWindow) and the endpoints, so a malformed number
gets the same -1100/-1102 answer wherever it is read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from urllib.parse import parse_qsl

from adapters.sim import binance_wire as wire


def merge(query: str, body: str) -> dict[str, str]:
    """Query string then form body; the first occurrence of a name wins, as on Binance."""
    params: dict[str, str] = {}
    for k, v in [*parse_qsl(query), *parse_qsl(body)]:
        params.setdefault(k, v)
    return params


def int_param(params: Mapping[str, str], name: str, default: int | None = None) -> int:
    """An integer parameter; missing without a default is -1102, not an integer -1100."""
    if name not in params:
        if default is None:
            raise wire.missing(name)
        return default
    try:
        return int(params[name])
    except ValueError:
        raise wire.illegal(name) from None


def float_param(params: Mapping[str, str], name: str) -> float:
    """A finite decimal parameter (NaN and inf are refused, as Binance's regex refuses them)."""
    try:
        value = float(params[name])
    except (KeyError, ValueError):
        raise wire.illegal(name) from None
    if not math.isfinite(value):
        raise wire.illegal(name)
    return value


def opt_int(params: Mapping[str, str], name: str, minimum: int | None = None) -> int | None:
    """An optional integer parameter (None when absent); below `minimum` is -1100."""
    if name not in params:
        return None
    value = int_param(params, name)
    if minimum is not None and value < minimum:
        raise wire.illegal(name)
    return value


def limit_param(params: Mapping[str, str], default: int = 500, maximum: int = 1_000) -> int:
    """`limit`: Binance's default when absent, served as `maximum` when above it, -1100 below 1."""
    limit = int_param(params, "limit", default)
    if limit < 1:
        raise wire.illegal("limit")
    return min(limit, maximum)


def side_param(params: Mapping[str, str], name: str) -> str:
    """BUY or SELL (case-insensitive); missing -1102, anything else -1117."""
    side = (params.get(name) or "").upper()
    if not side:
        raise wire.missing(name)
    if side not in ("BUY", "SELL"):
        raise wire.ApiError(400, -1117, "Invalid side.")
    return side
