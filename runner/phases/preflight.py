"""preflight: state the safety facts loudly and prove the run folder is writable."""

from __future__ import annotations

import os
import shutil
from typing import Any

from runner.context import RunContext
from runner.errors import PhaseError


def mode(ctx: RunContext) -> str:
    """DRY-RUN unless orders are enabled; LIVE only for env=live with dry_run=false."""
    if ctx.dry_run:
        return "DRY-RUN"
    return "LIVE" if ctx.env == "live" else "ORDERS ENABLED (non-live)"


def run(ctx: RunContext) -> dict[str, Any]:
    current = mode(ctx)
    banner = f"mode: {current} | env={ctx.env} | adapter={ctx.config['adapter']['name']}"
    (ctx.log.warning if current != "DRY-RUN" else ctx.log.info)(banner)
    probe = ctx.run_dir / ".write_probe"
    try:
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise PhaseError(f"run folder {ctx.run_dir} is not writable: {exc}") from None
    return {
        "mode": current,
        "env": ctx.env,
        "adapter": ctx.config["adapter"]["name"],
        "dry_run": ctx.dry_run,
        "symbols": ctx.symbols,
        "phases": list(ctx.config["phases"]),
        "free_disk_mb": round(shutil.disk_usage(ctx.run_dir).free / 2**20, 1),
        "pid": os.getpid(),
    }
