"""The ``externalscaler.ExternalScaler`` servicer: KEDA's RPCs answered from the refresh cache.

State is keyed by the request (namespace, name, metadata), never by connection: KEDA multiplexes every
ScaledObject over one HTTP/2 connection and round-robins across scaler replicas. Every handler maps the scaler's
error types to one gRPC status (bad metadata → INVALID_ARGUMENT, no fresh value → UNAVAILABLE, a bug → INTERNAL)
so the server never crashes on a request and never answers a failure with a zero.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Final

import grpc

from scaler._proto import externalscaler_pb2 as pb
from scaler.errors import MetadataError, UnavailableError
from scaler.metadata import ParsedMetadata, SourceRef, TriggerConfig, parse_metadata
from scaler.naming import metric_name
from scaler.policy import Decision, backlog_of, decide, int_value, replica_cap, target
from scaler.refresh import CLOSED, RefreshCache, Snapshot
from scaler.sources.base import QueueBacklog, Reading
from scaler.telemetry import Telemetry

log = logging.getLogger(__name__)

_PARSE_CACHE_SIZE: Final = 4096
_DEADLINE_MARGIN_SECONDS: Final = 0.05


@dataclass(frozen=True)
class Resolved:
    """A request resolved to its ScaledObject identity, parsed trigger and metric name."""

    namespace: str
    name: str
    config: TriggerConfig
    metric_name: str


class _Refused(Exception):
    """Internal: carry a status out of the handler body so abort() runs outside the except block."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


