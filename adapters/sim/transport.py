"""The HTTP plumbing under the simulator: a ThreadingHTTPServer on its own thread, keep-alive
connections, and writing (or deliberately not writing) one answer.

Knows nothing of Binance: every request goes to one `handle(request, method)` callable, so the
socket details (Nagle, idle timeouts, closing keep-alive connections on stop) live here only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)

JSON = "application/json;charset=UTF-8"


class Handler(BaseHTTPRequestHandler):
    """Hands every request to the Transport's callable; keep-alive like Binance's front end."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, each answer waited ~40 ms for
    # the client's delayed ACK on keep-alive connections.
    disable_nagle_algorithm = True
    server_version = "sim-binance"
    timeout = 30  # idle keep-alive connections close after this many seconds
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.transport.register(self.connection, add=True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.transport.register(self.connection, add=False)

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self.server.transport.handle(self, "GET")

    def do_POST(self) -> None:
        self.server.transport.handle(self, "POST")

    def do_DELETE(self) -> None:
        self.server.transport.handle(self, "DELETE")

    def do_PUT(self) -> None:
        self.server.transport.handle(self, "PUT")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sim server: " + format, *args)

    def body(self) -> str:
        """The request body as text (latin-1: bytes pass through unchanged for the HMAC)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode("latin-1") if length else ""

    def send(self, status: int, payload: Any, headers: Mapping[str, str],
             content_type: str = JSON) -> None:
        """Write one answer: a str as is, anything else as compact JSON."""
        body = payload if isinstance(payload, str) else json.dumps(payload,
                                                                   separators=(",", ":"))
        data = body.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:  # the client gave up (e.g. its timeout fired during a delay fault)
            self.close_connection = True

    def drop(self) -> None:
        """Close the connection without an answer (a lost response, as the client sees it)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], transport: Transport) -> None:
        self.transport = transport
        super().__init__(address, Handler)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class Transport:
    """Serves `handle` on (host, port) from a daemon thread; start()/stop() are idempotent.

    `stopping` is set while stopping, so a request that is waiting (a delay fault) can give up.
    """

    def __init__(self, handle: Callable[[Handler, str], None]) -> None:
        self.handle = handle
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self, host: str, port: int) -> int:
        """Bind and serve; return the bound port (the one picked when `port` is 0)."""
        server_class = _HTTPServer6 if ":" in host else _HTTPServer
        self.stopping.clear()
        self._httpd = server_class((host, port), self)
        bound = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"sim-server:{bound}", daemon=True)
        self._thread.start()
        return bound

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # idle keep-alive connections would outlive the server
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(5)

    def register(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)
