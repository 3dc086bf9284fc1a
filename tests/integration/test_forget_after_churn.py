"""CI's short churn run (bench/bench_forget_churn.py is the long one): ScaledObjects come, ask once and go, for
longer than ``--forget-after``, while a few live ones keep asking.

A real scaler on 127.0.0.1 with its /metrics endpoint, a real gRPC client asking as KEDA does, the injected fake
clock moving time (no sleeps). Afterwards /metrics must hold exactly the series it held with the live objects
alone (the live objects' series plus the constant ones), the live objects must still have theirs, and everything
kept per object must be back to the live count.
"""

from __future__ import annotations

import asyncio
import math
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from scaler._proto import externalscaler_pb2 as pb
from scaler.app import ScalerApp
from tests.conftest import stub_for
from tests.support.clock import FakeClock

LIVE = 20
CHURN = 1_000
PER_ROUND = 100
ROUND_SECONDS = 5.0
FORGET_AFTER = 30.0
SERIES_PER_QUEUE_TRIGGER = 6
"""backlog, desired replicas, value age, value timestamp, DLQ and the scaledobject info series."""

Series = set[tuple[str, tuple[tuple[str, str], ...]]]


def ref(name: str, namespace: str, queue: str) -> pb.ScaledObjectRef:
    metadata = {"source": "oci-queue", "queueId": f"ocid1.queue.oc1.iad.{queue}"}
    return pb.ScaledObjectRef(name=name, namespace=namespace, scalerMetadata=metadata)


async def ask(stub: Any, scaled_object: pb.ScaledObjectRef) -> None:
    """One KEDA poll of one ScaledObject: GetMetricSpec, GetMetrics for the name it gave, IsActive."""
    spec = await stub.GetMetricSpec(scaled_object)
    name = spec.metricSpecs[0].metricName
    await stub.GetMetrics(pb.GetMetricsRequest(scaledObjectRef=scaled_object, metricName=name))
    await stub.IsActive(scaled_object)


def scrape(port: int) -> Series:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items())))
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def of_objects(series: Series) -> dict[str, int]:
    """Series per ScaledObject named in a label."""
    counts: dict[str, int] = {}
    for _, labels in series:
        named = dict(labels).get("scaledobject")
        if named is not None:
            counts[named] = counts.get(named, 0) + 1
    return counts


async def test_churned_objects_leave_metrics_and_memory_and_live_ones_keep_theirs(
    start_scaler: Any, channel_for: Any
) -> None:
    clock = FakeClock()
    app: ScalerApp = await start_scaler(clock=clock, forget_after_seconds=FORGET_AFTER, metrics_address="127.0.0.1:0")
    assert app.metrics_port is not None
    stub = stub_for(channel_for(app))
    live = [ref(f"live-{i}", "shop", f"live{i}") for i in range(LIVE)]
    churn = [ref(f"preview-{j}", f"pr-{j}", f"preview{j}") for j in range(CHURN)]

    async def live_round() -> None:
        await asyncio.gather(*(ask(stub, r) for r in live))
        await clock.advance(ROUND_SECONDS)

    await live_round()
    baseline = await asyncio.to_thread(scrape, app.metrics_port)
    assert of_objects(baseline) == {r.name: SERIES_PER_QUEUE_TRIGGER for r in live}

    peak = 0
    for first in range(0, CHURN, PER_ROUND):
        await asyncio.gather(*(ask(stub, r) for r in churn[first : first + PER_ROUND]))
        peak = max(peak, len(await asyncio.to_thread(scrape, app.metrics_port)))
        await live_round()
    for _ in range(math.ceil((FORGET_AFTER + app.forgetting.sweep_every) / ROUND_SECONDS) + 1):
        await live_round()
    after = await asyncio.to_thread(scrape, app.metrics_port)

    assert peak > len(baseline) + PER_ROUND * SERIES_PER_QUEUE_TRIGGER  # the churn was on /metrics for a while
    assert after == baseline  # the live objects' series plus the constant ones, nothing else
    assert app.telemetry.registry.get_sample_value("burst_scaler_forgotten_scaledobjects_total") == CHURN
    assert (len(app.forgetting), len(app.resolver), len(app.book), len(app.cache)) == (LIVE, LIVE, LIVE, LIVE)
