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
from dataclasses import dataclass, replace
from typing import Any, Final

import grpc

from scaler._proto import externalscaler_pb2 as pb
from scaler.cluster import ClusterView
from scaler.errors import MetadataError, UnavailableError
from scaler.kube import Workload
from scaler.metadata import ParsedMetadata, SourceRef, TriggerConfig, parse_metadata
from scaler.naming import metric_name
from scaler.placement import Severity, lint_workload
from scaler.policy import (
    Decision,
    Observation,
    Sample,
    backlog_of,
    decide,
    int_value,
    replica_cap,
    resize,
    target,
    uses_history,
)
from scaler.refresh import CLOSED, RefreshCache, Snapshot
from scaler.routing import MANAGED, VIRTUAL, Split, split
from scaler.sources.base import QueueBacklog, Reading
from scaler.telemetry import Telemetry

log = logging.getLogger(__name__)

_PARSE_CACHE_SIZE: Final = 16_384
"""Entries per bounded cache (parsed refs, warnings, splits). Keyed per ScaledObject trigger, so it must exceed the
triggers one scaler serves: KEDA polls round-robin, and a strict LRU smaller than the fleet would never hit."""
_DEADLINE_MARGIN_SECONDS: Final = 0.05


@dataclass(frozen=True)
class Resolved:
    """A request resolved to its ScaledObject identity, parsed trigger and metric name."""

    namespace: str
    name: str
    config: TriggerConfig
    metric_name: str