class ExternalScalerService:
    """KEDA's five RPCs. Registered with ``add_ExternalScalerServicer_to_server`` (duck-typed)."""

    def __init__(
        self,
        *,
        cache: RefreshCache[SourceRef, Reading],
        telemetry: Telemetry,
        rpc_deadline_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cache = cache
        self._telemetry = telemetry
        self._rpc_deadline = rpc_deadline_seconds
        self._clock = clock
        self._parsed: OrderedDict[tuple[tuple[str, str], ...], ParsedMetadata | MetadataError] = OrderedDict()
        self._warned: OrderedDict[tuple[str, str, tuple[str, ...]], None] = OrderedDict()
        self._shutting_down = False

    async def end_streams(self) -> None:
        """Make open StreamIsActive calls return OK (KEDA resets its reconnect backoff only on a clean EOF)."""
        self._shutting_down = True
        await self._cache.close_watches()

    # --- request resolution -------------------------------------------------------------------------------

    def _resolve(self, ref: pb.ScaledObjectRef) -> Resolved:
        metadata = dict(ref.scalerMetadata)
        key = tuple(sorted(metadata.items()))
        cached = self._parsed.get(key)
        if cached is None:
            try:
                cached = parse_metadata(metadata)
            except MetadataError as exc:
                cached = exc
            self._parsed[key] = cached
            if len(self._parsed) > _PARSE_CACHE_SIZE:
                self._parsed.popitem(last=False)
        else:
            self._parsed.move_to_end(key)
        if isinstance(cached, MetadataError):
            self._telemetry.metadata_errors_total.inc()
            raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, str(cached))
        if cached.unknown_keys:
            self._warn_unknown(ref.namespace, ref.name, cached.unknown_keys)
        config = cached.config
        return Resolved(ref.namespace, ref.name, config, metric_name(config.ref))

    def _warn_unknown(self, namespace: str, name: str, keys: tuple[str, ...]) -> None:
        marker = (namespace, name, keys)
        if marker in self._warned:
            return
        self._warned[marker] = None
        if len(self._warned) > _PARSE_CACHE_SIZE:
            self._warned.popitem(last=False)
        log.warning(
            "ScaledObject %s/%s: ignoring unknown trigger metadata keys %s; they have no effect (typo?)",
            namespace,
            name,
            ", ".join(keys),
        )

    def _timeout(self, context: grpc.aio.ServicerContext[Any, Any]) -> float:
        remaining = context.time_remaining()
        if remaining is None:
            return self._rpc_deadline
        return max(0.0, min(self._rpc_deadline, remaining - _DEADLINE_MARGIN_SECONDS))

    async def _decide(self, resolved: Resolved, max_wait: float) -> Decision:
        try:
            snapshot: Snapshot[Reading] = await self._cache.get(resolved.config.ref, max_wait=max_wait)
        except UnavailableError as exc:
            raise _Refused(grpc.StatusCode.UNAVAILABLE, f"{resolved.metric_name}: {exc}") from exc
        return self._record(resolved, snapshot)

    def _record(self, resolved: Resolved, snapshot: Snapshot[Reading]) -> Decision:
        config = resolved.config
        reading = snapshot.value
        backlog = backlog_of(reading, config)
        decision = decide(float(backlog), config, cap=replica_cap(reading, config))
        labels = (resolved.namespace, resolved.name, resolved.metric_name)
        self._telemetry.backlog.labels(*labels).set(backlog)
        self._telemetry.desired_replicas.labels(*labels).set(decision.desired_replicas)
        self._telemetry.value_age.labels(*labels).set(max(0.0, self._clock() - snapshot.observed_at))
        if isinstance(reading, QueueBacklog):
            self._telemetry.dlq.labels(*labels).set(reading.dlq_visible + reading.dlq_in_flight)
        else:
            for partition in reading.partitions:
                self._telemetry.partition_lag.labels(*labels, partition.partition).set(partition.lag)
        return decision

    # --- bookkeeping around every unary call -----------------------------------------------------------------

    async def _unary(self, method: str, context: grpc.aio.ServicerContext[Any, Any], body: Any) -> Any:
        started = self._clock()
        code = grpc.StatusCode.OK
        details = ""
        result: Any = None
        try:
            result = await body
        except _Refused as refused:
            code, details = refused.code, refused.details
        except Exception:
            log.exception("%s failed unexpectedly", method)
            code, details = grpc.StatusCode.INTERNAL, f"internal error in {method}; see scaler logs"
        self._telemetry.rpc_total.labels(method, code.name).inc()
        self._telemetry.rpc_seconds.labels(method).observe(self._clock() - started)
        if code is not grpc.StatusCode.OK:
            await context.abort(code, details)
        return result

    # --- RPCs -------------------------------------------------------------------------------------------------

    async def IsActive(
        self, request: pb.ScaledObjectRef, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.IsActiveResponse:
        async def body() -> pb.IsActiveResponse:
            decision = await self._decide(self._resolve(request), self._timeout(context))
            return pb.IsActiveResponse(result=decision.active)

        result: pb.IsActiveResponse = await self._unary("IsActive", context, body())
        return result

    async def GetMetricSpec(
        self, request: pb.ScaledObjectRef, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetMetricSpecResponse:
        async def body() -> pb.GetMetricSpecResponse:
            resolved = self._resolve(request)
            size = target(resolved.config)
            spec = pb.MetricSpec(
                metricName=resolved.metric_name, targetSize=size.size_int, targetSizeFloat=size.size_float
            )
            return pb.GetMetricSpecResponse(metricSpecs=[spec])

        result: pb.GetMetricSpecResponse = await self._unary("GetMetricSpec", context, body())
        return result

    async def GetMetrics(
        self, request: pb.GetMetricsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetMetricsResponse:
        async def body() -> pb.GetMetricsResponse:
            resolved = self._resolve(request.scaledObjectRef)
            asked = request.metricName
            if asked and asked.lower() != resolved.metric_name.lower():
                raise _Refused(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"metric {asked!r} is not served for this trigger; GetMetricSpec names {resolved.metric_name!r}",
                )
            decision = await self._decide(resolved, self._timeout(context))
            value = pb.MetricValue(
                metricName=resolved.metric_name,
                metricValue=int_value(decision.metric_value),
                metricValueFloat=decision.metric_value,
            )
            return pb.GetMetricsResponse(metricValues=[value])

        result: pb.GetMetricsResponse = await self._unary("GetMetrics", context, body())
        return result

    async def StreamIsActive(
        self, request: pb.ScaledObjectRef, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[pb.IsActiveResponse]:
        """Push ``true`` once per inactive→active transition; a failed refresh changes nothing.

        The stream starts from "inactive", so a source already active when the stream opens sends one ``true``:
        after a reconnect KEDA learns the current state at once instead of at its next poll. Repeated ``true``
        would keep pushing KEDA's lastActiveTime forward and delay scale-to-zero, so none is sent while active.
        ``false`` is never sent (KEDA ≥2.18 ignores it; older versions deactivated on it, bypassing cooldown).
        """
        try:
            resolved = self._resolve(request)
        except _Refused as refused:
            self._telemetry.rpc_total.labels("StreamIsActive", refused.code.name).inc()
            await context.abort(refused.code, refused.details)
            return
        if self._shutting_down:
            return
        self._telemetry.streams.inc()
        self._telemetry.watched_sources.set(self._cache.watched)
        try:
            async with self._cache.watch(resolved.config.ref) as subscription:
                self._telemetry.watched_sources.set(self._cache.watched)
                was_active = False
                while True:
                    outcome = await subscription.next()
                    if outcome is CLOSED:
                        break
                    if not isinstance(outcome, Snapshot):
                        continue  # upstream down: keep the last state, never report a transition on no data
                    active = self._record(resolved, outcome).active
                    if active and not was_active:
                        self._telemetry.pushes_total.inc()
                        yield pb.IsActiveResponse(result=True)
                    was_active = active
        finally:
            self._telemetry.streams.dec()
            self._telemetry.watched_sources.set(self._cache.watched)
            self._telemetry.rpc_total.labels("StreamIsActive", "OK").inc()

    async def StreamMetricSpec(
        self, request: pb.ScaledObjectRef, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[pb.GetMetricSpecResponse]:
        """Optional in KEDA's protocol: targets are fixed by metadata, so there is nothing to stream."""
        self._telemetry.rpc_total.labels("StreamMetricSpec", "UNIMPLEMENTED").inc()
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "StreamMetricSpec is not implemented; use GetMetricSpec")
        yield pb.GetMetricSpecResponse()  # pragma: no cover - abort raises; this makes the method a generator
