"""Multi-queue triggers, pure parts: the combined reading and history, and the metric name (the ``queueIds`` /
``operation`` metadata is in test_metadata_queue_ids.py, beside the parser's other tests)."""

from __future__ import annotations

import pytest

from scaler.metadata import parse_metadata
from scaler.naming import metric_name
from scaler.queue_set import backlog, cap, combine, combine_history
from scaler.refresh import Snapshot
from scaler.values import Operation, QueueBacklog, QueueSetBacklog, Reading

A, B = "ocid1.queue.oc1.iad.aaaa", "ocid1.queue.oc1.iad.bbbb"


def queue(visible: int, in_flight: int = 0, dlq: int = 0) -> QueueBacklog:
    return QueueBacklog(visible=visible, in_flight=in_flight, size_bytes=0, dlq_visible=dlq, dlq_in_flight=0)


@pytest.mark.parametrize(
    ("operation", "include_in_flight", "expected"),
    [
        (Operation.SUM, True, 3 + 2 + 5 + 0 + 7 + 1),
        (Operation.SUM, False, 15),
        (Operation.MAX, True, 8),
        (Operation.MAX, False, 7),
        (Operation.AVG, True, 6),
        (Operation.AVG, False, 5),
    ],
)
def test_operations(operation: Operation, include_in_flight: bool, expected: float) -> None:
    reading = QueueSetBacklog((queue(3, 2), queue(5), queue(7, 1)), operation)
    assert reading.backlog(include_in_flight=include_in_flight) == expected


def test_avg_keeps_fractions_and_the_set_has_only_the_max_replicas_cap() -> None:
    config = parse_metadata(
        {"source": "oci-queue", "queueIds": f"{A},{B}", "operation": "avg", "maxReplicas": "4"}
    ).config
    reading = QueueSetBacklog((queue(1), queue(0)), Operation.AVG)
    assert backlog(reading, config) == 0.5  # never rounded down to a false zero
    assert cap(reading, config) == 4


def test_combine_is_as_old_as_its_oldest_part() -> None:
    parts: list[Snapshot[Reading]] = [Snapshot(queue(1), 10.0), Snapshot(queue(2), 9.5)]
    assert combine(parts, Operation.SUM) == Snapshot(QueueSetBacklog((queue(1), queue(2)), Operation.SUM), 9.5)


def test_combine_history_aligns_each_queues_latest_reading() -> None:
    a: list[Snapshot[Reading]] = [Snapshot(queue(1), 0.0), Snapshot(queue(4), 2.0)]
    b: list[Snapshot[Reading]] = [Snapshot(queue(10), 1.0), Snapshot(queue(20), 3.0)]
    combined = combine_history([a, b], Operation.SUM)
    assert [(s.observed_at, s.value.backlog(include_in_flight=True)) for s in combined] == [
        (1.0, 11),  # from the moment both queues have a reading
        (2.0, 14),
        (3.0, 24),
    ]


def test_metric_names_are_stable_distinct_and_path_safe() -> None:
    def name(**metadata: str) -> str:
        return metric_name(parse_metadata({"source": "oci-queue", **metadata}).config.ref)

    total = name(queueIds=f"{A},{B}")
    assert total == name(queueIds=f" {A} ,{B}")
    assert total.startswith("oci-queues-2x-sum-aaaa-")
    assert len({total, name(queueIds=f"{A},{B}", operation="max"), name(queueIds=f"{A},{B}:eu"), name(queueId=A)}) == 4


@pytest.mark.parametrize(
    ("tier", "shares"),
    [("virtual", 3), ("managed", 2)],
)
def test_a_queue_set_sizes_a_spill_over_group_on_its_combined_backlog(tier: str, shares: int) -> None:
    from scaler.evaluation import Evidence, conclude

    config = parse_metadata(
        {
            "source": "oci-queue",
            "queueIds": f"{A},{B}",
            "tier": tier,
            "group": "g",
            "maxReplicas": "2" if tier == "managed" else "50",
            "managedMaxReplicas": "2",
        }
    ).config
    reading = QueueSetBacklog((queue(30), queue(15, in_flight=5)), Operation.SUM)  # 50 at 10 each: 5 replicas
    outcome = conclude(config, Evidence(reading), scaled_object="consumer")
    assert outcome.backlog == 50
    assert outcome.split is not None
    assert (outcome.split.managed, outcome.split.virtual) == (2, 3)  # no API access: pure overflow above managed 2
    assert outcome.decision.desired_replicas == shares
