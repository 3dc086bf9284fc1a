"""The real StreamClient over HTTP against the emulator: partitioning, group commits, cursors, retention, throttling.

``committedOffset`` is the offset of the last message the group consumed, so a lag reader opens a plain cursor
AFTER_OFFSET of it; these tests pin that meaning over the wire.
"""

from __future__ import annotations

import base64
import json
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import oci
import pytest
from oci._vendor import requests
from oci.signer import Signer
from oci.streaming.models import (
    CreateCursorDetails,
    CreateGroupCursorDetails,
    PutMessagesDetails,
    PutMessagesDetailsEntry,
    UpdateGroupDetails,
)

from oci_emulator import ApiKey, Emulator, ManualClock, partition_for_key

QUIET = {
    "retry_strategy": oci.retry.NoneRetryStrategy(),
    "circuit_breaker_strategy": oci.circuit_breaker.NoCircuitBreakerStrategy(),
}
HOUR = 3600.0


@pytest.fixture
def make_client(emulator: Emulator) -> Iterator[Callable[..., Any]]:
    made: list[Any] = []

    def make(config: dict[str, Any] | None = None) -> Any:
        made.append(oci.streaming.StreamClient(config or emulator.oci_config, service_endpoint=emulator.url, **QUIET))
        return made[-1]

    yield make
    for client in made:
        client.base_client.session.close()


@pytest.fixture
def client(make_client: Callable[..., Any]) -> Any:
    return make_client()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def put(client: Any, stream_id: str, *messages: tuple[str | None, str]) -> Any:
    entries = [PutMessagesDetailsEntry(key=None if k is None else b64(k), value=b64(v)) for k, v in messages]
    return client.put_messages(stream_id, PutMessagesDetails(messages=entries)).data


def cursor_at(client: Any, stream_id: str, partition: str, kind: str, offset: int | None = None) -> str:
    details = CreateCursorDetails(partition=partition, type=kind, offset=offset)
    return str(client.create_cursor(stream_id, details).data.value)


def drain(client: Any, stream_id: str, cursor: str) -> list[int]:
    """Offsets readable from ``cursor`` until an empty page (the scaler's counting loop)."""
    offsets: list[int] = []
    while True:
        response = client.get_messages(stream_id, cursor)
        if not response.data:
            return offsets
        offsets += [message.offset for message in response.data]
        cursor = response.headers["opc-next-cursor"]


def group_cursor(client: Any, stream_id: str, **details: Any) -> str:
    fields = {"group_name": "billing", "type": "TRIM_HORIZON", "instance_name": "worker-1", **details}
    return str(client.create_group_cursor(stream_id, CreateGroupCursorDetails(**fields)).data.value)


def committed(client: Any, stream_id: str, group: str = "billing") -> dict[str, int | None]:
    return {r.partition: r.committed_offset for r in client.get_group(stream_id, group).data.reservations}


def error_of(call: Callable[..., Any], *args: Any, **kwargs: Any) -> oci.exceptions.ServiceError:
    with pytest.raises(oci.exceptions.ServiceError) as error:
        call(*args, **kwargs)
    return error.value


def test_keyed_messages_land_in_the_partitions_their_keys_hash_to(emulator: Emulator, client: Any) -> None:
    stream_id = emulator.create_stream("invoices", partitions=4)
    keys = [f"customer-{i % 37}" for i in range(1000)]

    entries = []
    for first in range(0, 1000, 100):
        result = put(client, stream_id, *[(key, f"invoice {i}") for i, key in enumerate(keys[first : first + 100])])
        assert result.failures == 0
        entries += result.entries

    expected = Counter(str(partition_for_key(key.encode(), 4)) for key in keys)
    assert Counter(entry.partition for entry in entries) == expected
    assert len(expected) == 4
    for partition, count in expected.items():
        offsets = [entry.offset for entry in entries if entry.partition == partition]
        assert offsets == list(range(count))  # contiguous from 0, in request order
    assert [o.next_offset for o in emulator.streams.partition_offsets(stream_id)] == [
        expected[str(p)] for p in range(4)
    ]


