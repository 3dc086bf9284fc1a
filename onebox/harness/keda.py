"""A KEDA + HPA control loop that calls the scaler over real gRPC exactly as KEDA does.

This is what stands in for the keda-operator and the HPA controller on one machine. Every rule mirrors a piece of
upstream code (kedacore/keda @ v2.20, kubernetes/kubernetes podautoscaler), cited where it is implemented:

* polling: every ``pollingInterval`` GetMetricSpec, then GetMetrics + IsActive (pkg/scaling/scale_handler.go
  ``getScalerState``; external_scaler.go ``GetMetricsAndActivity``);
* executor: active with 0 replicas → scale to ``max(minReplicaCount, 1)``; inactive for ``cooldownPeriod`` since
  the last active time → ``idleReplicaCount`` or ``minReplicaCount`` (pkg/scaling/executor/scale_scaledobjects.go);
* HPA: between 1 and N, every sync period, AverageValue arithmetic with tolerance, stabilization and rate policies
  (onebox.harness.hpa); KEDA's HPA has ``minReplicas = max(minReplicaCount, 1)``;
* external-push: one StreamIsActive stream; ``true`` → immediate scale from zero / lastActiveTime refresh,
  ``false`` ignored (≥2.18); reconnect backoff 2 s doubling to 60 s, reset only by a clean EOF
  (external_scaler.go ``runStreamIsActive``);
* fallback: failures counted per metric; above ``failureThreshold`` the HPA sees ``target × fallback.replicas``
  (AverageValue) and an erroring, inactive object is not scaled to zero (pkg/fallback/fallback.go).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import grpc

from onebox.harness.hpa import DEFAULT_SYNC_PERIOD_SECONDS, Behavior, HpaState, hpa_step
from scaler._proto import externalscaler_pb2 as pb
from scaler._proto import externalscaler_pb2_grpc

log = logging.getLogger(__name__)


class ScaleTarget(Protocol):
    """The scale subresource of a workload in the cluster model."""

    @property
    def replicas(self) -> int: ...

    def scale(self, replicas: int) -> None: ...


@dataclass(frozen=True)
class Fallback:
    failure_threshold: int
    replicas: int


@dataclass(frozen=True)
class ScaledObjectSpec:
    """The fields of a ScaledObject the loop honours, with KEDA's defaults unless a harness run shortens them."""

    name: str
    namespace: str
    metadata: dict[str, str]
    push: bool = True
    """Trigger type ``external-push`` (StreamIsActive) rather than ``external``."""
    polling_interval: float = 30.0
    cooldown_period: float = 300.0
    min_replicas: int = 0
    max_replicas: int = 100
    idle_replicas: int | None = None
    fallback: Fallback | None = None
    behavior: Behavior = field(default_factory=Behavior)
    hpa_sync_period: float = DEFAULT_SYNC_PERIOD_SECONDS

    def ref(self) -> pb.ScaledObjectRef:
        return pb.ScaledObjectRef(name=self.name, namespace=self.namespace, scalerMetadata=self.metadata)


@dataclass
class LoopStats:
    """What the loop saw; the harness reports and asserts on it."""

    polls: int = 0
    errors: int = 0
    pushes: int = 0
    fallback_active: bool = False
    last_value: float | None = None
    last_active: bool = False
    last_active_at: float | None = None
    """When (loop clock) the scaler last said active, by IsActive or a push: KEDA's cooldown counts from here."""
    scale_events: list[tuple[float, int, str]] = field(default_factory=list)
    """(time, replicas, reason)."""
    surprises: list[str] = field(default_factory=list)
    """Exceptions other than an RPC error that a polling, HPA or push step raised (KEDA's loops log and go on)."""


