"""Partition logs, key hashing, cursor tokens and the read throttle, stepped with explicit times (no HTTP)."""

from __future__ import annotations

import hashlib

import pytest

from oci_emulator.cursors import CursorCodec, GroupCursor, PlainCursor, Position
from oci_emulator.errors import InvalidParameter
from oci_emulator.partitions import PartitionLog, partition_for_key
from oci_emulator.throttle import GetThrottle


def test_offsets_are_contiguous_from_zero_and_survive_trimming() -> None:
    log = PartitionLog()
    assert (log.oldest, log.latest, log.next_offset) == (0, -1, 0)

    offsets = [log.append(None, f"m{i}".encode(), now=float(i)).offset for i in range(5)]
    dropped = log.trim_before(2)

    assert offsets == [0, 1, 2, 3, 4]
    assert dropped == 2
    assert (log.oldest, log.latest, len(log)) == (2, 4, 3)
    assert [record.offset for record in log.read(0, 10)] == [2, 3, 4]  # a trimmed start continues at the oldest
    assert [record.value for record in log.read(3, 1)] == [b"m3"]
    assert log.append(None, b"m5", now=5.0).offset == 5


def test_retention_trims_only_messages_stamped_at_or_before_the_cutoff() -> None:
    log = PartitionLog()
    for second in (0.0, 1.0, 1.0, 2.0):
        log.append(None, b"x", now=second)

    assert log.trim_until(0.5) == 1
    assert log.trim_until(1.0) == 2
    assert (log.oldest, len(log)) == (3, 1)
    assert log.trim_until(100.0) == 1
    assert (log.oldest, log.next_offset, log.latest) == (4, 4, 3)
    assert log.trim_before(100) == 0  # nothing left; offsets never run ahead of what was published
    assert log.next_offset == 4


def test_offset_at_time_finds_the_first_message_at_or_after_the_instant() -> None:
    log = PartitionLog()
    for second in (10.0, 20.0, 20.0, 30.0):
        log.append(None, b"x", now=second)

    assert [log.offset_at_time(t) for t in (0.0, 10.0, 15.0, 20.0, 30.0, 31.0)] == [0, 0, 1, 1, 3, 4]


def test_key_hashing_is_the_documented_sha256_rule_and_stable() -> None:
    key = b"customer-7"
    expected = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % 4

    assert partition_for_key(key, 4) == expected
    assert {partition_for_key(f"k{i}".encode(), 4) for i in range(100)} == {0, 1, 2, 3}
    assert partition_for_key(key, 1) == 0
    with pytest.raises(ValueError, match="at least one partition"):
        partition_for_key(key, 0)


def test_cursor_tokens_round_trip_and_refuse_tampering_and_other_emulators() -> None:
    codec = CursorCodec(b"secret")
    plain = PlainCursor("ocid1.stream.oc1..s", 3, 42, 1000.5)
    group = GroupCursor(
        stream_id="ocid1.stream.oc1..s",
        group_name="billing",
        instance_name="worker/1",
        generation=7,
        timeout_ms=30000,
        commit_on_get=False,
        positions=(Position(0, 10, 1, True), Position(2, 0, 1, False)),
        last_partition=0,
        issued_at=1000.5,
    )

    assert codec.decode(codec.encode(plain)) == plain
    assert codec.decode(codec.encode(group)) == group
    token = codec.encode(plain)
    assert "=" not in token
    forged = token.replace(token[3], "A" if token[3] != "A" else "B", 1)
    for bad in (forged, "", "garbage", CursorCodec(b"other").encode(plain)):
        with pytest.raises(InvalidParameter, match="cursor is not valid"):
            codec.decode(bad)


def test_throttle_admits_n_per_sliding_second_per_key_and_can_be_switched_off() -> None:
    throttle = GetThrottle(requests_per_second=5)
    key = ("s", 0, "g")

    assert [throttle.admit([key], now=10.0 + i * 0.1) for i in range(5)] == [None] * 5
    assert throttle.admit([key], now=10.5) == key
    assert throttle.admit([("s", 0, None)], now=10.5) is None  # plain cursors count under their own key
    assert throttle.admit([("s", 1, "g")], now=10.5) is None
    assert throttle.admit([key], now=10.99) == key
    assert throttle.admit([key], now=11.0) is None  # the first request left the window

    throttle.set_enabled(False)
    assert all(throttle.admit([key], now=11.0) is None for _ in range(20))
    throttle.set_enabled(True)
    assert [throttle.admit([key], now=11.0) for _ in range(6)][-1] == key


def test_a_refused_request_counts_against_no_key() -> None:
    throttle = GetThrottle(requests_per_second=1)
    assert throttle.admit([("s", 1, "g")], now=0.0) is None

    assert throttle.admit([("s", 0, "g"), ("s", 1, "g")], now=0.5) == ("s", 1, "g")
    assert throttle.admit([("s", 0, "g")], now=0.5) is None  # partition 0 was not charged for the refused request