def test_group_commits_are_the_last_consumed_offsets_and_after_offset_reads_exactly_the_rest(
    emulator: Emulator, client: Any
) -> None:
    stream_id = emulator.create_stream("invoices", partitions=4)
    keys = [f"customer-{i % 37}" for i in range(1000)]
    for first in range(0, 1000, 250):
        put(client, stream_id, *[(key, "v") for key in keys[first : first + 250]])
    produced = Counter(str(partition_for_key(key.encode(), 4)) for key in keys)
    cursor = group_cursor(client, stream_id, commit_on_get=False)

    first = client.get_messages(stream_id, cursor, limit=30)
    second = client.get_messages(stream_id, first.headers["opc-next-cursor"], limit=20)
    assert committed(client, stream_id) == {"0": None, "1": None, "2": None, "3": None}
    commit = client.consumer_commit(stream_id, second.headers["opc-next-cursor"])

    assert commit.data.value
    (a,) = {message.partition for message in first.data}
    (b,) = {message.partition for message in second.data}
    assert a != b  # two partitions, part of each
    assert [m.offset for m in first.data] == list(range(30))
    assert {m.stream for m in first.data} == {"invoices"}  # the stream's name, not its OCID
    group = client.get_group(stream_id, "billing").data
    assert (group.stream_id, group.group_name) == (stream_id, "billing")
    assert {r.partition for r in group.reservations} == {"0", "1", "2", "3"}  # every partition is listed
    assert {r.reserved_instance for r in group.reservations} == {"worker-1"}
    assert all(r.time_reserved_until is not None for r in group.reservations)
    offsets = committed(client, stream_id)
    assert offsets == {**dict.fromkeys(["0", "1", "2", "3"]), a: 29, b: 19}
    for partition in (a, b):
        offset = offsets[partition]
        assert offset is not None
        unconsumed = drain(client, stream_id, cursor_at(client, stream_id, partition, "AFTER_OFFSET", offset))
        assert unconsumed == list(range(offset + 1, produced[partition]))


def test_commit_on_get_commits_the_previous_batch(emulator: Emulator, client: Any) -> None:
    stream_id = emulator.create_stream("one", partitions=1)
    put(client, stream_id, *[(None, f"m{i}") for i in range(10)])
    cursor = group_cursor(client, stream_id)  # commitOnGet defaults to true

    first = client.get_messages(stream_id, cursor, limit=4)
    assert committed(client, stream_id) == {"0": None}
    second = client.get_messages(stream_id, first.headers["opc-next-cursor"], limit=4)

    assert [m.offset for m in second.data] == [4, 5, 6, 7]
    assert committed(client, stream_id) == {"0": 3}  # offsets 4..7 are delivered but still count as lag
    lag = drain(client, stream_id, cursor_at(client, stream_id, "0", "AFTER_OFFSET", 3))
    assert lag == [4, 5, 6, 7, 8, 9]


def test_messages_carry_base64_keys_values_and_times(emulator: Emulator, client: Any, clock: ManualClock) -> None:
    stream_id = emulator.create_stream("shapes", partitions=1)
    put(client, stream_id, ("k", "hello"), (None, "no key"))
    clock.advance(60)
    later = put(client, stream_id, (None, "later")).entries[0]

    messages = client.get_messages(stream_id, cursor_at(client, stream_id, "0", "TRIM_HORIZON")).data
    at_time = client.create_cursor(stream_id, CreateCursorDetails(partition="0", type="AT_TIME", time=later.timestamp))

    assert [(m.key, base64.b64decode(m.value)) for m in messages] == [
        (b64("k"), b"hello"),
        (None, b"no key"),
        (None, b"later"),
    ]
    assert (messages[2].timestamp - messages[0].timestamp).total_seconds() == pytest.approx(60, abs=0.01)
    assert [m.offset for m in client.get_messages(stream_id, at_time.data.value).data] == [2]
    latest = client.get_messages(stream_id, cursor_at(client, stream_id, "0", "LATEST"))
    assert latest.data == []
    assert latest.headers["opc-next-cursor"]  # always a next cursor


