"""The HTTP/1.1 transport: a threading stdlib server in a background thread.

The OCI SDK is synchronous, keeps connections alive (requests sessions) and GetMessages long-polls for up to 30 s, so
each connection gets its own thread. Stopping must not hang on idle keep-alive connections or leak threads into the
test run: the server tracks its open sockets, and ``stop()`` first stops accepting, then shuts down the read side of
every open connection (blocked reads return, in-flight responses still complete) and joins every handler thread.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import struct
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .app import DropConnection, EmulatorApp, HttpRequest, error_response

logger = logging.getLogger(__name__)


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], app: EmulatorApp, max_request_bytes: int) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.app = app
        self.max_request_bytes = max_request_bytes
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def shut_down_reads(self) -> None:
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RD)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "oci-emulator"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes; without TCP_NODELAY, Nagle plus the client's delayed ACK adds
        # ~40 ms to every response on a kept-alive connection.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server = self._server()
        with server.connections_lock:
            server.connections.add(self.connection)

    def finish(self) -> None:
        server = self._server()
        with server.connections_lock:
            server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def _server(self) -> _Server:
        server = self.server
        assert isinstance(server, _Server)
        return server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def _serve(self) -> None:
        server = self._server()
        headers = {name.lower(): value for name, value in self.headers.items()}
        if "transfer-encoding" in headers:
            self._refuse(411, "LengthRequired", "chunked request bodies are not supported; send Content-Length")
            return
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            self._refuse(400, "InvalidParameter", "Content-Length is not an integer")
            return
        if length < 0 or length > server.max_request_bytes:
            self._refuse(400, "InvalidParameter", f"request bodies are limited to {server.max_request_bytes} bytes")
            return
        body = self.rfile.read(length) if length else b""
        outcome = server.app.handle(HttpRequest(self.command, self.path, headers, body))
        if isinstance(outcome, DropConnection):
            self._drop()
            return
        self.send_response(outcome.status)
        for name, value in outcome.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(outcome.body)))
        self.end_headers()
        if self.command != "HEAD" and outcome.body:
            self.wfile.write(outcome.body)

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer without reading the body, then close (the unread body would corrupt the next request)."""
        self.close_connection = True
        body = json.dumps(error_response(status, code, message).body).encode("utf-8")
        self.send_response(status)
        self.send_header("opc-request-id", self.headers.get("opc-request-id") or uuid.uuid4().hex.upper())
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        """Reset the connection: no response, and an RST instead of an orderly close where the OS allows."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - " + format, self.address_string(), *args)


class HttpServer:
    """Owns the listening socket and the serving thread."""

    def __init__(self, *, host: str, port: int, app: EmulatorApp, max_request_bytes: int) -> None:
        self._server = _Server((host, port), app, max_request_bytes)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="oci-emulator-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, end idle keep-alive connections and join every thread. Callers wake long polls first."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.shut_down_reads()
        self._server.server_close()
