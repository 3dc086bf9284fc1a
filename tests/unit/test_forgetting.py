"""Forgetting ScaledObjects that stopped asking, part by part, on a fake clock.

The sweep (scaler.forgetting) decides who is forgotten; each part drops what it kept: the Resolver its parsed refs,
Bookkeeping its series (read back from the Prometheus registry) and warnings, the refresh cache its entries (never a
watched or in-flight one).
"""

from __future__ import annotations

import logging

import pytest

from scaler._proto import externalscaler_pb2 as pb
from scaler.forgetting import MAX_SWEEP_SECONDS, Forgetting
from scaler.metadata import parse_metadata
from scaler.naming import metric_name
from scaler.refresh import CacheTiming, RefreshCache
from scaler.resolution import Resolved, Resolver
from scaler.routing import Split
from scaler.series import Bookkeeping
from scaler.telemetry import Telemetry
from scaler.values import PartitionLag, QueueBacklog, StreamLag
from tests.support.clock import FakeClock

QUEUE = {"source": "oci-queue", "queueId": "ocid1.queue.oc1.iad.aaaa"}
STREAM = {"source": "oci-streaming", "streamId": "ocid1.stream.oc1.iad.bbbb", "groupName": "g"}


class Parts:
    """A part that records what it was told to forget."""

    def __init__(self) -> None:
        self.forgotten: list[tuple[str, str]] = []

    def forget(self, namespace: str, name: str) -> None:
        self.forgotten.append((namespace, name))


def resolved(name: str, metadata: dict[str, str], namespace: str = "shop") -> Resolved:
    config = parse_metadata(metadata).config
    return Resolved(namespace, name, config, metric_name(config.ref))


def series(telemetry: Telemetry) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """Every labelled sample naming a ScaledObject or a group, as (sample name, labels)."""
    found = set()
    for family in telemetry.registry.collect():
        for sample in family.samples:
            if {"scaledobject", "group"} & set(sample.labels):
                found.add((sample.name, tuple(sorted(sample.labels.items()))))
    return found


QUEUE_READING = QueueBacklog(visible=5, in_flight=1, size_bytes=60, dlq_visible=2, dlq_in_flight=0)
STREAM_READING = StreamLag(
    partition_count=2,
    partitions=(PartitionLag("0", 3, 10, False, False), PartitionLag("1", 4, None, False, False)),
)


async def test_objects_not_asked_for_forget_after_are_forgotten_and_asking_again_keeps_one() -> None:
    clock, part = FakeClock(), Parts()
    counted: list[int] = []
    forgetting = Forgetting(forget_after=30.0, clock=clock, parts=[part], on_forgotten=counted.append)
    forgetting.asked("shop", "gone")
    forgetting.asked("shop", "kept")
    await clock.advance(20.0)
    forgetting.asked("shop", "kept")
    await clock.advance(10.0)

    assert forgetting.sweep() == 1
    assert part.forgotten == [("shop", "gone")]
    assert counted == [1]
    assert len(forgetting) == 1

    await clock.advance(19.0)  # "kept" last asked 29 s ago
    assert forgetting.sweep() == 0
    await clock.advance(1.0)
    assert forgetting.sweep() == 1
    assert part.forgotten == [("shop", "gone"), ("shop", "kept")]


async def test_the_background_sweep_runs_on_the_clock_and_stops() -> None:
    clock, part = FakeClock(), Parts()
    forgetting = Forgetting(forget_after=10.0, clock=clock, parts=[part])
    forgetting.asked("shop", "a")
    forgetting.start()
    await clock.advance(forgetting.sweep_every)
    assert part.forgotten == []

    await clock.advance(10.0)

    assert part.forgotten == [("shop", "a")]
    await forgetting.stop()
    assert clock.timers == 0


def test_sweeps_are_at_most_a_minute_apart() -> None:
    assert Forgetting(forget_after=600.0, clock=FakeClock(), parts=[]).sweep_every == MAX_SWEEP_SECONDS
    assert Forgetting(forget_after=8.0, clock=FakeClock(), parts=[]).sweep_every == 4.0
    with pytest.raises(ValueError, match="forget_after"):
        Forgetting(forget_after=0.0, clock=FakeClock(), parts=[])