class KedaLoop:
    """Drives one ScaledObject's target from the scaler's answers."""

    def __init__(
        self,
        *,
        channel: grpc.aio.Channel,
        spec: ScaledObjectSpec,
        target: ScaleTarget,
        clock: Callable[[], float] = time.monotonic,
        rpc_timeout: float = 3.0,
    ) -> None:
        self._stub = externalscaler_pb2_grpc.ExternalScalerStub(channel)  # type: ignore[no-untyped-call]
        self._spec = spec
        self._target = target
        self._clock = clock
        self._rpc_timeout = rpc_timeout
        self._hpa = HpaState()
        self._failures = 0
        self._last_active_time: float | None = None
        self._target_size: float | None = None
        self.stats = LoopStats()

    # --- the scaler, as KEDA calls it ----------------------------------------------------------------------

    async def _poll_scaler(self) -> tuple[float, bool]:
        """GetMetricSpec, GetMetrics, IsActive: the order of KEDA's polling and HPA paths."""
        ref = self._spec.ref()
        spec = (await self._stub.GetMetricSpec(ref, timeout=self._rpc_timeout)).metricSpecs[0]
        self._target_size = spec.targetSizeFloat if spec.targetSizeFloat > 0 else float(spec.targetSize)
        request = pb.GetMetricsRequest(scaledObjectRef=ref, metricName=spec.metricName)
        value = (await self._stub.GetMetrics(request, timeout=self._rpc_timeout)).metricValues[0]
        # external_scaler.go: the float replaces the int only when > 0
        metric = value.metricValueFloat if value.metricValueFloat > 0 else float(value.metricValue)
        active = (await self._stub.IsActive(ref, timeout=self._rpc_timeout)).result
        return metric, active

    def _scale(self, replicas: int, reason: str) -> None:
        if replicas != self._target.replicas:
            self._target.scale(replicas)
            self.stats.scale_events.append((self._clock(), replicas, reason))
            log.info("%s: scale to %d (%s)", self._spec.name, replicas, reason)

    # --- executor (0 <-> 1) and HPA (1 <-> N) ------------------------------------------------------------

    def _activate(self, reason: str) -> None:
        self._last_active_time = self.stats.last_active_at = self._clock()
        if self._target.replicas == 0:
            self._scale(max(self._spec.min_replicas, 1), reason)

    async def poll_once(self) -> None:
        """One KEDA polling cycle (scale_handler.go checkScalers → executor RequestScale)."""
        self.stats.polls += 1
        try:
            metric, active = await self._poll_scaler()
        except grpc.aio.AioRpcError as exc:
            self._failures += 1
            self.stats.errors += 1
            self.stats.fallback_active = self._fallback_active()
            log.info("%s: scaler error %s (%d consecutive)", self._spec.name, exc.code().name, self._failures)
            # scale_scaledobjects.go: an erroring, inactive object with fallback.replicas != 0 is not scaled to 0
            if self._spec.fallback is None or self._spec.fallback.replicas == 0:
                self._maybe_deactivate()
            return
        self._failures = 0
        self.stats.fallback_active = False
        self.stats.last_value, self.stats.last_active = metric, active
        if active:
            self._activate("activated by IsActive")
        else:
            self._maybe_deactivate()

    def _maybe_deactivate(self) -> None:
        if self._target.replicas == 0:
            return
        floor = self._spec.idle_replicas if self._spec.idle_replicas is not None else self._spec.min_replicas
        since = self._last_active_time
        if since is None or self._clock() - since >= self._spec.cooldown_period:
            self._scale(floor, "cooldown elapsed, inactive")

    def _fallback_active(self) -> bool:
        fallback = self._spec.fallback
        return fallback is not None and self._failures > fallback.failure_threshold

    async def hpa_once(self) -> None:
        """One HPA sync (only while KEDA keeps the target above zero; the HPA minimum is max(min, 1))."""
        current = self._target.replicas
        if current == 0:
            return
        try:
            usage, _active = await self._poll_scaler()
        except grpc.aio.AioRpcError:
            self._failures += 1
            self.stats.errors += 1
            if not self._fallback_active() or self._target_size is None or self._spec.fallback is None:
                return  # FailedGetExternalMetric: the HPA keeps its current scale
            usage = self._target_size * self._spec.fallback.replicas
            self.stats.fallback_active = True
        if self._target_size is None:
            return
        if self._target.replicas != current:
            # The scale changed while the metrics were read (KEDA's executor scaled to zero, say): the HPA's update
            # carries the resourceVersion it read, so the API server rejects it as a conflict; retry next sync.
            # Without this check the HPA would undo a scale to zero whenever its sync lands on KEDA's poll.
            return
        desired = hpa_step(
            self._hpa,
            now=self._clock(),
            current=current,
            usage=usage,
            target=self._target_size,
            min_replicas=max(self._spec.min_replicas, 1),
            max_replicas=self._spec.max_replicas,
            behavior=self._spec.behavior,
        )
        self._scale(desired, f"HPA usage {usage:g} / target {self._target_size:g}")

    # --- loops -------------------------------------------------------------------------------------------

    def _survive(self, step: str, exc: BaseException) -> None:
        """Record an unexpected exception and carry on, unless it is this loop's own cancellation.

        A step that dies silently would freeze the loop's scaling (no scale to zero, ever) and hide why; KEDA's
        controllers log such errors and keep reconciling, and so does this stand-in, leaving a trace in the stats.
        """
        task = asyncio.current_task()
        if isinstance(exc, asyncio.CancelledError) and task is not None and task.cancelling():
            raise exc
        self.stats.surprises.append(f"{step}: {exc!r}")
        log.warning("%s: %s step raised %r; going on", self._spec.name, step, exc)

    async def _every(self, period: float, step: Callable[[], Any], stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await step()
            except (Exception, asyncio.CancelledError) as exc:
                self._survive(getattr(step, "__name__", "step"), exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=period)

    async def _push_stream(self, stop: asyncio.Event) -> None:
        backoff = 2.0
        while not stop.is_set():
            stream = None
            clean = False
            try:
                stream = self._stub.StreamIsActive(self._spec.ref())
                async for message in stream:
                    if message.result:  # false is ignored since KEDA 2.18
                        self.stats.pushes += 1
                        self._activate("StreamIsActive pushed true")
                clean = True
            except grpc.aio.AioRpcError as exc:
                log.info("%s: StreamIsActive ended with %s", self._spec.name, exc.code().name)
            except (Exception, asyncio.CancelledError) as exc:
                self._survive("StreamIsActive", exc)
            finally:
                if stream is not None:
                    stream.cancel()
            if clean:
                backoff = 2.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=backoff)
            if not clean:
                backoff = min(backoff * 2, 60.0)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll, sync the HPA and (for external-push) hold a StreamIsActive stream until ``stop`` is set."""
        tasks = [
            asyncio.create_task(self._every(self._spec.polling_interval, self.poll_once, stop)),
            asyncio.create_task(self._every(self._spec.hpa_sync_period, self.hpa_once, stop)),
        ]
        if self._spec.push:
            tasks.append(asyncio.create_task(self._push_stream(stop)))
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
