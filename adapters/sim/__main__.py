"""`python -m adapters.sim`: serve the exchange simulator on loopback until Ctrl-C.

    python -m adapters.sim --port 8765 [--host 127.0.0.1] [--seed 42]
        [--symbols BTC/USDT,ETH/USDT] [--api-key K --api-secret S] [--faults JSON|@file]

A non-loopback --host is refused unless --allow-remote is given: the simulator accepts any
order and its keys are not secrets, so it must not be reachable from the network by accident.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from adapters.sim.server import (
    CCXT_OPTIONS,
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    SimServer,
    is_loopback,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m adapters.sim",
                                     description="Serve the exchange simulator in Binance "
                                                 "spot REST format (for ccxt's binance).")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (loopback only "
                        "unless --allow-remote)")
    parser.add_argument("--port", type=int, default=8765, help="TCP port (0 picks a free one)")
    parser.add_argument("--seed", type=int, default=42, help="price path and fault seed")
    parser.add_argument("--symbols", default=None,
                        help="comma-separated, e.g. BTC/USDT,ETH/USDT (default: the built-in)")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--api-secret", default=DEFAULT_API_SECRET)
    parser.add_argument("--recv-window-ms", type=int, default=5_000,
                        help="recvWindow applied when a request sends none")
    parser.add_argument("--faults", default=None,
                        help="HTTP fault rules as JSON, or @path to a JSON file")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow binding a non-loopback address")
    return parser.parse_args(argv)


def load_faults(value: str | None) -> dict[str, Any] | None:
    if not value:
        return None
    text = Path(value[1:]).read_text() if value.startswith("@") else value
    faults = json.loads(text)
    if not isinstance(faults, dict):
        raise ValueError("--faults must be a JSON object: endpoint -> list of rules")
    return faults


def usage(server: SimServer, api_key: str, api_secret: str) -> str:
    """How to point ccxt here; keys are shown only when they are the public defaults."""
    key = repr(api_key) if api_key == DEFAULT_API_KEY else "<your --api-key>"
    secret = repr(api_secret) if api_secret == DEFAULT_API_SECRET else "<your --api-secret>"
    options = repr(CCXT_OPTIONS)
    return "\n".join([
        f"sim exchange (Binance spot REST) listening on {server.url}",
        "point ccxt at it:",
        "    import ccxt",
        "    from adapters.ccxt_transport import point_urls",
        f"    ex = ccxt.binance({{'apiKey': {key}, 'secret': {secret},",
        f"                        'options': {options}}})",
        f"    point_urls(ex, {server.url!r})  # every urls['api'] base -> this server",
        "    ex.load_markets(); ex.fetch_ticker('BTC/USDT')",
        "Ctrl-C to stop.",
    ])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.allow_remote and not is_loopback(args.host):
        print(f"error: --host {args.host} is not a loopback address; the simulator binds "
              "127.0.0.1/::1/localhost only unless --allow-remote is given", file=sys.stderr)
        return 2
    try:
        faults = load_faults(args.faults)
        symbols = [s.strip() for s in args.symbols.split(",") if s.strip()] \
            if args.symbols else None
        server = SimServer.from_config(
            seed=args.seed, symbols=symbols, http_faults=faults, host=args.host,
            port=args.port, api_key=args.api_key, api_secret=args.api_secret,
            recv_window_ms=args.recv_window_ms, allow_remote=args.allow_remote)
        server.start()
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(usage(server, args.api_key, args.api_secret), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    code = 143  # the project's exit codes: 130 for SIGINT, 143 for SIGTERM
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        code = 130
    finally:
        server.stop()
    print("stopped", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
