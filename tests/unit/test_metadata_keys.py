"""The metadata parser on valid input: every policy, tier and group key accepted, the source identity built from
exactly what was given, partition lists at their limits, and the README splice.

``test_metadata.py`` asserts the error grammar; a parser that refuses a valid combination is as broken as one that
accepts an invalid one, and is only caught by parsing the valid ones.
"""

from __future__ import annotations

import re

import pytest

from onebox.harness.cost import Prices
from scaler.errors import MetadataError
from scaler.metadata import (
    TABLE_END,
    TABLE_START,
    QueueRef,
    StreamRef,
    TriggerConfig,
    parse_metadata,
    parse_partitions,
    splice_table,
)
from scaler.values import Policy, SourceKind, Tier

QUEUE = "ocid1.queue.oc1.iad.amaaaaaaexample"
STREAM = "ocid1.stream.oc1.iad.amaaaaaaexample"


def problems(metadata: dict[str, str]) -> tuple[str, ...]:
    with pytest.raises(MetadataError) as info:
        parse_metadata(metadata)
    return info.value.problems


def test_a_managed_group_member_with_drain_and_lead() -> None:
    config = parse_metadata(
        {
            "source": "oci-queue",
            "queueId": QUEUE,
            "policy": "drain",
            "drainSeconds": "10",
            "throughputPerReplica": "2.5",
            "leadSeconds": "30",
            "tier": "managed",
            "maxReplicas": "12",
            "group": "orders",
            "holdSeconds": "36",
            "managedBreakEven": "4",
        }
    ).config
    assert (config.policy, config.drain_seconds, config.throughput_per_replica) == (Policy.DRAIN, 10.0, 2.5)
    assert (config.lead_seconds, config.tier, config.max_replicas, config.group) == (30.0, Tier.MANAGED, 12, "orders")
    assert (config.hold_seconds, config.managed_break_even) == (36.0, 4)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("0", 'parameter "managedBreakEven" value "0" must be >= 1'),
        ("2.5", 'unable to set param "managedBreakEven" value "2.5"'),
    ],
)
def test_the_break_even_is_a_whole_number_of_consumers(raw: str, problem: str) -> None:
    found = problems({"source": "oci-queue", "queueId": QUEUE, "tier": "managed", "managedBreakEven": raw})
    assert len(found) == 1, found
    assert found[0].startswith(problem), found


def test_the_default_break_even_is_that_of_the_shipped_shapes_at_list_prices() -> None:
    """The default documents a price ratio (deploy/karpenter's smallest node against the examples' virtual pods);
    the benchmark's cost model carries the same list prices, so a price change there must revisit the default."""
    assert parse_metadata({"source": "oci-queue", "queueId": QUEUE}).config.managed_break_even == 3
    assert Prices().break_even() == 3


def test_a_virtual_group_member_naming_the_managed_cap() -> None:
    config = parse_metadata(
        {
            "source": "oci-queue",
            "queueId": QUEUE,
            "tier": "virtual",
            "maxReplicas": "40",
            "group": "orders",
            "managedMaxReplicas": "12",
            "leadSeconds": "0",  # zero is no lead, allowed on any tier
        }
    ).config
    assert (config.tier, config.group, config.managed_max_replicas, config.lead_seconds) == (
        Tier.VIRTUAL,
        "orders",
        12,
        0.0,
    )
    assert config.policy == Policy.BACKLOG


def test_a_stream_ref_is_built_from_exactly_the_given_keys() -> None:
    config = parse_metadata(
        {
            "source": "oci-streaming",
            "streamId": STREAM,
            "groupName": "billing",
            "messagesEndpoint": "http://127.0.0.1:1/PREFIX/",
            "allowIdleConsumers": "true",
        }
    ).config
    assert config.allow_idle_consumers is True
    assert config.ref == StreamRef(
        stream_id=STREAM,
        group_name="billing",
        messages_endpoint="http://127.0.0.1:1/PREFIX",
        start_uncommitted_at_earliest=False,
        partitions=None,
        read_cap=10 * 100 + 1,  # target x KEDA's default maxReplicaCount, +1 to see the cap exceeded
    )


@pytest.mark.parametrize(
    ("endpoint", "kept"),
    [
        ("http://127.0.0.1:1/PREFIX/", "http://127.0.0.1:1/PREFIX"),  # only slashes are trimmed, not the X
        ("http://127.0.0.1:1//", "http://127.0.0.1:1"),
        ("http://127.0.0.1:1", "http://127.0.0.1:1"),
    ],
)
def test_the_endpoint_loses_trailing_slashes_only(endpoint: str, kept: str) -> None:
    config = parse_metadata({"source": "oci-queue", "queueId": QUEUE, "messagesEndpoint": endpoint}).config
    assert config.ref == QueueRef(queue_id=QUEUE, channel_id=None, messages_endpoint=kept)


NEEDS_STREAM = "an oci-streaming trigger needs stream_id and group_name"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"source": SourceKind.QUEUE}, "an oci-queue trigger needs queue_id"),
        ({"source": SourceKind.STREAMING, "stream_id": "s"}, NEEDS_STREAM),
        ({"source": SourceKind.STREAMING, "group_name": "g"}, NEEDS_STREAM),
    ],
)
def test_a_config_built_in_code_never_has_a_half_empty_source(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        TriggerConfig(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "partitions"),
    [
        ("0,,2", ("0", "2")),  # empty items are skipped, and the ones after them still read
        (",5", ("5",)),
        ("10-12", ("10", "11", "12")),  # decimal
        ("5000-5002", ("5000", "5001", "5002")),  # the size limit is on the width of a range
        ("010", ("10",)),
    ],
)
def test_partition_lists(text: str, partitions: tuple[str, ...]) -> None:
    assert parse_partitions(text) == partitions


def test_a_range_of_ten_thousand_is_the_widest_accepted() -> None:
    widest = parse_partitions("0-10000")
    assert (len(widest), widest[0], widest[-1]) == (10_001, "0", "10000")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("x", 'expected partition ids or ranges like 0,2,4-7, got "x"'),
        ("a", 'expected partition ids or ranges like 0,2,4-7, got "a"'),
        ("0-10001", 'partition range "0-10001" is too large'),
        (",", "expected at least one partition id"),
    ],
)
def test_partition_list_problems(text: str, reason: str) -> None:
    assert problems({"source": "oci-streaming", "streamId": STREAM, "groupName": "g", "partitionLimitation": text}) == (
        f'unable to set param "partitionLimitation" value "{text}": {reason}',
    )


def test_the_splice_replaces_only_what_is_between_the_markers() -> None:
    document = f"intro\n{TABLE_START}\nold\n{TABLE_END}\noutro\n"
    assert splice_table(document, "new") == f"intro\n{TABLE_START}\nnew\n{TABLE_END}\noutro\n"


@pytest.mark.parametrize(
    ("document", "counts"),
    [
        (f"{TABLE_START} only the start", (1, 0)),
        (f"only the end {TABLE_END}", (0, 1)),
        ("neither", (0, 0)),
        (f"{TABLE_START} a {TABLE_END} b {TABLE_END}", (1, 2)),  # which table would be replaced?
        (f"{TABLE_START} a {TABLE_START} b {TABLE_END}", (2, 1)),
    ],
)
def test_the_splice_needs_each_marker_exactly_once(document: str, counts: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match=re.escape(f"markers once each, has {counts}")):
        splice_table(document, "new")
