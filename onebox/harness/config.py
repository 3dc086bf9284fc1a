"""One harness run's knobs, and the ScaledObjects they turn into.

The ScaledObjects mirror deploy/examples/spillover, which the real-cluster lab applies: the managed member has no
``advanced.horizontalPodAutoscalerConfig`` (so its HPA runs the legacy path) and carries the fallback; the virtual
member sets the HPA's scale-down stabilization and has no fallback. Every timing is shortened for a demo that
finishes in about a minute, and ``HarnessConfig.scaled`` stretches or compresses all of them together.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from load.consume import WorkModel
from load.profiles import Profile
from onebox.harness.cluster import ClusterSpec
from onebox.harness.hpa import Behavior
from onebox.harness.karpenter import KarpenterSpec
from onebox.harness.scaledobject import Fallback, ScaledObjectSpec

NAMESPACE = "demo"
GROUP = "orders"


@dataclass(frozen=True)
class HarnessConfig:
    """One run's knobs; defaults finish in about two minutes."""

    baseline_rate: float = 2.0
    spike_rate: float = 60.0
    spike_start: float = 5.0
    spike_seconds: float = 20.0
    produce_seconds: float = 40.0
    heavy_fraction: float = 0.25
    work: WorkModel = field(default_factory=lambda: WorkModel(seconds={"heavy": 0.4, "light": 0.1}))
    target_per_replica: float = 10.0
    managed_max: int = 8
    virtual_max: int = 30
    cluster: ClusterSpec = field(
        default_factory=lambda: ClusterSpec(
            virtual_pod_start_seconds=2.0,
            managed_pod_start_seconds=1.0,
            fixed_managed_nodes=1,
            pods_per_node=4,
            karpenter=KarpenterSpec(provision_seconds=15.0, max_nodes=2, consolidate_after_seconds=10.0),
        )
    )
    polling_interval: float = 2.0
    cooldown_period: float = 15.0
    hpa_sync_period: float = 2.0
    hpa_policy_period: float = 2.0
    """The period of the HPA's default rate policies (15 s upstream), shortened like the sync period."""
    scale_down_stabilization: float = 10.0
    """The HPA's downscale stabilization window (300 s upstream): the virtual member's ``behavior`` sets it, and
    the controller's flag, which the legacy path of the managed member uses, has the same value."""
    max_seconds: float = 150.0
    """Hard bound on the run (every loop here is bounded)."""
    restart_scaler_at: float | None = None
    """Seconds into the run to stop the scaler, and restart it ``restart_gap`` later (a rolling update)."""
    restart_gap: float = 3.0
    until_nodes_gone: bool = False
    """Run on after the queue is drained and the consumers are at rest until Karpenter removed its last node, so a
    cost comparison bills every node to its termination."""
    fallback: Fallback | None = field(default_factory=lambda: Fallback(failure_threshold=1, replicas=4))
    """The managed member's fallback (the virtual member has none, as in deploy/examples)."""
    sample_interval: float = 0.5
    mode: str = "spillover"
    """``spillover``: a managed + virtual pair in one group (this product). The set-ups users run today, each plain
    KEDA-style backlog scaling (``ceil(backlog / target)`` per ScaledObject, nothing else): ``all-virtual`` and
    ``all-managed`` (one consumer capped at ``managed_max + virtual_max``), ``two-plain`` (a managed and a virtual
    ScaledObject on the same queue, each capped like our pair, no group)."""
    profile: Profile | None = None
    """The traffic; None: a spike from the ``spike_*`` fields over ``produce_seconds``."""
    managed_metadata: tuple[tuple[str, str], ...] = (("holdSeconds", "10"),)
    """Extra trigger metadata for the managed member (e.g. ``policy``, ``leadSeconds``). By default ``holdSeconds``
    shortened like every other timing here (the product's default is 180 s, for OCI nodes that take minutes)."""
    managed_min_replicas: int = 0
    """The managed member's ``minReplicaCount`` (deploy/examples/spillover has 1; the short demo lets it reach 0)."""
    hpa_legacy_stabilization: float | None = None
    """kube-controller-manager's ``--horizontal-pod-autoscaler-downscale-stabilization`` (300 s upstream), the
    window of an HPA without ``behavior``; None: the same as ``scale_down_stabilization``."""

    @classmethod
    def lab_parity(cls, **overrides: Any) -> HarnessConfig:
        """The demo's traffic and ScaledObject settings with the real-cluster lab's own timings, so the model and
        the lab (onebox.lab.story) run the same scenario: the HPA syncs and rate-limits per 15 s, the legacy path
        waits 300 s before scaling in, the managed member keeps one replica, a Karpenter node is Ready 20 s after
        launch (the lab's --node-delay) and empties after deploy/karpenter's consolidateAfter of 5 minutes, and pods
        start 2–4 s after they are bound (the lab's KWOK pod-ready stage)."""
        base = cls()
        karpenter = replace(base.cluster.karpenter, provision_seconds=20.0, consolidate_after_seconds=300.0)
        cluster = replace(
            base.cluster, virtual_pod_start_seconds=3.0, managed_pod_start_seconds=3.0, karpenter=karpenter
        )
        lab = replace(
            base,
            cluster=cluster,
            hpa_sync_period=15.0,
            hpa_policy_period=15.0,
            hpa_legacy_stabilization=300.0,
            managed_min_replicas=1,
            max_seconds=600.0,
            managed_metadata=(("holdSeconds", "20"),),  # shortened like the lab's 20 s node launch
        )
        return replace(lab, **overrides)

    def scaled(self, factor: float) -> HarnessConfig:
        """The same story on a stretched (factor > 1) or compressed clock: every duration times ``factor``."""
        c, k = self.cluster, self.cluster.karpenter
        return replace(
            self,
            spike_start=self.spike_start * factor,
            spike_seconds=self.spike_seconds * factor,
            produce_seconds=self.produce_seconds * factor,
            cluster=replace(
                c,
                virtual_pod_start_seconds=c.virtual_pod_start_seconds * factor,
                managed_pod_start_seconds=c.managed_pod_start_seconds * factor,
                karpenter=replace(
                    k,
                    provision_seconds=k.provision_seconds * factor,
                    consolidate_after_seconds=k.consolidate_after_seconds * factor,
                    batch_idle_seconds=k.batch_idle_seconds * factor,
                    batch_max_seconds=k.batch_max_seconds * factor,
                    disruption_poll_seconds=k.disruption_poll_seconds * factor,
                    validation_seconds=k.validation_seconds * factor,
                    termination_seconds=k.termination_seconds * factor,
                ),
            ),
            polling_interval=self.polling_interval * factor,
            cooldown_period=self.cooldown_period * factor,
            hpa_sync_period=self.hpa_sync_period * factor,
            hpa_policy_period=self.hpa_policy_period * factor,
            scale_down_stabilization=self.scale_down_stabilization * factor,
            max_seconds=self.max_seconds * factor,
            restart_scaler_at=None if self.restart_scaler_at is None else self.restart_scaler_at * factor,
            restart_gap=self.restart_gap * factor,
            hpa_legacy_stabilization=None
            if self.hpa_legacy_stabilization is None
            else self.hpa_legacy_stabilization * factor,
        )


