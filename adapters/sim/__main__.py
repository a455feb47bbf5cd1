"""`python -m adapters.sim`: serve the exchange simulator on loopback until Ctrl-C.

    python -m adapters.sim --port 8765 [--host 127.0.0.1] [--seed 42]
        [--symbols BTC/USDT,ETH/USDT] [--api-key K --api-secret S] [--faults JSON|@file]

A non-loopback --host is refused unless --allow-remote is given: the simulator accepts any
order and its keys are not secrets, so it must not be reachable from the network by accident.
Every bad option is one line, `error: --port: 70000 is not allowed; allowed: ...`, exit 2
(argparse's usage block is left out, as in the project's other commands).
"""

from __future__ import annotations

import argparse
import errno
import json
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from adapters.ccxt_transport import SPOT_OPTIONS
from adapters.sim.auth import MAX_RECV_WINDOW_MS
from adapters.sim.market import DEFAULT_MARKETS
from adapters.sim.server import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    SimServer,
    is_loopback,
)

FAULTS_ALLOWED = ("allowed: a JSON object (endpoint -> list of rule objects), or @path to a "
                  "file holding one")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `error: --port: ...` on stderr, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message.removeprefix('argument ')}\n")


def whole_number(low: int, high: int, allowed: str) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`, else argparse's error with what is
    allowed (a port of 70000 would otherwise end in OverflowError when binding)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not allowed; allowed: {allowed}"
                                             ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not allowed; allowed: {allowed}")
        return value

    return parse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = _Parser(prog="python -m adapters.sim",
                     description="Serve the exchange simulator in Binance spot REST format (for "
                                 "ccxt's binance).")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (loopback only "
                        "unless --allow-remote)")
    parser.add_argument("--port", type=whole_number(0, 65535, "a port from 0 to 65535 (0 picks "
                                                    "a free one)"),
                        default=8765, help="TCP port (0 picks a free one)")
    parser.add_argument("--seed", type=whole_number(0, 2**63 - 1, "a whole number >= 0"),
                        default=42, help="price path and fault seed")
    parser.add_argument("--symbols", default=None,
                        help="comma-separated, e.g. BTC/USDT,ETH/USDT (default: the built-in)")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--api-secret", default=DEFAULT_API_SECRET)
    parser.add_argument("--recv-window-ms", default=5_000,
                        type=whole_number(1, MAX_RECV_WINDOW_MS, "milliseconds from 1 to "
                                          f"{MAX_RECV_WINDOW_MS} (Binance's limit)"),
                        help="recvWindow applied when a request sends none")
    parser.add_argument("--faults", default=None,
                        help="HTTP fault rules as JSON, or @path to a JSON file")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow binding a non-loopback address")
    return parser.parse_args(argv)


def load_faults(value: str | None) -> dict[str, Any] | None:
    """--faults as JSON or @file; ValueError saying what is wrong (OSError for the file)."""
    if not value:
        return None
    text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
    try:
        faults = json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(faults, dict) or not all(
            isinstance(rules, list) and all(isinstance(r, dict) for r in rules)
            for rules in faults.values()):
        raise ValueError("not an object of endpoint -> list of rule objects")
    return faults


def parse_symbols(value: str | None) -> list[str] | None:
    """--symbols as a list, or None for the built-in ones; ValueError naming a bad one."""
    if value is None:
        return None
    symbols = [s.strip() for s in value.split(",") if s.strip()]
    unknown = [s for s in symbols if s not in DEFAULT_MARKETS]
    if not symbols or unknown or len(set(symbols)) != len(symbols):
        shown = unknown[0] if unknown else value
        raise ValueError(f"{shown!r} is not allowed; allowed: comma-separated, each once, of "
                         + ", ".join(DEFAULT_MARKETS))
    return symbols


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def usage(server: SimServer, api_key: str, api_secret: str) -> str:
    """How to point ccxt here; keys are shown only when they are the public defaults."""
    key = repr(api_key) if api_key == DEFAULT_API_KEY else "<your --api-key>"
    secret = repr(api_secret) if api_secret == DEFAULT_API_SECRET else "<your --api-secret>"
    options = repr(SPOT_OPTIONS)
    return "\n".join([
        f"sim exchange (Binance spot REST) listening on {server.url}",
        "point ccxt at it:",
        "    import ccxt",
        "    from adapters.ccxt_transport import SPOT_OPTIONS, point_urls",
        f"    ex = ccxt.binance({{'apiKey': {key}, 'secret': {secret},",
        f"                        'options': {options}}})",
        f"    point_urls(ex, {server.url!r})  # every urls['api'] base -> this server",
        "    ex.load_markets(); ex.fetch_ticker('BTC/USDT')",
        "Ctrl-C to stop.",
    ])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.allow_remote and not is_loopback(args.host):
        return _fail(f"--host {args.host} is not a loopback address; the simulator binds "
                     "127.0.0.1/::1/localhost only unless --allow-remote is given")
    try:
        faults = load_faults(args.faults)
    except OSError as exc:
        return _fail(f"--faults: {args.faults} cannot be read ({exc.strerror or exc}); "
                     + FAULTS_ALLOWED)
    except ValueError as exc:  # not JSON, not UTF-8, or not the right shape
        return _fail(f"--faults: {str(exc).splitlines()[0]}; {FAULTS_ALLOWED}")
    try:
        symbols = parse_symbols(args.symbols)
    except ValueError as exc:
        return _fail(f"--symbols: {exc}")
    try:
        server = SimServer.from_config(
            seed=args.seed, symbols=symbols, http_faults=faults, host=args.host,
            port=args.port, api_key=args.api_key, api_secret=args.api_secret,
            recv_window_ms=args.recv_window_ms, allow_remote=args.allow_remote)
    except ValueError as exc:  # a fault rule the simulator does not know
        return _fail(f"--faults: {exc}")
    try:
        server.start()
    except OSError as exc:  # in use, no permission; or a host that is no address of this one
        if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
            return _fail(f"--host: {args.host!r} cannot be bound ({exc.strerror or exc}); "
                         "allowed: an address of this machine, e.g. 127.0.0.1")
        return _fail(f"--port: {args.port} cannot be bound on {args.host} "
                     f"({exc.strerror or exc}); fix: another --port, or --port 0 for a free one")
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
