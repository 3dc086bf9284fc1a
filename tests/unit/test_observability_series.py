"""The series deploy/observability's alerts stand on, recorded as the alerts assume: the value's read time in Unix
seconds, one info series per trigger that follows its tier, a group's need and managed readiness, the staleness
bound, and cache hits and misses.
"""

from __future__ import annotations

from scaler.metadata import parse_metadata
from scaler.naming import metric_name
from scaler.refresh import CacheTiming, RefreshCache
from scaler.resolution import Resolved
from scaler.routing import split
from scaler.series import Bookkeeping
from scaler.telemetry import Telemetry
from scaler.values import QueueBacklog
from tests.support.clock import FakeClock

READING = QueueBacklog(visible=30, in_flight=0, size_bytes=0, dlq_visible=0, dlq_in_flight=0)


def resolved(**metadata: str) -> Resolved:
    config = parse_metadata({"source": "oci-queue", "queueId": "ocid1.queue.oc1.iad.x", **metadata}).config
    return Resolved("shop", "orders", config, metric_name(config.ref))


def sample(telemetry: Telemetry, name: str, **labels: str) -> float | None:
    value: float | None = telemetry.registry.get_sample_value(name, labels)
    return value


def test_value_timestamp_is_the_unix_time_of_the_read_behind_the_value() -> None:
    telemetry = Telemetry()
    book = Bookkeeping(telemetry=telemetry, wall_clock=lambda: 1_700_000_100.0)
    trigger = resolved()
    book.decision(trigger, READING, backlog=30, desired_replicas=3, value_age=40.0)
    labels = {"namespace": "shop", "scaledobject": "orders", "metric": trigger.metric_name}
    assert sample(telemetry, "burst_scaler_value_timestamp_seconds", **labels) == 1_700_000_060.0
    assert sample(telemetry, "burst_scaler_value_age_seconds", **labels) == 40.0


def test_info_series_names_source_tier_and_group_and_follows_a_changed_tier() -> None:
    telemetry = Telemetry()
    book = Bookkeeping(telemetry=telemetry)
    virtual = resolved(tier="virtual", group="orders", maxReplicas="5")
    book.decision(virtual, READING, backlog=30, desired_replicas=3, value_age=0.0)
    info = {"namespace": "shop", "scaledobject": "orders", "metric": virtual.metric_name, "source": "oci-queue"}
    assert sample(telemetry, "burst_scaler_scaledobject_info", **info, tier="virtual", group="orders") == 1.0
    managed = resolved(tier="managed", group="orders", maxReplicas="5")
    assert managed.metric_name == virtual.metric_name
    book.decision(managed, READING, backlog=30, desired_replicas=3, value_age=0.0)
    assert sample(telemetry, "burst_scaler_scaledobject_info", **info, tier="managed", group="orders") == 1.0
    assert sample(telemetry, "burst_scaler_scaledobject_info", **info, tier="virtual", group="orders") is None


def test_split_exports_the_need_and_managed_readiness_only_when_known() -> None:
    telemetry = Telemetry()
    book = Bookkeeping(telemetry=telemetry)
    group = {"namespace": "shop", "group": "orders"}
    virtual = resolved(tier="virtual", group="orders", maxReplicas="50")
    book.split(virtual, split(20, managed_cap=8, virtual_cap=50, managed_ready=None), 12)
    assert sample(telemetry, "burst_scaler_group_need_replicas", **group) == 20
    assert sample(telemetry, "burst_scaler_group_managed_ready_replicas", **group) is None
    book.split(virtual, split(20, managed_cap=8, virtual_cap=50, managed_ready=5), 15)
    assert sample(telemetry, "burst_scaler_group_managed_ready_replicas", **group) == 5
    assert sample(telemetry, "burst_scaler_group_replicas", **group, tier="virtual") == 15


async def test_cache_reports_hits_and_misses() -> None:
    clock = FakeClock()
    outcomes: list[str] = []
    reads = 0

    async def read(key: str) -> int:
        nonlocal reads
        reads += 1
        return 7

    cache: RefreshCache[str, int] = RefreshCache(
        read=read,
        timing=CacheTiming(ttl=10.0),
        clock=clock,
        phase=lambda: 1.0,
        on_hit=lambda: outcomes.append("hit"),
        on_miss=lambda: outcomes.append("miss"),
    )
    await cache.get("q", max_wait=1.0)
    await cache.get("q", max_wait=1.0)
    await clock.advance(11.0)
    await cache.get("q", max_wait=1.0)
    assert outcomes == ["miss", "hit", "miss"]
    assert reads == 2
    await cache.close()


def test_forgetting_an_object_removes_its_observability_series_and_the_groups_with_its_last_member() -> None:
    telemetry = Telemetry()
    book = Bookkeeping(telemetry=telemetry)
    group = {"namespace": "shop", "group": "orders"}
    virtual = resolved(tier="virtual", group="orders", maxReplicas="50")
    book.decision(virtual, READING, backlog=30, desired_replicas=3, value_age=1.0)
    book.split(virtual, split(20, managed_cap=8, virtual_cap=50, managed_ready=5), 15)
    labels = {"namespace": "shop", "scaledobject": "orders", "metric": virtual.metric_name}
    info = {**labels, "source": "oci-queue", "tier": "virtual", "group": "orders"}
    assert sample(telemetry, "burst_scaler_scaledobject_info", **info) == 1.0
    book.forget("shop", "orders")
    assert sample(telemetry, "burst_scaler_value_timestamp_seconds", **labels) is None
    assert sample(telemetry, "burst_scaler_scaledobject_info", **info) is None
    assert sample(telemetry, "burst_scaler_group_need_replicas", **group) is None
    assert sample(telemetry, "burst_scaler_group_managed_ready_replicas", **group) is None
