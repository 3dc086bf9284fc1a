"""Which arithmetic ``decide`` applies, and the small functions around it that the evaluation layer calls.

``test_policy.py`` checks that the numbers land on the HPA's formula; these tests check the choices: `drain` only
with a backlog and evidence, `backlog` never through drain arithmetic, the estimated-throughput branch, the caps'
precedence, a spill-over share of zero that lets KEDA scale the virtual tier to zero, and what history and caps the
caller must gather.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from scaler.metadata import TriggerConfig
from scaler.policy import (
    Decision,
    Observation,
    backlog_of,
    decide,
    replica_cap,
    resize,
    target,
    uses_history,
    value_for,
)
from scaler.values import PartitionLag, Policy, QueueBacklog, SourceKind, StreamLag, Tier
from tests.support.histories import ORIGINS, samples

QUEUE = TriggerConfig(source=SourceKind.QUEUE, queue_id="q")
"""Defaults: target 10 per replica, `backlog` policy, drain within 60 s, no caps."""


def drain(**changes: object) -> TriggerConfig:
    return replace(QUEUE, policy=Policy.DRAIN, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("origin", ORIGINS)
def test_drain_estimates_throughput_from_falling_stretches(origin: float) -> None:
    # steepest drop 100 msgs in 5 s over 4 ready replicas: 5 msgs/s each; least-squares slope -13 msgs/s, so
    # arrivals = -13 + 4 x 5 = 7 msgs/s; (300 / 60 + 7) / 5 = 2.4 -> 3 replicas (plain backlog would ask 30)
    history = samples((0, 500), (5, 400), (10, 350), (15, 300), origin=origin)
    decision = decide(Observation(backlog=300, history=history, ready_replicas=4), drain())
    assert decision.desired_replicas == 3


@pytest.mark.parametrize("origin", ORIGINS)
def test_drain_counts_net_growth_as_arrivals(origin: float) -> None:
    # rising 5 msgs/s while 5 replicas consume 2 each: arrivals 15 msgs/s; (300 / 30 + 15) / 2 = 12.5 -> 13
    cfg = drain(drain_seconds=30.0, throughput_per_replica=2.0)
    rising = samples((0, 200), (10, 250), (20, 300), origin=origin)
    assert decide(Observation(backlog=300, history=rising, ready_replicas=5), cfg).desired_replicas == 13


@pytest.mark.parametrize("origin", ORIGINS)
def test_drain_without_a_replica_count_sees_net_growth_only(origin: float) -> None:
    # no Kubernetes API: the flat backlog says arrivals match consumption, but consumption is unknown, so 0
    cfg = drain(drain_seconds=30.0, throughput_per_replica=2.0)
    flat = samples((0, 300), (10, 300), (20, 300), origin=origin)
    assert decide(Observation(backlog=300, history=flat, ready_replicas=None), cfg).desired_replicas == 5


@pytest.mark.parametrize("origin", ORIGINS)
def test_an_empty_queue_lets_drain_scale_to_zero(origin: float) -> None:
    cfg = drain(drain_seconds=30.0, throughput_per_replica=2.0)
    empty = samples((0, 0), (10, 0), (20, 0), origin=origin)
    decision = decide(Observation(backlog=0, history=empty, ready_replicas=5), cfg)
    assert (decision.desired_replicas, decision.active) == (0, False)


@pytest.mark.parametrize("origin", ORIGINS)
def test_a_single_message_goes_through_drain_arithmetic(origin: float) -> None:
    # 5 replicas x 2 msgs/s keep the backlog at 1: arrivals are 10 msgs/s; (1 / 30 + 10) / 2 -> 6 replicas
    cfg = drain(drain_seconds=30.0, throughput_per_replica=2.0)
    one = samples((0, 1), (10, 1), (20, 1), origin=origin)
    assert decide(Observation(backlog=1, history=one, ready_replicas=5), cfg).desired_replicas == 6


def test_drain_asks_for_at_least_one_replica_while_there_is_a_backlog() -> None:
    cfg = drain(drain_seconds=30.0, throughput_per_replica=2.0)
    assert decide(Observation(backlog=1), cfg).desired_replicas == 1  # (1 / 30) / 2 -> 1


@pytest.mark.parametrize("origin", ORIGINS)
def test_the_backlog_policy_never_uses_drain_arithmetic(origin: float) -> None:
    # the drain arithmetic on this evidence would ask (100 / 60 + 5 x 2) / 2 -> 6; backlog asks ceil(100 / 10)
    cfg = replace(QUEUE, throughput_per_replica=2.0)
    flat = samples((0, 100), (10, 100), (20, 100), origin=origin)
    assert decide(Observation(backlog=100, history=flat, ready_replicas=5), cfg).desired_replicas == 10


@pytest.mark.parametrize("origin", ORIGINS)
def test_a_one_second_lead_projects(origin: float) -> None:
    cfg = replace(QUEUE, tier=Tier.MANAGED, lead_seconds=1.0)
    rising = samples((0, 100), (10, 200), (20, 300), origin=origin)
    decision = decide(Observation(backlog=300, history=rising), cfg)
    assert decision == Decision(backlog=300, metric_value=305.0, active=True, desired_replicas=31)


def test_cap_precedence_argument_then_observation_then_max_replicas() -> None:
    capped = replace(QUEUE, max_replicas=7)
    assert decide(Observation(backlog=1000), capped).desired_replicas == 7
    assert decide(Observation(backlog=1000, cap=3), capped).desired_replicas == 3
    assert decide(Observation(backlog=1000, cap=3), QUEUE).desired_replicas == 3
    assert decide(Observation(backlog=1000, cap=3), capped, cap=5).desired_replicas == 5


def test_the_decision_carries_the_observed_backlog() -> None:
    assert decide(Observation(backlog=42), QUEUE) == Decision(
        backlog=42, metric_value=42, active=True, desired_replicas=5
    )


def test_a_zero_share_sends_zero_even_with_a_backlog() -> None:
    # a virtual member whose share is 0: any positive value would keep one virtual pod alive
    assert value_for(0, 50, QUEUE) == 0.0
    assert value_for(5, 50, QUEUE) == 50  # what plain backlog scaling gives: the raw backlog
    assert value_for(3, 50, QUEUE) == 25.0  # (3 - 1/2) x 10 lands on 3 under rounding and truncation


def test_resize_expresses_a_share_of_the_same_observation() -> None:
    whole = decide(Observation(backlog=50), QUEUE)
    assert resize(whole, 3, QUEUE, active_when_positive=True) == Decision(50, 25.0, True, 3)
    assert resize(whole, 1, QUEUE, active_when_positive=True) == Decision(50, 5.0, True, 1)
    # the virtual member with nothing to do goes inactive so KEDA can scale it to zero
    assert resize(whole, 0, QUEUE, active_when_positive=True) == Decision(50, 0.0, False, 0)
    # the managed member stays active whatever its share: its pods are the ones that take over
    assert resize(whole, 0, QUEUE, active_when_positive=False) == Decision(50, 0.0, True, 0)


def test_resize_never_activates_an_idle_source() -> None:
    idle = decide(Observation(backlog=0), QUEUE)
    assert resize(idle, 2, QUEUE, active_when_positive=True).active is False
    assert resize(idle, 2, QUEUE, active_when_positive=False).active is False


@pytest.mark.parametrize(
    ("policy", "lead", "needed"),
    [(Policy.BACKLOG, 0.0, False), (Policy.BACKLOG, 1.0, True), (Policy.DRAIN, 0.0, True), (Policy.DRAIN, 30.0, True)],
)
def test_history_is_gathered_only_when_the_decision_reads_it(policy: Policy, lead: float, needed: bool) -> None:
    assert uses_history(replace(QUEUE, policy=policy, lead_seconds=lead)) is needed


def test_backlog_of_a_queue_counts_in_flight_only_when_asked() -> None:
    stats = QueueBacklog(visible=7, in_flight=3, size_bytes=0, dlq_visible=5, dlq_in_flight=1)
    assert backlog_of(stats, QUEUE) == 10
    assert backlog_of(stats, replace(QUEUE, include_in_flight=False)) == 7


STREAM = TriggerConfig(source=SourceKind.STREAMING, stream_id="s", group_name="g")
LAG = StreamLag(
    partition_count=4,
    partitions=(
        PartitionLag("0", lag=6, committed_offset=10, capped=False, persistent=False),
        PartitionLag("1", lag=4, committed_offset=3, capped=False, persistent=True),
    ),
)


def test_backlog_of_a_stream_leaves_out_stuck_partitions_only_when_asked() -> None:
    assert backlog_of(LAG, STREAM) == 10
    assert backlog_of(LAG, replace(STREAM, exclude_persistent_lag=True)) == 6


@pytest.mark.parametrize(
    ("config", "cap"),
    [
        (QUEUE, None),
        (replace(QUEUE, max_replicas=7), 7),
        (STREAM, 4),  # one consumer per partition
        (replace(STREAM, max_replicas=10), 4),
        (replace(STREAM, max_replicas=3), 3),
        (replace(STREAM, allow_idle_consumers=True), None),
        (replace(STREAM, allow_idle_consumers=True, max_replicas=10), 10),
    ],
)
def test_replica_cap(config: TriggerConfig, cap: int | None) -> None:
    reading = LAG if config.source == SourceKind.STREAMING else QueueBacklog(50, 0, 0, 0, 0)
    assert replica_cap(reading, config) == cap


def test_the_target_never_drops_below_one_milli_message() -> None:
    assert target(replace(QUEUE, target_backlog_per_replica=0.0004)).size_float == 0.001
    assert target(replace(QUEUE, target_backlog_per_replica=0.001)).size_float == 0.001
