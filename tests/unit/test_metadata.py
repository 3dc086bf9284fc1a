"""The metadata parser: defaults, FromEnv, and KEDA-grammar messages asserted verbatim."""

from __future__ import annotations

import pytest

from scaler.errors import MetadataError
from scaler.metadata import SPECS, QueueRef, parse_metadata, render_table

QUEUE = "ocid1.queue.oc1.iad.amaaaaaaexample"


def problems(metadata: dict[str, str]) -> tuple[str, ...]:
    with pytest.raises(MetadataError) as info:
        parse_metadata(metadata)
    return info.value.problems


def test_defaults() -> None:
    parsed = parse_metadata({"source": "oci-queue", "queueId": QUEUE})
    config = parsed.config
    assert config.ref == QueueRef(queue_id=QUEUE, channel_id=None, messages_endpoint=None)
    assert config.include_in_flight is True
    assert config.target_backlog_per_replica == 10.0
    assert config.activation_backlog == 0.0
    assert (config.tier, config.max_replicas) == (None, None)
    assert parsed.unknown_keys == ()


def test_every_key_parsed() -> None:
    config = parse_metadata(
        {
            "source": "oci-queue",
            "queueId": f" {QUEUE} ",
            "channelId": "heavy",
            "includeInFlight": "False",
            "messagesEndpoint": "http://127.0.0.1:1/",
            "targetBacklogPerReplica": "2.5",
            "activationBacklog": "3",
            "tier": "virtual",
            "maxReplicas": "40",
        }
    ).config
    assert config.ref == QueueRef(QUEUE, "heavy", "http://127.0.0.1:1")
    assert config.include_in_flight is False
    assert (config.target_backlog_per_replica, config.activation_backlog) == (2.5, 3.0)
    assert (config.tier, config.max_replicas) == ("virtual", 40)


def test_missing_source_is_the_only_problem_reported() -> None:
    assert problems({}) == ('missing required parameter "source"',)


def test_unknown_source() -> None:
    assert problems({"source": "kafka"}) == (
        'parameter "source" value "kafka" must be one of [oci-queue oci-streaming]',
    )


def test_all_problems_at_once_in_declaration_order() -> None:
    assert problems(
        {
            "source": "oci-queue",
            "includeInFlight": "maybe",
            "targetBacklogPerReplica": "0",
            "activationBacklog": "-2",
            "tier": "spot",
            "maxReplicas": "0",
        }
    ) == (
        'missing required parameter "queueId"',
        'unable to set param "includeInFlight" value "maybe": expected true or false',
        'parameter "targetBacklogPerReplica" value "0" must be > 0',
        'parameter "activationBacklog" value "-2" must be >= 0',
        'parameter "tier" value "spot" must be one of [managed virtual]',
        'parameter "maxReplicas" value "0" must be >= 1',
    )


@pytest.mark.parametrize("raw", ["abc", "nan", "inf", ""])
def test_non_numbers_are_refused(raw: str) -> None:
    found = problems({"source": "oci-queue", "queueId": QUEUE, "targetBacklogPerReplica": raw or "1e999"})
    assert len(found) == 1
    assert found[0].startswith('unable to set param "targetBacklogPerReplica"')


def test_empty_value_counts_as_missing() -> None:
    assert problems({"source": "oci-queue", "queueId": "  "}) == ('missing required parameter "queueId"',)


def test_from_env_keys_resolve_and_are_not_unknown() -> None:
    parsed = parse_metadata({"source": "oci-queue", "queueIdFromEnv": QUEUE, "scalerAddress": "x:6000", "typo": "1"})
    assert parsed.config.ref == QueueRef(queue_id=QUEUE, channel_id=None, messages_endpoint=None)
    assert parsed.unknown_keys == ("typo",)


def test_readme_table_is_generated_from_the_declaration() -> None:
    table = render_table()
    for spec in SPECS:
        assert f"| `{spec.param.key}` |" in table


def test_readme_table_is_up_to_date() -> None:
    from pathlib import Path

    from scaler.metadata import splice_table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert splice_table(readme, render_table()) == readme, "run: burst-scaler metadata-table --readme README.md"


def test_streaming_keys() -> None:
    from scaler.metadata import StreamRef

    parsed = parse_metadata(
        {
            "source": "oci-streaming",
            "streamId": "ocid1.stream.oc1..s",
            "groupName": "billing",
            "uncommittedOffset": "earliest",
            "partitionLimitation": "4-6, 0,5",
            "targetBacklogPerReplica": "20",
            "maxReplicas": "5",
            "excludePersistentLag": "true",
        }
    )
    ref = parsed.config.ref
    assert isinstance(ref, StreamRef)
    assert ref.partitions == ("0", "4", "5", "6")
    assert ref.start_uncommitted_at_earliest is True
    assert ref.read_cap == 101  # target x maxReplicas, +1 to know the cap was exceeded
    assert parsed.config.exclude_persistent_lag is True
    assert parsed.config.allow_idle_consumers is False


def test_streaming_problems() -> None:
    assert problems({"source": "oci-streaming", "partitionLimitation": "2-1,x", "uncommittedOffset": "oldest"}) == (
        'missing required parameter "streamId"',
        'missing required parameter "groupName"',
        'parameter "uncommittedOffset" value "oldest" must be one of [earliest latest]',
        'unable to set param "partitionLimitation" value "2-1,x": invalid partition range "2-1"',
    )
    assert problems({"source": "oci-queue", "queueId": "q", "leadSeconds": "30"}) == (
        'parameter "leadSeconds" requires tier "managed"',
    )
    assert problems({"source": "oci-queue", "queueId": "q", "group": "g"}) == (
        'parameter "group" requires parameter "tier"',
    )


@pytest.mark.parametrize(
    ("extra", "polls"),
    [
        ({}, 1),
        ({"excludePersistentLag": "true", "persistentLagThresholdPolls": "3"}, 3),
        ({"persistentLagThresholdPolls": "3"}, 1),  # without exclusion it changes nothing: the read stays shared
    ],
)
def test_persistent_lag_threshold_polls(extra: dict[str, str], polls: int) -> None:
    from scaler.metadata import StreamRef

    meta = {"source": "oci-streaming", "streamId": "ocid1.stream.oc1..s", "groupName": "billing", **extra}
    ref = parse_metadata(meta).config.ref
    assert isinstance(ref, StreamRef)
    assert ref.persistent_after_polls == polls
    assert problems({**meta, "persistentLagThresholdPolls": "0"}) == (
        'parameter "persistentLagThresholdPolls" value "0" must be >= 1',
    )
