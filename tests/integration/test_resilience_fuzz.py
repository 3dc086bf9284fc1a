"""Malformed trigger metadata, fuzzed with hypothesis through the real gRPC path.

The scaler runs on its own event loop in a background thread (a real grpc.aio server on 127.0.0.1:0) and a plain
blocking stub calls it, so hypothesis drives examples synchronously. Every RPC — GetMetricSpec, GetMetrics,
IsActive and StreamIsActive — must answer OK or INVALID_ARGUMENT (a stream may also run into our own short
deadline), OK answers must have KEDA's shapes, the server must still answer a valid request afterwards, and no
task may be left behind on its loop.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaler._proto import externalscaler_pb2 as pb
from scaler._proto import externalscaler_pb2_grpc
from scaler.app import ScalerApp
from scaler.metadata import SPECS
from scaler.settings import KubeMode, KubeSettings, Settings
from tests.support.fakes import FakeQueueSource

T = TypeVar("T")
PATH_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
QUEUE = "ocid1.queue.oc1.iad.amaaaaaafuzzqueue"
STREAM = "ocid1.stream.oc1.iad.amaaaaaafuzzstream"

KEYS = [s.param.key for s in SPECS] + [f"{s.param.key}FromEnv" for s in SPECS[:6]]
KEYS += ["scalerAddress", "enableTLS", "unsafeSsl", "caCert", "Source", "queueID", ""]
TRICKY = [
    *("", " ", "oci-queue", "oci-streaming", "oci-queue ", QUEUE, STREAM, "ocid1.queue", "ocid1.queue.oc1..x/../y"),
    *("0", "-0", "-1", "1", "0.0001", "1e-9", "1e309", "-1e309", "nan", "NaN", "inf", "-inf", "1_000", "0x10"),
    *("99999999999999999999999", "2147483648", " 10 ", "1,5", "true", "false", "TRUE", "yes", "1.5", "10"),
    *("managed", "virtual", "spot", "drain", "backlog", "earliest", "latest", "0,2,4-7", "7-3", "a-b", ",,", "-"),
    *("0-99999999", "\x00", "\u202e", "💥", "%2F", "/", "..", "a" * 300),
]
BASES = [
    {},
    {"source": "oci-queue", "queueId": QUEUE},
    {"source": "oci-streaming", "streamId": STREAM, "groupName": "g"},
]

metadata_strategy = st.builds(
    lambda base, extra: {**base, **extra},
    st.sampled_from(BASES),
    st.dictionaries(
        st.one_of(st.sampled_from(KEYS), st.text(max_size=12)),
        st.one_of(st.sampled_from(TRICKY), st.text(max_size=40)),
        max_size=8,
    ),
)


class ScalerThread:
    """A ScalerApp on its own loop in a daemon thread; ``call`` runs a coroutine there and waits for it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="scaler-loop", daemon=True)
        self._thread.start()
        self.app = self.call(self._start(), timeout=30)

    async def _start(self) -> ScalerApp:
        settings = Settings(
            address="127.0.0.1:0",
            metrics_address=None,
            grace_seconds=1.0,
            kube=KubeSettings(mode=KubeMode.OFF),
        )
        source = FakeQueueSource(visible=7)
        app = ScalerApp(settings=settings, queue_source=source, stream_source=source)
        await app.start()
        return app

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def task_count(self) -> int:
        async def count() -> int:
            return len(asyncio.all_tasks()) - 1  # not this one

        return self.call(count())

    def close(self) -> None:
        self.call(self.app.stop(), timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@pytest.fixture
def scaler() -> Iterator[ScalerThread]:
    server = ScalerThread()
    try:
        yield server
    finally:
        server.close()


def code_of(call: Any) -> tuple[Any, grpc.StatusCode]:
    try:
        return call(), grpc.StatusCode.OK
    except grpc.RpcError as exc:
        return None, exc.code()


def check_valid_request_answers(stub: Any) -> None:
    ref = pb.ScaledObjectRef(name="sane", namespace="ns", scalerMetadata={"source": "oci-queue", "queueId": QUEUE})
    spec = stub.GetMetricSpec(ref, timeout=5)
    value = stub.GetMetrics(
        pb.GetMetricsRequest(scaledObjectRef=ref, metricName=spec.metricSpecs[0].metricName), timeout=5
    )
    assert value.metricValues[0].metricValueFloat == 7.0
    assert stub.IsActive(ref, timeout=5).result is True


def test_fuzzed_metadata_is_ok_or_invalid_argument_and_leaks_nothing(scaler: ScalerThread) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{scaler.app.port}") as channel:
        stub = externalscaler_pb2_grpc.ExternalScalerStub(channel)  # type: ignore[no-untyped-call]
        check_valid_request_answers(stub)
        tasks_before = scaler.task_count()
        seen: set[grpc.StatusCode] = set()

        @settings(
            max_examples=60,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )
        @given(
            metadata=metadata_strategy,
            name=st.text(max_size=30),
            namespace=st.text(max_size=30),
            metric=st.one_of(st.none(), st.text(max_size=20)),
        )
        def examine(metadata: dict[str, str], name: str, namespace: str, metric: str | None) -> None:
            ref = pb.ScaledObjectRef(name=name, namespace=namespace, scalerMetadata=metadata)
            spec, code = code_of(lambda: stub.GetMetricSpec(ref, timeout=5))
            seen.add(code)
            assert code in {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT}, (code, metadata)
            if spec is not None:
                (one,) = spec.metricSpecs
                assert PATH_SAFE.fullmatch(one.metricName), one.metricName
                assert one.targetSizeFloat > 0, one
                assert one.targetSize >= 1, one
            asked = spec.metricSpecs[0].metricName if spec is not None and metric is None else (metric or "")
            request = pb.GetMetricsRequest(scaledObjectRef=ref, metricName=asked)
            values, code = code_of(lambda: stub.GetMetrics(request, timeout=5))
            assert code in {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT}, (code, metadata)
            if values is not None:
                (value,) = values.metricValues
                assert value.metricValueFloat >= 0, value
                assert value.metricValue == round(value.metricValueFloat), value
            _, code = code_of(lambda: stub.IsActive(ref, timeout=5))
            assert code in {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT}, (code, metadata)
            # A valid ref gets `true` at once (backlog 7) and then nothing: our own deadline ends the stream.
            _, code = code_of(lambda: list(stub.StreamIsActive(ref, timeout=0.15)))
            assert code in {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.DEADLINE_EXCEEDED}, (code, metadata)

        examine()
        assert seen == {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT}  # both paths were exercised
        check_valid_request_answers(stub)
        deadline = time.monotonic() + 3.0
        while scaler.task_count() > tasks_before and time.monotonic() < deadline:  # cancelled streams unwind
            time.sleep(0.05)
        assert scaler.task_count() <= tasks_before