@dataclass(frozen=True)
class _Series:
    """One trigger's labelled gauges, looked up once: prometheus_client's ``labels()`` costs more than the answer."""

    backlog: Any
    desired_replicas: Any
    value_age: Any
    dlq: Any | None
    """Queue triggers only: a Streaming trigger has no dead-letter queue, and an exported 0 would be invented."""


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
        cluster: ClusterView | None = None,
        rpc_deadline_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cache = cache
        self._cluster = cluster
        self._last_split: OrderedDict[tuple[str, str], Split] = OrderedDict()
        self._warned_placement: OrderedDict[tuple[str, str, tuple[str, ...]], None] = OrderedDict()
        self._telemetry = telemetry
        self._rpc_deadline = rpc_deadline_seconds
        self._clock = clock
        self._resolved: OrderedDict[bytes, Resolved | MetadataError] = OrderedDict()
        self._series: dict[tuple[str, str, str], _Series] = {}
        self._rpc_series: dict[tuple[str, grpc.StatusCode], tuple[Any, Any]] = {}
        self._warned: OrderedDict[tuple[str, str, tuple[str, ...]], None] = OrderedDict()
        self._shutting_down = False

    async def end_streams(self) -> None:
        """Make open StreamIsActive calls return OK (KEDA resets its reconnect backoff only on a clean EOF)."""
        self._shutting_down = True
        await self._cache.close_watches()

    # --- request resolution -------------------------------------------------------------------------------

    def _resolve(self, ref: pb.ScaledObjectRef) -> Resolved:
        # KEDA repeats the same few thousand refs for ever: key the parsed result on the ref's canonical bytes
        # (map keys sorted), which is cheaper than building a sorted key and keeps name and namespace with it.
        key = ref.SerializeToString(deterministic=True)
        cached = self._resolved.get(key)
        if cached is None:
            cached = self._parse(ref)
            self._resolved[key] = cached
            if len(self._resolved) > _PARSE_CACHE_SIZE:
                self._resolved.popitem(last=False)
        else:
            self._resolved.move_to_end(key)
        if isinstance(cached, MetadataError):
            self._telemetry.metadata_errors_total.inc()
            raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, str(cached))
        return cached

    def _parse(self, ref: pb.ScaledObjectRef) -> Resolved | MetadataError:
        try:
            parsed: ParsedMetadata = parse_metadata(dict(ref.scalerMetadata))
        except MetadataError as exc:
            return exc
        if parsed.unknown_keys:
            self._warn_unknown(ref.namespace, ref.name, parsed.unknown_keys)
        config = parsed.config
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
        started = self._clock()
        try:
            snapshot: Snapshot[Reading] = await self._cache.get(resolved.config.ref, max_wait=max_wait)
        except UnavailableError as exc:
            raise _Refused(grpc.StatusCode.UNAVAILABLE, f"{resolved.metric_name}: {exc}") from exc
        remaining = max(0.0, max_wait - (self._clock() - started))
        return await self._record(resolved, snapshot, remaining)

    async def _record(self, resolved: Resolved, snapshot: Snapshot[Reading], max_wait: float) -> Decision:
        """Turn a reading into this trigger's decision: policy, caps, and its share of a spill-over group."""
        config = resolved.config
        reading = snapshot.value
        backlog = backlog_of(reading, config)
        history: tuple[Sample, ...] = ()
        if uses_history(config):
            history = tuple(Sample(s.observed_at, backlog_of(s.value, config)) for s in self._cache.history(config.ref))
        ready: int | None = None
        if self._cluster is not None and (config.policy == "drain" or config.tier is not None):
            workload = await self._cluster.target(resolved.namespace, resolved.name, max_wait=max_wait)
            if workload is not None:
                ready = workload.ready_replicas
                if config.tier is not None:
                    self._check_placement(resolved, workload)
        observation = Observation(backlog=float(backlog), history=history, ready_replicas=ready)
        if config.group is not None and config.tier is not None:
            decision = await self._group_decision(resolved, reading, observation, max_wait)
        else:
            decision = decide(observation, config, cap=replica_cap(reading, config))
        labels = (resolved.namespace, resolved.name, resolved.metric_name)
        series = self._series_for(labels, queue=isinstance(reading, QueueBacklog))
        series.backlog.set(backlog)
        series.desired_replicas.set(decision.desired_replicas)
        series.value_age.set(max(0.0, self._clock() - snapshot.observed_at))
        if isinstance(reading, QueueBacklog):
            if series.dlq is not None:
                series.dlq.set(reading.dlq_visible + reading.dlq_in_flight)
        else:
            for partition in reading.partitions:
                self._telemetry.partition_lag.labels(*labels, partition.partition).set(partition.lag)
        return decision

    def _series_for(self, labels: tuple[str, str, str], *, queue: bool) -> _Series:
        """Created on a trigger's first value, never before: an exported 0 backlog would be a false zero."""
        series = self._series.get(labels)
        if series is None:
            t = self._telemetry
            series = self._series[labels] = _Series(
                backlog=t.backlog.labels(*labels),
                desired_replicas=t.desired_replicas.labels(*labels),
                value_age=t.value_age.labels(*labels),
                dlq=t.dlq.labels(*labels) if queue else None,
            )
        return series

    async def _group_decision(
        self, resolved: Resolved, reading: Reading, observation: Observation, max_wait: float
    ) -> Decision:
        """A spill-over member's share of the group's total need D (see scaler.routing)."""
        config = resolved.config
        uncapped = replace(config, max_replicas=None)
        total = decide(observation, uncapped, cap=replica_cap(reading, uncapped))
        managed_ready: int | None = None
        managed_cap = config.max_replicas if config.tier == MANAGED else config.managed_max_replicas
        if config.tier == VIRTUAL and self._cluster is not None and config.group is not None:
            peer = await self._cluster.managed_peer(resolved.namespace, config.group, max_wait=max_wait)
            if peer is not None:
                managed_cap = peer.max_replicas if peer.max_replicas is not None else managed_cap
                managed_ready = peer.workload.ready_replicas if peer.workload is not None else None
        shares = split(
            total.desired_replicas,
            managed_cap=managed_cap,
            virtual_cap=config.max_replicas if config.tier == VIRTUAL else None,
            managed_ready=managed_ready,
        )
        mine = shares.managed if config.tier == MANAGED else shares.virtual
        self._report_split(resolved, shares, mine)
        return resize(total, mine, config, active_when_positive=config.tier == VIRTUAL)

    def _report_split(self, resolved: Resolved, shares: Split, mine: int) -> None:
        config = resolved.config
        group = config.group or ""
        self._telemetry.group_replicas.labels(resolved.namespace, group, config.tier or "").set(mine)
        marker = (resolved.namespace, resolved.name)
        if self._last_split.get(marker) != shares:
            self._last_split[marker] = shares
            if len(self._last_split) > _PARSE_CACHE_SIZE:
                self._last_split.popitem(last=False)
            log.info(
                "group %s/%s: need %d → managed %d, virtual %d (managed ready: %s); %s tier gets %d",
                resolved.namespace,
                group,
                shares.total,
                shares.managed,
                shares.virtual,
                "unknown, pure overflow" if shares.managed_ready is None else shares.managed_ready,
                config.tier,
                mine,
            )

    def _check_placement(self, resolved: Resolved, workload: Workload) -> None:
        """Run the placement lint on the target we scale; one warning per distinct set of findings."""
        tier = resolved.config.tier or ""
        findings = [
            f
            for f in lint_workload(workload.manifest, tier=tier, scaled_object=resolved.name)
            if f.severity == Severity.ERROR
        ]
        self._telemetry.placement_violations.labels(resolved.namespace, resolved.name).set(len(findings))
        marker = (resolved.namespace, resolved.name, tuple(f.rule for f in findings))
        if findings and marker not in self._warned_placement:
            self._warned_placement[marker] = None
            if len(self._warned_placement) > _PARSE_CACHE_SIZE:
                self._warned_placement.popitem(last=False)
            log.warning(
                "ScaledObject %s/%s (tier %s) scales %s %s, which breaks placement rules: %s. "
                "Its pods may stay Pending or land on the wrong nodes; run `burst-scaler check` for fixes.",
                resolved.namespace,
                resolved.name,
                tier,
                workload.kind,
                workload.name,
                "; ".join(f"{f.rule}: {f.message}" for f in findings),
            )

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
        counter, histogram = self._rpc_series_for(method, code)
        counter.inc()
        histogram.observe(self._clock() - started)
        if code is not grpc.StatusCode.OK:
            await context.abort(code, details)
        return result

    def _rpc_series_for(self, method: str, code: grpc.StatusCode) -> tuple[Any, Any]:
        series = self._rpc_series.get((method, code))
        if series is None:
            t = self._telemetry
            series = self._rpc_series[(method, code)] = (
                t.rpc_total.labels(method, code.name),
                t.rpc_seconds.labels(method),
            )
        return series

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
                    active = (await self._record(resolved, outcome, self._rpc_deadline)).active
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
