"""The scaler as KEDA's scalers cache calls it, and fallback as KEDA applies it.

Sources (kedacore/keda @ v2.20.2):

* pkg/scaling/cache/scalers_cache.go ``GetMetricSpecForScalingForScaler``: the external scaler turns a failed
  GetMetricSpec into an empty list; KEDA then rebuilds the scaler and asks once more, and a second empty answer is
  the error "got empty metric spec". ``GetMetricsAndActivityForScaler``: a failed GetMetrics/IsActive pair
  (pkg/scalers/external_scaler.go ``GetMetricsAndActivity``) is retried once on a rebuilt scaler. The gRPC
  connection comes from a process-wide pool, so a rebuild reuses the same channel.
* pkg/fallback/fallback.go ``GetMetricsWithFallback``: only a failed metrics read reaches fallback; a GetMetricSpec
  failure returns before it (KEDA issue 8056), so a scaler that is down altogether never gets fallback. Failures
  are counted per metric in the ScaledObject status, shared by the polling loop and the HPA path, reset by a
  success; above ``failureThreshold`` the metric becomes ``fallback.replicas × target`` (AverageValue) and the
  read counts as a success.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import grpc

from onebox.harness.scaledobject import ScaledObjectSpec
from scaler._proto import externalscaler_pb2 as pb
from scaler._proto import externalscaler_pb2_grpc


@dataclass(frozen=True)
class Reading:
    """One metric read: the value KEDA hands on, whether the trigger is active, and whether fallback made it up."""

    value: float
    active: bool
    fallback: bool = False


class ScalerCalls:
    """GetMetricSpec, then GetMetrics + IsActive, with KEDA's single retry and fallback health."""

    def __init__(
        self,
        *,
        channel: grpc.aio.Channel,
        spec: ScaledObjectSpec,
        rpc_timeout: float,
        on_rebuild: Callable[[], None],
    ) -> None:
        self._stub = externalscaler_pb2_grpc.ExternalScalerStub(channel)  # type: ignore[no-untyped-call]
        self._spec = spec
        self._rpc_timeout = rpc_timeout
        self._on_rebuild = on_rebuild
        self.failures = 0
        """Consecutive failed metric reads (the ScaledObject's ``status.health`` count)."""
        self.target_size: float | None = None

    @property
    def stub(self) -> externalscaler_pb2_grpc.ExternalScalerStub:
        return self._stub

    async def metric_spec(self) -> pb.MetricSpec:
        """The trigger's one metric spec; raises AioRpcError when the retry on a rebuilt scaler fails too."""
        ref = self._spec.ref()
        try:
            response = await self._stub.GetMetricSpec(ref, timeout=self._rpc_timeout)
        except grpc.aio.AioRpcError:
            self._on_rebuild()
            response = await self._stub.GetMetricSpec(ref, timeout=self._rpc_timeout)
        spec: pb.MetricSpec = response.metricSpecs[0]
        self.target_size = spec.targetSizeFloat if spec.targetSizeFloat > 0 else float(spec.targetSize)
        return spec

    async def _metrics_and_activity(self, metric_name: str) -> tuple[float, bool]:
        ref = self._spec.ref()
        request = pb.GetMetricsRequest(scaledObjectRef=ref, metricName=metric_name)
        value = (await self._stub.GetMetrics(request, timeout=self._rpc_timeout)).metricValues[0]
        # external_scaler.go: the float replaces the int only when > 0
        metric = value.metricValueFloat if value.metricValueFloat > 0 else float(value.metricValue)
        active = (await self._stub.IsActive(ref, timeout=self._rpc_timeout)).result
        return metric, active

    async def read(self, metric_name: str) -> Reading:
        """GetMetricsAndActivityForScaler, then GetMetricsWithFallback; raises AioRpcError when KEDA reports one."""
        try:
            try:
                metric, active = await self._metrics_and_activity(metric_name)
            except grpc.aio.AioRpcError:
                self._on_rebuild()
                metric, active = await self._metrics_and_activity(metric_name)
        except grpc.aio.AioRpcError:
            fallback = self._spec.fallback
            if fallback is None:
                raise
            self.failures += 1
            if self.failures <= fallback.failure_threshold or self.target_size is None:
                raise
            return Reading(value=self.target_size * fallback.replicas, active=True, fallback=True)
        self.failures = 0
        return Reading(value=metric, active=active)
