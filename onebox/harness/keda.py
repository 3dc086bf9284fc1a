"""A KEDA + HPA control loop that calls the scaler over real gRPC exactly as KEDA does.

This is what stands in for the keda-operator and the HPA controller on one machine. Every rule mirrors a piece of
upstream code (kedacore/keda @ v2.20.2, kubernetes/kubernetes pkg/controller/podautoscaler), cited where it is
implemented:

* polling: every ``pollingInterval`` GetMetricSpec, then GetMetrics + IsActive, each retried once on a rebuilt
  scaler, fallback applied to the metrics read only (onebox.harness.scaler_calls; pkg/scaling/scale_handler.go
  ``getScaledObjectState`` / ``getScalerState``); while fallback is active the trigger counts as active;
* executor: pkg/scaling/executor/scale_scaledobjects.go ``RequestScale`` (see ``KedaLoop._request_scale``): KEDA
  moves 0 ↔ 1 (or the idle count) only; between ``minReplicaCount`` and the maximum the HPA decides;
* HPA: between 1 and N, every sync period (onebox.harness.hpa); KEDA's HPA has
  ``minReplicas = max(minReplicaCount, 1)``, and a sync whose metric read fails holds the current scale;
* external-push: one StreamIsActive stream (onebox.harness.push).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import grpc

from onebox.harness.hpa import HpaState, hpa_step
from onebox.harness.push import hold_push_stream
from onebox.harness.scaledobject import LoopStats, ScaledObjectSpec, ScaleTarget
from onebox.harness.scaler_calls import Reading, ScalerCalls

log = logging.getLogger(__name__)


async def every(
    period: float, step: Callable[[], Any], stop: asyncio.Event, survive: Callable[[str, BaseException], None]
) -> None:
    """Run ``step`` every ``period`` until ``stop``; an exception is handed to ``survive`` and the loop goes on."""
    while not stop.is_set():
        try:
            await step()
        except (Exception, asyncio.CancelledError) as exc:
            survive(getattr(step, "__name__", "step"), exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=period)


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
        self._spec = spec
        self._target = target
        self._clock = clock
        self._hpa = HpaState()
        self.stats = LoopStats()
        self._calls = ScalerCalls(channel=channel, spec=spec, rpc_timeout=rpc_timeout, on_rebuild=self._rebuilt)

    def _rebuilt(self) -> None:
        self.stats.rebuilds += 1

    async def _read(self) -> Reading:
        spec = await self._calls.metric_spec()
        reading = await self._calls.read(spec.metricName)
        self.stats.fallback_active = reading.fallback
        self.stats.fallback_reads += reading.fallback
        return reading

    def _scale(self, replicas: int, reason: str) -> None:
        if replicas != self._target.replicas:
            self._target.scale(replicas)
            self.stats.scale_events.append((self._clock(), replicas, reason))
            log.info("%s: scale to %d (%s)", self._spec.name, replicas, reason)

    # --- executor (0 <-> 1) and HPA (1 <-> N) ------------------------------------------------------------

    def _request_scale(self, *, active: bool, error: bool, reason: str) -> None:
        """scale_scaledobjects.go RequestScale, the branches that apply to one external trigger."""
        spec, current, now = self._spec, self._target.replicas, self._clock()
        if active:
            if (spec.idle_replicas is not None and current < spec.min_replicas) or current == 0:
                self._scale(max(spec.min_replicas, 1), reason)  # scaleFromZeroOrIdle
                self.stats.last_active_at = now
            elif not error:
                self.stats.last_active_at = now
            return
        if error:
            # with or without fallback, an erroring inactive object keeps its replicas (Ready=False without one)
            return
        if (spec.idle_replicas is not None and current > spec.idle_replicas) or (
            current > 0 and spec.min_replicas == 0
        ):
            since = self.stats.last_active_at  # scaleToZeroOrIdle; initialCooldownPeriod defaults to 0
            if since is None or now - since > spec.cooldown_period:
                floor = spec.idle_replicas if spec.idle_replicas is not None else spec.min_replicas
                self._scale(floor, "cooldown elapsed, inactive")
        elif spec.idle_replicas is None and current < spec.min_replicas:
            self._scale(spec.min_replicas, "below minReplicaCount")

    def _pushed(self) -> None:
        self.stats.pushes += 1
        self._request_scale(active=True, error=False, reason="StreamIsActive pushed true")

    async def poll_once(self) -> None:
        """One KEDA polling cycle (scale_handler.go checkScalers → executor RequestScale)."""
        self.stats.polls += 1
        try:
            reading = await self._read()
        except grpc.aio.AioRpcError as exc:
            self.stats.errors += 1
            log.info("%s: scaler error %s", self._spec.name, exc.code().name)
            self._request_scale(active=False, error=True, reason="")
            return
        self.stats.last_value, self.stats.last_active = reading.value, reading.active
        reason = "fallback active" if reading.fallback else "activated by IsActive"
        self._request_scale(active=reading.active, error=False, reason=reason)

    async def hpa_once(self) -> None:
        """One HPA sync (only while KEDA keeps the target above zero; the HPA minimum is max(min, 1))."""
        current = self._target.replicas
        if current == 0:
            return
        try:
            reading = await self._read()
        except grpc.aio.AioRpcError:
            self.stats.errors += 1
            return  # FailedGetExternalMetric: the HPA keeps its current scale
        target = self._calls.target_size
        if target is None or self._target.replicas != current:
            # The scale changed while the metrics were read (KEDA's executor scaled to zero, say): the HPA's update
            # carries the resourceVersion it read, so the API server rejects it as a conflict; retry next sync.
            # Without this check the HPA would undo a scale to zero whenever its sync lands on KEDA's poll.
            return
        desired = hpa_step(
            self._hpa,
            now=self._clock(),
            current=current,
            usage=reading.value,
            target=target,
            min_replicas=max(self._spec.min_replicas, 1),
            max_replicas=self._spec.max_replicas,
            behavior=self._spec.behavior,
            downscale_stabilization=self._spec.hpa_downscale_stabilization,
        )
        self._scale(desired, f"HPA usage {reading.value:g} / target {target:g}")

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

    async def run(self, stop: asyncio.Event) -> None:
        """Poll, sync the HPA and (for external-push) hold a StreamIsActive stream until ``stop`` is set."""
        tasks = [
            asyncio.create_task(every(self._spec.polling_interval, self.poll_once, stop, self._survive)),
            asyncio.create_task(every(self._spec.hpa_sync_period, self.hpa_once, stop, self._survive)),
        ]
        if self._spec.push:
            stream = hold_push_stream(
                stub=self._calls.stub,
                ref=self._spec.ref(),
                on_true=self._pushed,
                on_surprise=self._survive,
                stop=stop,
                name=self._spec.name,
            )
            tasks.append(asyncio.create_task(stream))
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
