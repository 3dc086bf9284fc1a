"""The OCI Queue source on the real SDK against a bare HTTP stub: malformed answers are errors, never zeros,
and retries stay short (the SDK default would retry for up to 600 s)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from oci_emulator import Emulator
from scaler.errors import UpstreamError
from scaler.metadata import QueueRef
from scaler.settings import OciSettings
from scaler.sources.oci_auth import load_credentials
from scaler.sources.oci_queue import OciQueueSource


class _Stub(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status = 200
        self.body: Any = {}
        self.hits = 0


class _Handler(BaseHTTPRequestHandler):
    server: _Stub

    def do_GET(self) -> None:
        self.server.hits += 1
        payload = json.dumps(self.server.body).encode()
        self.send_response(self.server.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def stub() -> Iterator[_Stub]:
    server = _Stub()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def source(stub: _Stub, tmp_path: Path) -> OciQueueSource:
    config = Emulator(host="127.0.0.1", port=0).write_config(tmp_path / "config")  # a valid key, never started
    settings = OciSettings(config_file=config, endpoint=f"http://127.0.0.1:{stub.server_port}", max_attempts=2)
    return OciQueueSource(settings=settings, credentials=load_credentials(settings))


REF = QueueRef("ocid1.queue.oc1..x", None, "http://127.0.0.1:1")


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({}, "queue.visible_messages"),
        ({"queue": {"visibleMessages": 3, "sizeInBytes": 9}, "dlq": {}}, "queue.in_flight_messages"),
        ({"queue": {"visibleMessages": -1, "inFlightMessages": 0, "sizeInBytes": 0}}, "queue.visible_messages"),
        ({"queue": {"visibleMessages": 3, "inFlightMessages": 0, "sizeInBytes": 0}}, "dlq.visible_messages"),
    ],
)
def test_a_missing_or_invalid_count_is_an_error_not_zero(
    stub: _Stub, source: OciQueueSource, body: Any, missing: str
) -> None:
    stub.body = body
    with pytest.raises(UpstreamError, match=missing.replace(".", r"\.")):
        source.read(QueueRef(REF.queue_id, None, f"http://127.0.0.1:{stub.server_port}"))


def test_retries_are_few_and_fast(stub: _Stub, source: OciQueueSource) -> None:
    stub.status = 500
    stub.body = {"code": "InternalServerError", "message": "boom"}
    started = time.monotonic()
    with pytest.raises(UpstreamError, match="HTTP 500 InternalServerError"):
        source.read(QueueRef(REF.queue_id, None, f"http://127.0.0.1:{stub.server_port}"))
    assert stub.hits == 2
    assert time.monotonic() - started < 2
