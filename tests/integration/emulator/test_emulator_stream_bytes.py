"""The emulator counts the bytes each operation moved, so tests and benchmarks can assert what a reader cost.

Payload is the decoded keys and values a GetMessages served (or a PutMessages stored); body is the response as sent
over the wire. Both are checked against what the real SDK saw, and over the unsigned control endpoint.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import oci
import pytest
from oci.streaming.models import CreateCursorDetails, PutMessagesDetails, PutMessagesDetailsEntry

from oci_emulator import Emulator, ServedBytes
from tests.integration.emulator.test_emulator_faults_http import control

QUIET = {
    "retry_strategy": oci.retry.NoneRetryStrategy(),
    "circuit_breaker_strategy": oci.circuit_breaker.NoCircuitBreakerStrategy(),
}


@pytest.fixture
def client(emulator: Emulator) -> Iterator[Any]:
    made = oci.streaming.StreamClient(emulator.oci_config, service_endpoint=emulator.url, **QUIET)
    yield made
    made.base_client.session.close()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_payload_and_body_bytes_per_operation(emulator: Emulator, client: Any) -> None:
    stream_id = emulator.create_stream("metered", partitions=1)
    messages = [(b"k" * 7, b"v" * 1000), (None, b"w" * 2500), (b"key", b"")]
    entries = [PutMessagesDetailsEntry(key=None if k is None else b64(k), value=b64(v)) for k, v in messages]
    client.put_messages(stream_id, PutMessagesDetails(messages=entries))
    stored = 7 + 1000 + 2500 + 3
    assert emulator.counters.served("PutStreamMessages").payload == stored

    details = CreateCursorDetails(partition="0", type="TRIM_HORIZON")
    cursor = client.create_cursor(stream_id, details).data.value
    first = client.get_messages(stream_id, cursor, limit=2)
    assert emulator.counters.served("GetStreamMessages").payload == 7 + 1000 + 2500
    rest = client.get_messages(stream_id, first.headers["opc-next-cursor"])
    empty = client.get_messages(stream_id, rest.headers["opc-next-cursor"])
    assert [len(first.data), len(rest.data), len(empty.data)] == [2, 1, 0]

    sent = sum(int(r.headers["content-length"]) for r in (first, rest, empty))
    assert emulator.counters.served("GetStreamMessages") == ServedBytes(body=sent, payload=stored)
    assert emulator.counters.served("CreateCursor").payload == 0
    assert emulator.counters.served("CreateCursor").body > 0

    status, document = control(emulator, "GET", "/_emulator/bytes")
    assert status == 200
    assert document["bytes"]["GetStreamMessages"] == {"body": sent, "payload": stored}
    assert document["bytes"]["PutStreamMessages"]["payload"] == stored

    assert control(emulator, "POST", "/_emulator/counters/reset") == (204, None)
    assert control(emulator, "GET", "/_emulator/bytes") == (200, {"bytes": {}})


def test_an_empty_read_serves_no_payload_and_a_failed_put_stores_none(emulator: Emulator, client: Any) -> None:
    stream_id = emulator.create_stream("quiet", partitions=1)
    details = CreateCursorDetails(partition="0", type="LATEST")
    cursor = client.create_cursor(stream_id, details).data.value
    assert client.get_messages(stream_id, cursor).data == []
    assert emulator.counters.served("GetStreamMessages").payload == 0

    too_long_key = PutMessagesDetailsEntry(key=b64(b"k" * 300), value=b64(b"x" * 10))
    fine = PutMessagesDetailsEntry(value=b64(b"y" * 10))
    result = client.put_messages(stream_id, PutMessagesDetails(messages=[too_long_key, fine])).data
    assert result.failures == 1
    assert emulator.counters.served("PutStreamMessages").payload == 10  # only the entry that was stored
