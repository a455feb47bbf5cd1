"""Client order ids: unique per run and order, within Binance's 36 characters of [A-Za-z0-9_-]."""

from __future__ import annotations


def client_order_id(run_id: str, tag: str | int) -> str:
    """'20261124T161800Z-dev-a1b2c3' + 3 -> 'pxr-20261124161800-a1b2c3-3'."""
    stamp = run_id.split("-", 1)[0].replace("T", "").rstrip("Z")
    return f"pxr-{stamp}-{run_id[-6:]}-{tag}"[:36]