MODES = ("spillover", "all-virtual", "all-managed", "two-plain")


def scaled_objects(queue_id: str, config: HarnessConfig) -> dict[str, ScaledObjectSpec]:
    """The ScaledObjects of the run, by name (each scales the Deployment of the same name).

    Every mode gives the managed consumer the legacy HPA path (no ``behavior``) and the fallback, and the virtual
    consumer ``behavior`` with the same scale-down window, as deploy/examples does: the baselines differ from ours
    only in what the scaler is asked, never in how KEDA and the HPA treat the answer.
    """
    if config.mode not in MODES:
        raise ValueError(f"unknown harness mode {config.mode!r}; expected one of {', '.join(MODES)}")
    common = {
        "source": "oci-queue",
        "queueId": queue_id,
        "targetBacklogPerReplica": f"{config.target_per_replica:g}",
    }
    keda: dict[str, Any] = {
        "namespace": NAMESPACE,
        "polling_interval": config.polling_interval,
        "cooldown_period": config.cooldown_period,
        "hpa_sync_period": config.hpa_sync_period,
    }
    legacy_window = config.scale_down_stabilization
    if config.hpa_legacy_stabilization is not None:
        legacy_window = config.hpa_legacy_stabilization

    def managed(metadata: dict[str, str], cap: int) -> ScaledObjectSpec:
        return ScaledObjectSpec(
            name="orders-managed",
            metadata={**common, "tier": "managed", "maxReplicas": str(cap), **metadata},
            max_replicas=cap,
            behavior=None,
            fallback=config.fallback,
            hpa_downscale_stabilization=legacy_window,
            min_replicas=config.managed_min_replicas,
            **keda,
        )

    def virtual(metadata: dict[str, str], cap: int) -> ScaledObjectSpec:
        return ScaledObjectSpec(
            name="orders-virtual",
            metadata={**common, "tier": "virtual", "maxReplicas": str(cap), **metadata},
            max_replicas=cap,
            behavior=Behavior.defaults(
                policy_period=config.hpa_policy_period, scale_down_stabilization=config.scale_down_stabilization
            ),
            hpa_downscale_stabilization=config.scale_down_stabilization,
            **keda,
        )

    total = config.managed_max + config.virtual_max
    if config.mode == "all-managed":
        specs = [managed({}, total)]
    elif config.mode == "all-virtual":
        specs = [virtual({}, total)]
    elif config.mode == "two-plain":
        specs = [managed({}, config.managed_max), virtual({}, config.virtual_max)]
    else:
        group = {"group": GROUP}
        specs = [
            managed({**group, **dict(config.managed_metadata)}, config.managed_max),
            virtual({**group, "managedMaxReplicas": str(config.managed_max)}, config.virtual_max),
        ]
    return {spec.name: spec for spec in specs}