async def test_a_failing_part_is_logged_and_the_next_sweep_still_runs(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def __init__(self) -> None:
            self.calls = 0

        def forget(self, namespace: str, name: str) -> None:
            self.calls += 1
            raise RuntimeError("boom")

    clock, broken = FakeClock(), Broken()
    forgetting = Forgetting(forget_after=2.0, clock=clock, parts=[broken])
    forgetting.asked("shop", "a")
    forgetting.start()
    with caplog.at_level(logging.ERROR, logger="scaler.forgetting"):
        await clock.advance(3.0)
    forgetting.asked("shop", "b")
    await clock.advance(3.0)
    await forgetting.stop()

    assert broken.calls == 2
    assert any("forgetting idle ScaledObjects failed" in r.message for r in caplog.records)


def test_bookkeeping_forgets_every_series_of_the_object_and_only_its_own() -> None:
    telemetry = Telemetry()
    book = Bookkeeping(telemetry=telemetry)
    gone_queue, gone_stream, kept = resolved("gone", QUEUE), resolved("gone", STREAM), resolved("kept", QUEUE)
    book.decision(gone_queue, QUEUE_READING, backlog=6, desired_replicas=1, value_age=0.1)
    book.decision(gone_stream, STREAM_READING, backlog=7, desired_replicas=1, value_age=0.1)
    book.decision(kept, QUEUE_READING, backlog=6, desired_replicas=1, value_age=0.1)
    book.unknown_keys("shop", "gone", ("typo",))
    before_kept = {s for s in series(telemetry) if ("scaledobject", "kept") in s[1]}
    assert len(before_kept) == 6  # backlog, desired replicas, value age, value timestamp, DLQ, scaledobject info
    # gone: queue 6; stream 5 (no DLQ) + 2 partitions x (lag, capped)
    assert len(series(telemetry)) == 6 + 6 + 5 + 2 * 2

    book.forget("shop", "gone")

    assert series(telemetry) == before_kept
    assert len(book) == 1
    book.forget("shop", "never-seen")  # nothing kept: nothing to do
    assert series(telemetry) == before_kept


def test_a_group_series_leaves_with_the_last_member_that_set_it() -> None:
    telemetry = Telemetry()
    book = Bookkeeping(telemetry=telemetry)
    grouped = {**QUEUE, "group": "orders", "tier": "virtual", "managedMaxReplicas": "2"}
    first, second = resolved("orders-a", grouped), resolved("orders-b", grouped)
    shares = Split(total=3, managed=2, virtual=1, managed_ready=None)
    book.split(first, shares, 1)
    book.split(second, shares, 1)

    def group_series() -> int:
        return sum(1 for name, labels in series(telemetry) if name == "burst_scaler_group_replicas")

    book.forget("shop", "orders-a")
    assert group_series() == 1
    book.forget("shop", "orders-b")
    assert group_series() == 0


def test_the_resolver_forgets_every_metadata_version_of_the_object() -> None:
    resolver = Resolver(on_unknown_keys=lambda namespace, name, keys: None)
    for target in ("5", "6"):
        resolver.resolve(pb.ScaledObjectRef(name="gone", namespace="shop", scalerMetadata={**QUEUE, "x": target}))
    resolver.resolve(pb.ScaledObjectRef(name="bad", namespace="shop", scalerMetadata={"source": "nope"}))
    resolver.resolve(pb.ScaledObjectRef(name="kept", namespace="shop", scalerMetadata=QUEUE))
    assert len(resolver) == 4

    resolver.forget("shop", "gone")
    resolver.forget("shop", "bad")

    assert len(resolver) == 1


async def test_the_cache_forgets_idle_keys_but_never_a_watched_one() -> None:
    clock = FakeClock()
    dropped: list[str] = []

    async def read(key: str) -> int:
        return 1

    cache: RefreshCache[str, int] = RefreshCache(
        read=read, timing=CacheTiming(prune_after=10.0), clock=clock, phase=lambda: 1.0, on_forget=dropped.append
    )
    await cache.get("idle", max_wait=1)
    await cache.get("forgotten-now", max_wait=1)
    async with cache.watch("watched"):
        await clock.advance(0)
        assert cache.forget("forgotten-now")
        assert not cache.forget("watched")
        await clock.advance(30.0)
        await cache.get("polled", max_wait=1)  # any get sweeps; the idle key goes, the watched one stays

        assert dropped == ["forgotten-now", "idle"]
        assert len(cache) == 2
    await cache.close()