def test_put_reports_per_entry_failures_and_refuses_oversized_requests(emulator: Emulator, client: Any) -> None:
    stream_id = emulator.create_stream("limits", partitions=2)

    result = put(client, stream_id, ("a", "1"), ("k" * 257, "2"), (None, "3"))

    assert result.failures == 1
    assert [e.error for e in result.entries] == [None, "400", None]
    assert "limited to 256" in result.entries[1].error_message
    # "a" hashes to partition 0; the keyless message goes round-robin, starting at partition 0
    assert [(e.partition, e.offset) for e in result.entries] == [("0", 0), (None, None), ("0", 1)]
    half = "x" * (512 * 1024)
    error = error_of(put, client, stream_id, (None, half), (None, half), (None, "y"))
    assert (error.status, error.code) == (400, "InvalidParameter")
    assert "after base64 decoding" in error.message
    assert sum(o.next_offset for o in emulator.streams.partition_offsets(stream_id)) == 2


def test_offsets_outside_the_retained_range_are_400(emulator: Emulator, client: Any) -> None:
    stream_id = emulator.create_stream("range", partitions=1)
    put(client, stream_id, *[(None, str(i)) for i in range(5)])

    assert drain(client, stream_id, cursor_at(client, stream_id, "0", "AT_OFFSET", 4)) == [4]
    assert drain(client, stream_id, cursor_at(client, stream_id, "0", "AFTER_OFFSET", 4)) == []
    for kind, offset in (("AT_OFFSET", 5), ("AFTER_OFFSET", 5), ("AT_OFFSET", -1)):
        error = error_of(cursor_at, client, stream_id, "0", kind, offset)
        assert (error.status, error.code) == (400, "InvalidParameter"), (kind, offset)
    assert error_of(cursor_at, client, stream_id, "1", "LATEST").status == 400
    assert error_of(cursor_at, client, stream_id, "0", "AT_OFFSET").code == "InvalidParameter"  # no offset


def test_retention_trims_under_a_committed_offset(emulator: Emulator, client: Any, clock: ManualClock) -> None:
    stream_id = emulator.create_stream("short", partitions=1, retention_in_hours=24)
    put(client, stream_id, *[(None, f"old {i}") for i in range(10)])
    clock.advance(12 * HOUR)
    put(client, stream_id, *[(None, f"new {i}") for i in range(10)])
    consumed = client.get_messages(stream_id, group_cursor(client, stream_id, commit_on_get=False), limit=6)
    client.consumer_commit(stream_id, consumed.headers["opc-next-cursor"])
    assert committed(client, stream_id) == {"0": 5}

    clock.advance(12 * HOUR)
    assert emulator.apply_stream_retention() == 10

    error = error_of(cursor_at, client, stream_id, "0", "AFTER_OFFSET", 5)
    assert (error.status, error.code) == (400, "InvalidParameter")
    assert committed(client, stream_id) == {"0": 5}  # the group still names the trimmed offset
    assert drain(client, stream_id, cursor_at(client, stream_id, "0", "TRIM_HORIZON")) == list(range(10, 20))


def test_the_sixth_read_within_a_second_is_429_unless_throttling_is_off(
    emulator: Emulator, client: Any, clock: ManualClock
) -> None:
    stream_id = emulator.create_stream("busy", partitions=1)
    put(client, stream_id, (None, "x"))
    cursor = cursor_at(client, stream_id, "0", "TRIM_HORIZON")
    for _ in range(5):
        client.get_messages(stream_id, cursor)

    error = error_of(client.get_messages, stream_id, cursor)

    assert (error.status, error.code) == (429, "TooManyRequests")
    clock.advance(1.0)
    client.get_messages(stream_id, cursor)
    emulator.set_stream_throttle(False)
    for _ in range(10):
        client.get_messages(stream_id, cursor)
    assert control(emulator, "GET") == {"enabled": False}
    assert control(emulator, "PUT", {"enabled": True}) == {"enabled": True}
    for _ in range(5):
        client.get_messages(stream_id, cursor)
    assert error_of(client.get_messages, stream_id, cursor).status == 429
    assert emulator.counters.get("GetStreamMessages") == 23


