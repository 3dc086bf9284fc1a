"""The reading side of `burst-load observe`: what the cluster did during a burst, through the Kubernetes API.

The scaler decides replica counts; whether the pods then run on virtual nodes in seconds, wait as Pending for
Karpenter, or land on managed nodes is the cluster's doing, and that is what a burst test must show. This module
does the reading: the four list calls of a sample (the synchronous client, in a worker thread, with plain list
calls: no watch), the backlog column (Queue GetStats or the scaler's own GetMetrics), and the sampling loop. What
the samples mean (tiers, milestones, the report) is pure and lives in load.observe_model.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from kubernetes import client as kube_client
from kubernetes.client.exceptions import ApiException

from load.observe_model import (
    ClusterState,
    ObserveReport,
    Sample,
    cluster_state,
    milestones,
    name_of,
    sample_of,
    summarize,
)
from load.retry import describe_error

log = logging.getLogger(__name__)

KARPENTER_GROUP = "karpenter.sh"
KARPENTER_VERSION = "v1"


class BacklogReader(Protocol):
    """Where the backlog column comes from (OCI GetStats, or the scaler's GetMetrics)."""

    source: str

    async def read(self) -> float: ...


class QueueStatsBacklog:
    """Visible + in-flight messages from Queue GetStats (per channel when given)."""

    def __init__(self, *, client: Any, queue_id: str, channel: str | None, executor: concurrent.futures.Executor):
        self.source = "oci-queue GetStats"
        self._client = client
        self._queue_id = queue_id
        self._channel = channel
        self._executor = executor

    def _read(self) -> float:
        kwargs = {"channel_id": self._channel} if self._channel else {}
        stats = self._client.get_stats(self._queue_id, **kwargs).data.queue
        return float(stats.visible_messages + stats.in_flight_messages)

    async def read(self) -> float:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._read)


class ScalerBacklog:
    """The metric value the scaler reports for a ScaledObject (what KEDA sees), via GetMetricSpec + GetMetrics."""

    def __init__(self, *, channel: Any, name: str, namespace: str, metadata: Mapping[str, str]) -> None:
        from scaler._proto import externalscaler_pb2 as pb
        from scaler._proto import externalscaler_pb2_grpc

        self.source = "scaler GetMetrics"
        self._pb = pb
        self._stub = externalscaler_pb2_grpc.ExternalScalerStub(channel)  # type: ignore[no-untyped-call]
        self._ref = pb.ScaledObjectRef(name=name, namespace=namespace, scalerMetadata=dict(metadata))
        self._metric: str | None = None

    async def read(self) -> float:
        if self._metric is None:
            spec = await self._stub.GetMetricSpec(self._ref, timeout=5)
            self._metric = str(spec.metricSpecs[0].metricName)
        request = self._pb.GetMetricsRequest(scaledObjectRef=self._ref, metricName=self._metric)
        response = await self._stub.GetMetrics(request, timeout=5)
        return float(response.metricValues[0].metricValueFloat)


class ClusterReads:
    """The four list calls of one sample, as raw JSON (blocking; run in a worker thread)."""

    def __init__(self, *, api: Any, namespace: str, deployments: Sequence[str], selector: str | None) -> None:
        self._core = kube_client.CoreV1Api(api)
        self._apps = kube_client.AppsV1Api(api)
        self._custom = kube_client.CustomObjectsApi(api)
        self._namespace = namespace
        self._names = frozenset(deployments)
        self._selector = selector
        self._claims_absent = False

    @staticmethod
    def _items(response: Any) -> list[Mapping[str, Any]]:
        data = json.loads(response.data)
        return list(data.get("items") or [])

    def read(self) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]], list[Mapping[str, Any]], Any]:
        deployments = self._items(
            self._apps.list_namespaced_deployment(
                self._namespace, label_selector=self._selector, _preload_content=False
            )
        )
        if self._names:
            deployments = [d for d in deployments if name_of(d) in self._names]
        pods = self._items(self._core.list_namespaced_pod(self._namespace, _preload_content=False))
        nodes = self._items(self._core.list_node(_preload_content=False))
        return deployments, pods, nodes, self._nodeclaims()

    def _nodeclaims(self) -> list[Mapping[str, Any]] | None:
        if self._claims_absent:
            return None
        try:
            response = self._custom.list_cluster_custom_object(
                KARPENTER_GROUP, KARPENTER_VERSION, "nodeclaims", _preload_content=False
            )
        except ApiException as exc:
            if exc.status == 404:  # the CRD is not installed: no Karpenter here; stop asking
                log.info("Karpenter NodeClaims (karpenter.sh/v1) not served: node provisioning not tracked")
                self._claims_absent = True
                return None
            raise
        return self._items(response)


class ClusterObserver:
    """Samples the cluster (and the backlog) every ``interval`` seconds until ``stop`` or ``duration``."""

    def __init__(
        self,
        *,
        reads: ClusterReads,
        backlog: BacklogReader | None = None,
        interval: float = 1.0,
        duration: float | None = None,
        until_scaled_back: bool = False,
        executor: concurrent.futures.Executor | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_sample: Callable[[Sample], None] | None = None,
    ) -> None:
        self._reads = reads
        self._backlog = backlog
        self._interval = interval
        self._duration = duration
        self._until_scaled_back = until_scaled_back
        self._executor = executor
        self._clock = clock
        self._on_sample = on_sample
        self.samples: list[Sample] = []
        self.errors = 0

    async def run(self, stop: asyncio.Event) -> ObserveReport:
        own = self._executor is None
        executor = self._executor or concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="burst-observe")
        loop = asyncio.get_running_loop()
        start = self._clock()
        first: ClusterState | None = None
        try:
            while not stop.is_set():
                tick = self._clock()
                try:
                    deployments, pods, nodes, claims = await loop.run_in_executor(executor, self._reads.read)
                except Exception as exc:
                    self.errors += 1
                    log.warning("reading the cluster failed; sample skipped: %s", _kube_error(exc))
                else:
                    state = cluster_state(deployments=deployments, pods=pods, nodes=nodes, nodeclaims=claims)
                    first = first or state
                    backlog = await self._read_backlog()
                    # stamped once both reads are back: whatever a sample shows happened before its time
                    sample = sample_of(self._clock() - start, backlog, state, first)
                    self.samples.append(sample)
                    if self._on_sample is not None:
                        self._on_sample(sample)
                    if self._until_scaled_back and milestones(self.samples).scaled_back is not None:
                        break
                if self._duration is not None and self._clock() - start >= self._duration:
                    break
                await _sleep_unless(stop, tick + self._interval - self._clock())
        finally:
            if own:
                executor.shutdown(wait=False)
        return summarize(self.samples, errors=self.errors)

    async def _read_backlog(self) -> float | None:
        if self._backlog is None:
            return None
        try:
            return await self._backlog.read()
        except Exception as exc:
            self.errors += 1
            log.warning("reading the backlog from %s failed: %s", self._backlog.source, describe_error(exc))
            return None


def _kube_error(exc: BaseException) -> str:
    if isinstance(exc, ApiException):
        return f"HTTP {exc.status} {exc.reason}"
    return f"{type(exc).__name__}: {exc}"


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    if seconds <= 0:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
