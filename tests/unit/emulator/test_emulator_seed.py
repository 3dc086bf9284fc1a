"""Seed files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oci_emulator.seed import SeedError, load_seed
from oci_emulator.settings import QueueLimits


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(document))
    return path


def test_valid_seed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "queues": [
                {
                    "displayName": "orders",
                    "id": "ocid1.queue.oc1.iad.orders",
                    "visibilityInSeconds": 5,
                    "messages": [{"content": "a"}, {"content": "b", "channelId": "t1", "customProperties": {"k": "v"}}],
                }
            ]
        },
    )

    (queue,) = load_seed(path, limits=QueueLimits())

    assert queue.queue_id == "ocid1.queue.oc1.iad.orders"
    assert queue.settings.visibility_in_seconds == 5
    assert [(m.content, m.channel_id) for m in queue.messages] == [("a", None), ("b", "t1")]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "queues": [
                {"displayName": "a", "id": "bad id", "retentionInSeconds": 1},
                {"id": "ocid1.queue.dup", "messages": [{"content": "x" * 11}]},
                {"displayName": "c", "id": "ocid1.queue.dup"},
            ]
        },
    )

    with pytest.raises(SeedError) as error:
        load_seed(path, limits=QueueLimits(max_message_bytes=10))

    message = str(error.value)
    for expected in (
        "queues[0].id must look like ocid1.queue",
        "queues[0].retentionInSeconds must be between 10 and 604800, got 1",
        "queues[1].messages[0].content must be 1 to 10 bytes",
        "queues[1].displayName is required",
        "queue ids appear more than once: ocid1.queue.dup",
    ):
        assert expected in message


def test_unreadable_seed(tmp_path: Path) -> None:
    (tmp_path / "seed.json").write_text("{")
    with pytest.raises(SeedError, match="not valid JSON"):
        load_seed(tmp_path / "seed.json", limits=QueueLimits())