def control(emulator: Emulator, method: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{emulator.url}/_emulator/stream-throttle", data=data, method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_cursors_expire_after_five_minutes(emulator: Emulator, client: Any, clock: ManualClock) -> None:
    stream_id = emulator.create_stream("slow", partitions=1)
    cursor = cursor_at(client, stream_id, "0", "TRIM_HORIZON")
    group = group_cursor(client, stream_id, timeout_in_ms=600_000)

    clock.advance(300.0)

    for call, token in (
        (client.get_messages, cursor),
        (client.get_messages, group),
        (client.consumer_commit, group),
        (client.consumer_heartbeat, group),
    ):
        error = error_of(call, stream_id, token)
        assert (error.status, error.code) == (400, "InvalidParameter")
        assert "cursor expired" in error.message


def test_heartbeat_renews_reservations_and_update_group_moves_the_group(
    emulator: Emulator, client: Any, clock: ManualClock
) -> None:
    stream_id = emulator.create_stream("groups", partitions=2)
    put(client, stream_id, *[(None, str(i)) for i in range(6)])
    cursor = group_cursor(client, stream_id, timeout_in_ms=10_000)
    clock.advance(8.0)
    cursor = client.consumer_heartbeat(stream_id, cursor).data.value
    clock.advance(8.0)
    assert {r.reserved_instance for r in client.get_group(stream_id, "billing").data.reservations} == {"worker-1"}

    client.update_group(stream_id, "billing", UpdateGroupDetails(type="LATEST"))

    assert committed(client, stream_id) == {"0": 2, "1": 2}
    assert client.get_messages(stream_id, cursor).data == []
    clock.advance(10.0)
    assert {r.reserved_instance for r in client.get_group(stream_id, "billing").data.reservations} == {None}


def test_unknown_streams_and_groups_are_404(emulator: Emulator, client: Any) -> None:
    stream_id = emulator.create_stream("known", partitions=1)

    never = error_of(client.get_group, stream_id, "never-created")
    assert (never.status, never.code) == (404, "NotAuthorizedOrNotFound")
    assert error_of(client.update_group, stream_id, "never-created", UpdateGroupDetails(type="LATEST")).status == 404
    unknown = "ocid1.stream.oc1.iad.unknown"
    assert error_of(put, client, unknown, (None, "x")).status == 404
    assert error_of(cursor_at, client, unknown, "0", "LATEST").status == 404


def test_put_messages_is_signed_without_body_headers_and_a_forged_key_is_refused(
    emulator: Emulator, client: Any, make_client: Callable[..., Any]
) -> None:
    stream_id = emulator.create_stream("signed", partitions=1)
    assert put(client, stream_id, (None, "via the SDK")).failures == 0  # date (request-target) host only
    key = emulator.api_key
    signer = Signer(key.tenancy, key.user, key.fingerprint, None, private_key_content=key.private_key_pem)
    body = json.dumps({"messages": [{"value": b64("raw")}]})
    with requests.Session() as session:
        for path, expected in (("messages", 200), ("cursors", 401)):
            prepared = requests.Request("POST", f"{emulator.url}/20180418/streams/{stream_id}/{path}", data=body)
            request = prepared.prepare()
            request.headers["content-type"] = "application/json"
            signer(request, enforce_content_headers=False)
            assert session.send(request, timeout=5).status_code == expected, path

    impostor = dict(emulator.oci_config, key_content=ApiKey.generate().private_key_pem)
    forged = error_of(put, make_client(impostor), stream_id, (None, "forged"))
    assert (forged.status, forged.code) == (401, "NotAuthenticated")
    assert emulator.streams.partition_offsets(stream_id)[0].next_offset == 2


def test_stream_operations_are_counted_and_accept_injected_faults(emulator: Emulator, client: Any) -> None:
    stream_id = emulator.create_stream("faulty", partitions=1)
    emulator.faults.inject(503, operations=frozenset({"GetStreamMessages"}), count=1)
    cursor = cursor_at(client, stream_id, "0", "TRIM_HORIZON")

    assert error_of(client.get_messages, stream_id, cursor).status == 503
    client.get_messages(stream_id, cursor)
    group_cursor(client, stream_id)
    client.get_group(stream_id, "billing")

    assert emulator.counters.snapshot() == {
        "CreateCursor": 1,
        "GetStreamMessages": 2,
        "CreateGroupCursor": 1,
        "GetGroup": 1,
    }
