"""The ``queueIds`` / ``operation`` metadata of a multi-queue trigger, with exact messages (named test_metadata_* so
bench/mutation.py runs it against scaler/metadata.py)."""

from __future__ import annotations

import pytest

from scaler.errors import MetadataError
from scaler.metadata import QueueRef, QueueSetRef, parse_metadata, reads_of
from scaler.values import Operation

A, B = "ocid1.queue.oc1.iad.aaaa", "ocid1.queue.oc1.iad.bbbb"
MANY = ",".join(f"q{i}" for i in range(51))
LIST_THERE = 'cannot be combined with "queueIds"; list each queue there as OCID or OCID:channelId'


def problems(metadata: dict[str, str]) -> tuple[str, ...]:
    with pytest.raises(MetadataError) as info:
        parse_metadata({"source": "oci-queue", **metadata})
    return info.value.problems


def test_queue_ids_parse_into_one_ref_per_queue() -> None:
    config = parse_metadata(
        {"source": "oci-queue", "queueIds": f" {A} , {B}:eu,", "operation": "max", "messagesEndpoint": "http://x/"}
    ).config
    assert config.ref == QueueSetRef(
        queues=(QueueRef(A, None, "http://x"), QueueRef(B, "eu", "http://x")), operation=Operation.MAX
    )
    assert isinstance(config.ref, QueueSetRef)
    assert reads_of(config.ref) == config.ref.queues
    single = parse_metadata({"source": "oci-queue", "queueId": A}).config
    assert reads_of(single.ref) == (QueueRef(A, None, None),)
    assert single.operation == Operation.SUM


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({}, ('missing required parameter "queueId"',)),
        ({"queueIds": " , "}, ('unable to set param "queueIds" value ",": expected at least one queue OCID',)),
        (
            {"queueIds": f"{A}:"},
            (f'unable to set param "queueIds" value "{A}:": expected OCID or OCID:channelId, got "{A}:"',),
        ),
        ({"queueIds": f"{A},{A}"}, (f'unable to set param "queueIds" value "{A},{A}": "{A}" is listed twice',)),
        (
            {"queueIds": MANY},
            (f'unable to set param "queueIds" value "{MANY}": expected at most 50 queues, got 51',),
        ),
        (
            {"queueIds": A, "queueId": B, "channelId": "eu", "operation": "median"},
            (
                'parameter "operation" value "median" must be one of [sum max avg]',
                f'parameter "queueId" {LIST_THERE}',
                f'parameter "channelId" {LIST_THERE}',
            ),
        ),
        (
            {"queueId": A, "keepAliveSeconds": "-1", "poisonGuard": "sometimes", "poisonWindowSeconds": "0"},
            (
                'unable to set param "poisonGuard" value "sometimes": expected true or false',
                'parameter "poisonWindowSeconds" value "0" must be > 0',
                'parameter "keepAliveSeconds" value "-1" must be >= 0',
            ),
        ),
    ],
)
def test_problems_are_reported_exactly(metadata: dict[str, str], expected: tuple[str, ...]) -> None:
    assert problems(metadata) == expected
