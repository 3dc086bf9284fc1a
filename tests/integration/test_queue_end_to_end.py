"""The scaler on the real `oci` SDK against the emulator over HTTP on 127.0.0.1, with a real gRPC client.

Messages are produced and consumed with the SDK exactly as a user's workload would; the scaler reads GetStats
through its OCI source with signed requests; the emulator counts every upstream call.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import grpc
import oci
import pytest

from oci_emulator import Emulator
from scaler._proto import externalscaler_pb2 as pb
from scaler.settings import OciSettings
from tests.conftest import stub_for


@pytest.fixture
def sdk(emulator: Emulator, tmp_path: Path) -> dict[str, Any]:
    config_path = emulator.write_config(tmp_path / "config")
    config = oci.config.from_file(str(config_path))
    quiet = {"retry_strategy": oci.retry.NoneRetryStrategy()}
    return {
        "config_path": config_path,
        "admin": oci.queue.QueueAdminClient(config, service_endpoint=emulator.url, **quiet),
        "data": oci.queue.QueueClient(config, service_endpoint=emulator.url, **quiet),
        "compartment": emulator.compartment_id,
    }


def oci_settings(sdk: dict[str, Any], emulator: Emulator, **overrides: Any) -> OciSettings:
    fields: dict[str, Any] = {"config_file": sdk["config_path"], "endpoint": emulator.url}
    fields.update(overrides)
    return OciSettings(**fields)


def so(queue_id: str, name: str = "consumer", **metadata: str) -> pb.ScaledObjectRef:
    return pb.ScaledObjectRef(
        name=name, namespace="team", scalerMetadata={"source": "oci-queue", "queueId": queue_id, **metadata}
    )


async def value_of(stub: Any, ref: pb.ScaledObjectRef) -> float:
    spec = (await stub.GetMetricSpec(ref)).metricSpecs[0]
    response = await stub.GetMetrics(pb.GetMetricsRequest(scaledObjectRef=ref, metricName=spec.metricName))
    (value,) = response.metricValues
    assert value.metricValue == round(value.metricValueFloat)
    return float(value.metricValueFloat)


def put(sdk: dict[str, Any], queue_id: str, count: int, channel: str | None = None) -> None:
    models = oci.queue.models
    for first in range(0, count, 20):
        entries = [
            models.PutMessagesDetailsEntry(
                content=f"m{i}", metadata=models.MessageMetadata(channel_id=channel) if channel else None
            )
            for i in range(first, min(first + 20, count))
        ]
        sdk["data"].put_messages(queue_id, models.PutMessagesDetails(messages=entries))


def create_queue(sdk: dict[str, Any], name: str) -> str:
    details = oci.queue.models.CreateQueueDetails(display_name=name, compartment_id=sdk["compartment"])
    ops = oci.queue.QueueAdminClientCompositeOperations(sdk["admin"])
    work = ops.create_queue_and_wait_for_state(
        details, wait_for_states=["SUCCEEDED"], waiter_kwargs={"max_wait_seconds": 10, "max_interval_seconds": 0.2}
    )
    queue_id: str = work.data.resources[0].identifier
    assert sdk["admin"].get_queue(queue_id).data.lifecycle_state == "ACTIVE"
    return queue_id


async def test_backlog_follows_puts_channels_in_flight_and_deletes(
    emulator: Emulator, sdk: dict[str, Any], start_scaler: Any, channel_for: Any
) -> None:
    queue_id = await asyncio.to_thread(create_queue, sdk, "orders")
    app = await start_scaler(
        queue_source=None, stream_source=None, oci=oci_settings(sdk, emulator), cache_ttl_seconds=0.01
    )
    stub = stub_for(channel_for(app))
    assert await value_of(stub, so(queue_id)) == 0
    assert (await stub.IsActive(so(queue_id))).result is False

    await asyncio.to_thread(put, sdk, queue_id, 30)
    await asyncio.to_thread(put, sdk, queue_id, 12, "heavy")
    await asyncio.sleep(0.02)
    assert await value_of(stub, so(queue_id)) == 42
    assert await value_of(stub, so(queue_id, channelId="heavy")) == 12
    assert (await stub.IsActive(so(queue_id))).result is True

    received = await asyncio.to_thread(
        lambda: sdk["data"].get_messages(queue_id, limit=10, visibility_in_seconds=60, timeout_in_seconds=0).data
    )
    assert len(received.messages) == 10
    await asyncio.sleep(0.02)
    assert await value_of(stub, so(queue_id)) == 42  # in-flight counted by default
    assert await value_of(stub, so(queue_id, includeInFlight="false")) == 32

    entries = [oci.queue.models.DeleteMessagesDetailsEntry(receipt=m.receipt) for m in received.messages]
    await asyncio.to_thread(
        sdk["data"].delete_messages, queue_id, oci.queue.models.DeleteMessagesDetails(entries=entries)
    )
    await asyncio.sleep(0.02)
    assert await value_of(stub, so(queue_id)) == 32
    assert (await stub.IsActive(so(queue_id, activationBacklog="32"))).result is False
    # the messages endpoint was looked up once, then cached
    assert emulator.counters.get("GetQueue") >= 1
    lookups = emulator.counters.get("GetQueue")
    await value_of(stub, so(queue_id, name="another"))
    assert emulator.counters.get("GetQueue") == lookups


async def test_messages_endpoint_metadata_skips_the_lookup(
    emulator: Emulator, sdk: dict[str, Any], start_scaler: Any, channel_for: Any
) -> None:
    queue_id = emulator.create_queue("direct")
    await asyncio.to_thread(put, sdk, queue_id, 5)
    app = await start_scaler(queue_source=None, stream_source=None, oci=oci_settings(sdk, emulator))
    stub = stub_for(channel_for(app))
    emulator.counters.reset()
    assert await value_of(stub, so(queue_id, messagesEndpoint=emulator.url + "/")) == 5
    assert emulator.counters.get("GetQueue") == 0
    assert emulator.counters.get("GetStats") == 1


async def test_unknown_queue_and_bad_signature_are_unavailable(
    emulator: Emulator, sdk: dict[str, Any], start_scaler: Any, channel_for: Any, tmp_path: Path
) -> None:
    queue_id = emulator.create_queue("signed")
    app = await start_scaler(queue_source=None, stream_source=None, oci=oci_settings(sdk, emulator, max_attempts=1))
    stub = stub_for(channel_for(app))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.IsActive(so("ocid1.queue.oc1.iad.doesnotexist"))
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "404" in (info.value.details() or "")

    # Same identity, different private key: the emulator must refuse the signature.
    other = Emulator(host="127.0.0.1", port=0)
    forged = other.write_config(tmp_path / "forged" / "config")
    text = forged.read_text()
    genuine = oci.config.from_file(str(sdk["config_path"]))
    for field in ("user", "tenancy", "fingerprint"):
        text = text.replace(other.oci_config[field], genuine[field])
    forged.write_text(text)
    impostor = await start_scaler(
        queue_source=None, stream_source=None, oci=oci_settings(sdk, emulator, config_file=forged, max_attempts=1)
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub_for(channel_for(impostor)).IsActive(so(queue_id, messagesEndpoint=emulator.url))
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "401" in (info.value.details() or "")


@pytest.mark.parametrize("status", [500, 429])
async def test_faults_serve_last_good_then_unavailable_never_zero(
    emulator: Emulator, sdk: dict[str, Any], start_scaler: Any, channel_for: Any, status: int
) -> None:
    queue_id = emulator.create_queue(f"faulty-{status}")
    await asyncio.to_thread(put, sdk, queue_id, 17)
    staleness = 1.5
    app = await start_scaler(
        queue_source=None,
        stream_source=None,
        oci=oci_settings(sdk, emulator, max_attempts=2),
        cache_ttl_seconds=0.1,
        max_staleness_seconds=staleness,
        throttle_backoff_seconds=0.1,  # a 429 backs the queue off: scaled down with the TTL, as the other timings
        throttle_backoff_max_seconds=0.2,
    )
    stub = stub_for(channel_for(app))
    assert await value_of(stub, so(queue_id)) == 17
    last_good_at = time.monotonic()
    emulator.faults.inject(status, operations=frozenset({"GetStats"}))
    answers: list[tuple[float, str]] = []
    deadline = last_good_at + staleness + 1.5
    while time.monotonic() < deadline:  # bounded: ~3 s of polling every 50 ms
        started = time.monotonic()
        try:
            value = await value_of(stub, so(queue_id))
            answers.append((started - last_good_at, f"value {value:g}"))
        except grpc.aio.AioRpcError as exc:
            answers.append(
                (started - last_good_at, "unavailable" if exc.code() == grpc.StatusCode.UNAVAILABLE else str(exc))
            )
        assert time.monotonic() - started < 1.1  # no RPC held past its deadline
        await asyncio.sleep(0.05)
    assert {text for _, text in answers} == {"value 17", "unavailable"}  # never 0, never anything else
    assert all(age >= staleness - 0.2 for age, text in answers if text == "unavailable")
    assert all(age <= staleness + 0.3 for age, text in answers if text == "value 17")
    assert emulator.counters.get("GetStats") > 2  # the scaler kept trying, within its TTL

    emulator.faults.clear()
    recovered = None
    for _ in range(30):  # bounded: the per-client circuit breaker re-probes after its 1 s recovery timeout
        await asyncio.sleep(0.1)
        try:
            recovered = await value_of(stub, so(queue_id))
            break
        except grpc.aio.AioRpcError:
            continue
    assert recovered == 17


async def test_fifty_scaled_objects_cost_one_get_stats_per_ttl(
    emulator: Emulator, sdk: dict[str, Any], start_scaler: Any, channel_for: Any
) -> None:
    queue_id = emulator.create_queue("shared")
    await asyncio.to_thread(put, sdk, queue_id, 64)
    ttl = 0.5
    app = await start_scaler(
        queue_source=None, stream_source=None, oci=oci_settings(sdk, emulator), cache_ttl_seconds=ttl
    )
    stub = stub_for(channel_for(app))
    refs = [so(queue_id, name=f"so-{i}", targetBacklogPerReplica=str(1 + i % 7)) for i in range(50)]
    emulator.counters.reset()
    started = time.monotonic()
    rounds = 0
    while time.monotonic() - started < 2.0:  # bounded: 2 s of KEDA-style polls from 50 ScaledObjects
        values = await asyncio.gather(*(value_of(stub, r) for r in refs), *(stub.IsActive(r) for r in refs))
        assert all(v == 64 for v in values[:50])
        rounds += 1
    elapsed = time.monotonic() - started
    reads = emulator.counters.get("GetStats")
    assert rounds >= 4
    assert 1 <= reads <= int(elapsed / ttl) + 1, f"{reads} GetStats in {elapsed:.2f}s for {rounds * 150} RPCs"


async def test_dead_letters_are_reported_but_never_counted(
    emulator: Emulator, sdk: dict[str, Any], start_scaler: Any, channel_for: Any
) -> None:
    queue_id = emulator.create_queue("with-dlq", dead_letter_queue_delivery_count=1)
    await asyncio.to_thread(put, sdk, queue_id, 5)
    app = await start_scaler(
        queue_source=None, stream_source=None, oci=oci_settings(sdk, emulator), cache_ttl_seconds=0.01
    )
    stub = stub_for(channel_for(app))
    got = await asyncio.to_thread(
        lambda: sdk["data"].get_messages(queue_id, limit=2, visibility_in_seconds=1, timeout_in_seconds=0).data
    )
    assert len(got.messages) == 2
    await asyncio.sleep(1.3)  # the visibility timeout lapses on their last allowed delivery: dead-lettered
    assert await value_of(stub, so(queue_id, name="dlq")) == 3
    dlq = app.telemetry.registry.get_sample_value(
        "burst_scaler_dlq_messages",
        {
            "namespace": "team",
            "scaledobject": "dlq",
            "metric": _spec_name(await stub.GetMetricSpec(so(queue_id, name="dlq"))),
        },
    )
    assert dlq == 2


def _spec_name(response: pb.GetMetricSpecResponse) -> str:
    return str(response.metricSpecs[0].metricName)


async def test_slow_upstream_answers_within_the_deadline_from_the_last_good_value(
    emulator: Emulator, sdk: dict[str, Any], start_scaler: Any, channel_for: Any
) -> None:
    queue_id = emulator.create_queue("slow")
    await asyncio.to_thread(put, sdk, queue_id, 11)
    app = await start_scaler(
        queue_source=None, stream_source=None, oci=oci_settings(sdk, emulator), cache_ttl_seconds=0.1
    )
    stub = stub_for(channel_for(app))
    assert await value_of(stub, so(queue_id)) == 11
    emulator.faults.inject(latency_seconds=2.0, operations=frozenset({"GetStats"}), count=3)
    await asyncio.sleep(0.15)
    started = time.monotonic()
    assert await value_of(stub, so(queue_id)) == 11
    assert (await stub.IsActive(so(queue_id))).result is True
    assert time.monotonic() - started < 1.5  # default 1 s RPC deadline, not the 2 s upstream latency
