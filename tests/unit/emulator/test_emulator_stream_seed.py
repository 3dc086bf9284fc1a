"""Seed files with streams: parsing, validation, and an emulator that starts with them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oci_emulator import Emulator, StreamLimits, partition_for_key
from oci_emulator.seed import SeedError, load_seed, load_stream_seed
from oci_emulator.settings import QueueLimits


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(document))
    return path


def test_streams_and_queues_share_one_seed_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "queues": [{"displayName": "orders"}],
            "streams": [
                {
                    "name": "invoices",
                    "id": "ocid1.stream.oc1.iad.invoices",
                    "partitions": 4,
                    "retentionInHours": 48,
                    "messages": [{"key": "customer-1", "value": "invoice 1"}, {"value": "no key"}],
                }
            ],
        },
    )

    (queue,) = load_seed(path, limits=QueueLimits())
    (stream,) = load_stream_seed(path, limits=StreamLimits())

    assert queue.display_name == "orders"
    assert (stream.name, stream.stream_id, stream.partitions, stream.retention_in_hours) == (
        "invoices",
        "ocid1.stream.oc1.iad.invoices",
        4,
        48,
    )
    assert [(m.key, m.value) for m in stream.messages] == [(b"customer-1", b"invoice 1"), (None, b"no key")]


def test_every_stream_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "streams": [
                {"name": "a", "id": "bad id", "partitions": 0, "retentionInHours": 1},
                {"id": "ocid1.stream.dup", "partitions": 1, "messages": [{"key": "k" * 300, "value": "v"}, {}]},
                {"name": "c", "id": "ocid1.stream.dup", "partitions": 1},
            ]
        },
    )

    with pytest.raises(SeedError) as error:
        load_stream_seed(path, limits=StreamLimits())

    message = str(error.value)
    for expected in (
        "streams[0].id must look like ocid1.stream",
        "streams[0].partitions must be between 1 and 50, got 0",
        "streams[0].retentionInHours must be between 24 and 168, got 1",
        "streams[1].name is required",
        "streams[1].messages[0].key must be at most 256 bytes",
        "streams[1].messages[1].value is required",
        "stream ids appear more than once: ocid1.stream.dup",
    ):
        assert expected in message


def test_an_emulator_starts_with_the_seeded_streams(tmp_path: Path) -> None:
    keys = [f"k{i}" for i in range(20)]
    path = write(
        tmp_path,
        {
            "streams": [
                {
                    "name": "s",
                    "id": "ocid1.stream.oc1.iad.s",
                    "partitions": 3,
                    "messages": [{"key": key, "value": "v"} for key in keys],
                }
            ]
        },
    )

    emulator = Emulator(seed=path)  # never started: no socket

    info = emulator.streams.get_stream("ocid1.stream.oc1.iad.s")
    assert (info.name, info.partitions, info.stream_pool_id) == ("s", 3, emulator.stream_pool_id)
    counts = [offsets.next_offset for offsets in emulator.streams.partition_offsets(info.stream_id)]
    assert counts == [sum(1 for key in keys if partition_for_key(key.encode(), 3) == p) for p in range(3)]
