"""What a ScaledObject says and what the KEDA stand-in saw while honouring it.

The fields are the ones the loop honours, with KEDA's defaults (keda apis/keda/v1alpha1 scaledobject_types.go)
unless a harness run shortens them; ``behavior`` and the HPA periods are those of the HPA KEDA creates from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from onebox.harness.hpa import DEFAULT_DOWNSCALE_STABILIZATION_SECONDS, DEFAULT_SYNC_PERIOD_SECONDS, Behavior
from scaler._proto import externalscaler_pb2 as pb


class ScaleTarget(Protocol):
    """The scale subresource of a workload in the cluster model."""

    @property
    def replicas(self) -> int: ...

    def scale(self, replicas: int) -> None: ...


@dataclass(frozen=True)
class Fallback:
    """``spec.fallback``: after ``failure_threshold`` failed metric reads, the HPA sees ``replicas`` pods' worth."""

    failure_threshold: int
    replicas: int


@dataclass(frozen=True)
class ScaledObjectSpec:
    """The fields of a ScaledObject the loop honours."""

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
    behavior: Behavior | None = field(default_factory=Behavior)
    """``advanced.horizontalPodAutoscalerConfig.behavior``; None when the block is absent (the HPA's legacy path)."""
    hpa_sync_period: float = DEFAULT_SYNC_PERIOD_SECONDS
    hpa_downscale_stabilization: float = DEFAULT_DOWNSCALE_STABILIZATION_SECONDS
    """The controller's ``--horizontal-pod-autoscaler-downscale-stabilization``: the legacy path's window."""

    def ref(self) -> pb.ScaledObjectRef:
        return pb.ScaledObjectRef(name=self.name, namespace=self.namespace, scalerMetadata=self.metadata)


@dataclass
class LoopStats:
    """What the loop saw; the harness reports and asserts on it."""

    polls: int = 0
    errors: int = 0
    """Polling cycles and HPA syncs that ended in a scaler error (after KEDA's one retry)."""
    rebuilds: int = 0
    """Scaler rebuilds after a failed call (each followed by one retry)."""
    pushes: int = 0
    fallback_active: bool = False
    fallback_reads: int = 0
    """Metric reads that fallback made up (never while GetMetricSpec fails: KEDA issue 8056)."""
    last_value: float | None = None
    last_active: bool = False
    last_active_at: float | None = None
    """When (loop clock) KEDA last recorded the object active: its cooldown counts from here."""
    scale_events: list[tuple[float, int, str]] = field(default_factory=list)
    """(time, replicas, reason)."""
    surprises: list[str] = field(default_factory=list)
    """Exceptions other than an RPC error that a polling, HPA or push step raised (KEDA's loops log and go on)."""
