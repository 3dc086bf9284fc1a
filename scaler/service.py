"""The ``externalscaler.ExternalScaler`` servicer: KEDA's RPCs, and only the RPCs.

State is keyed by the request (namespace, name, metadata), never by connection: KEDA multiplexes every
ScaledObject over one HTTP/2 connection and round-robins across scaler replicas. The work behind an answer is
done by collaborators passed in by keyword: ``Resolver`` (request → parsed trigger, cached), ``Evaluator``
(trigger + reading → decision) and ``Bookkeeping`` (metric series, de-duplicated warnings). This class maps
their outcomes to one gRPC status each (bad metadata → INVALID_ARGUMENT, no fresh value → UNAVAILABLE, a bug →
INTERNAL), so the server never crashes on a request and never answers a failure with a zero.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from scaler._proto import externalscaler_pb2 as pb
from scaler.errors import MetadataError, UnavailableError
from scaler.evaluation import Evaluator, wait_budget
from scaler.metadata import SourceRef, reads_of
from scaler.policy import Decision, int_value, target
from scaler.refresh import CLOSED, RefreshCache, Snapshot
from scaler.resolution import Resolved, Resolver
from scaler.series import Bookkeeping
from scaler.telemetry import Telemetry
from scaler.values import Reading

log = logging.getLogger(__name__)


class _Refused(Exception):
    """Internal: carry a status out of the handler body so abort() runs outside the except block."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


async def _answer(
    method: str,
    context: grpc.aio.ServicerContext[Any, Any],
    body: Awaitable[Any],
    *,
    book: Bookkeeping,
    clock: Callable[[], float],
) -> Any:
    """Run one unary handler body: count and time it, and turn a refusal or a bug into exactly one status."""
    started = clock()
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
    counter, histogram = book.rpc(method, code)
    counter.inc()
    histogram.observe(clock() - started)
    if code is not grpc.StatusCode.OK:
        await context.abort(code, details)
    return result


class ExternalScalerService:
    """KEDA's five RPCs. Registered with ``add_ExternalScalerServicer_to_server`` (duck-typed)."""

    def __init__(
        self,
        *,
        cache: RefreshCache[SourceRef, Reading],
        telemetry: Telemetry,
        resolver: Resolver,
        evaluator: Evaluator,
        book: Bookkeeping,
        rpc_deadline_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        asked: Callable[[str, str], None] = lambda namespace, name: None,
    ) -> None:
        """``asked(namespace, name)`` is told of every request and push evaluation (scaler.forgetting)."""
        self._asked = asked
        self._cache = cache
        self._telemetry = telemetry
        self._resolver = resolver
        self._evaluator = evaluator
        self._book = book
        self._rpc_deadline = rpc_deadline_seconds
        self._clock = clock
        self._shutting_down = False

    async def end_streams(self) -> None:
        """Make open StreamIsActive calls return OK (KEDA resets its reconnect backoff only on a clean EOF)."""
        self._shutting_down = True
        await self._cache.close_watches()

    def _resolve(self, ref: pb.ScaledObjectRef) -> Resolved:
        self._asked(ref.namespace, ref.name)
        resolved = self._resolver.resolve(ref)
        if isinstance(resolved, MetadataError):
            self._telemetry.metadata_errors_total.inc()
            raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, str(resolved))
        return resolved

    async def _decide(self, resolved: Resolved, context: grpc.aio.ServicerContext[Any, Any]) -> Decision:
        try:
            return await self._evaluator.decide(resolved, wait_budget(context.time_remaining(), self._rpc_deadline))
        except UnavailableError as exc:
            raise _Refused(grpc.StatusCode.UNAVAILABLE, f"{resolved.metric_name}: {exc}") from exc

    # --- bookkeeping around every unary call -----------------------------------------------------------------

    async def IsActive(
        self, request: pb.ScaledObjectRef, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.IsActiveResponse:
        async def body() -> pb.IsActiveResponse:
            decision = await self._decide(self._resolve(request), context)
            return pb.IsActiveResponse(result=decision.active)

        result: pb.IsActiveResponse = await _answer("IsActive", context, body(), book=self._book, clock=self._clock)
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

        result: pb.GetMetricSpecResponse = await _answer(
            "GetMetricSpec", context, body(), book=self._book, clock=self._clock
        )
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
            decision = await self._decide(resolved, context)
            value = pb.MetricValue(
                metricName=resolved.metric_name,
                metricValue=int_value(decision.metric_value),
                metricValueFloat=decision.metric_value,
            )
            return pb.GetMetricsResponse(metricValues=[value])

        result: pb.GetMetricsResponse = await _answer("GetMetrics", context, body(), book=self._book, clock=self._clock)
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
            async with self._cache.watch(reads_of(resolved.config.ref)[0]) as subscription:
                self._telemetry.watched_sources.set(self._cache.watched)
                was_active = False
                while True:
                    outcome = await subscription.next()
                    if outcome is CLOSED:
                        break
                    self._asked(resolved.namespace, resolved.name)  # an open stream is a standing question
                    if not isinstance(outcome, Snapshot):
                        continue  # upstream down: keep the last state, never report a transition on no data
                    try:
                        active = (await self._evaluator.pushed(resolved, outcome, self._rpc_deadline)).active
                    except UnavailableError:
                        continue  # a queue set with a queue that has no value: no transition on no data

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
