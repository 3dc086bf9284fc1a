"""The side-by-side comparison: our spill-over pair against the set-ups users run today, on the same traces.

Two settings, so that no figure depends on harness knobs chosen in our favour:

* ``harsh``: a 10 s HPA scale-down window and Karpenter removing empty nodes at once, the settings under which a
  backlog-driven pair flaps most;
* ``defaults``: KEDA's and Kubernetes' defaults compressed by the same factor (0.2) as the cluster's own latencies
  (a virtual pod starts in 3 s for ~15 s on OKE, a Karpenter node is Ready in 20 s for ~100 s): the HPA's 300 s
  window and 15 s sync and rate-policy period, KEDA's 30 s polling and 300 s cooldown, and the 5 minute
  ``consolidateAfter`` of deploy/karpenter.

Both share the workload: 0.25 s of work per message (4 msg/s per replica), ``targetBacklogPerReplica: 10``, managed
cap 12 and virtual cap 40 (one-tier baselines get the sum, 52), 4 consumer pods per managed node, no managed node
before the burst (every managed node is Karpenter's, so its cost is the set-up's own). Our pair keeps its
defaults, with its one timing (``holdSeconds``, 180 s) compressed by the same factor as the cluster's.
"""

from __future__ import annotations

import enum
import math
from dataclasses import replace

from load.consume import WorkModel
from load.profiles import Profile, ReplayProfile, SineProfile, SpikeProfile, StepProfile
from onebox.harness.cluster import ClusterSpec
from onebox.harness.config import HarnessConfig
from onebox.harness.karpenter import KarpenterSpec

DEFAULTS_FACTOR = 0.2
"""How much the ``defaults`` setting compresses upstream's timings: the factor of the cluster latencies below."""


class Setting(enum.StrEnum):
    HARSH = "harsh"
    DEFAULTS = "defaults"


def traces() -> dict[str, Profile]:
    """The traces every set-up runs, msgs/s over time."""
    return {
        "spike": SpikeProfile(baseline=4.0, peak=60.0, start=10.0, length=20.0, duration=60.0),
        "plateau": StepProfile(steps=((0.0, 40.0),), duration=120.0),
        "step": StepProfile(steps=((0.0, 5.0), (15.0, 40.0), (36.0, 10.0)), duration=60.0),
        "sine": SineProfile(mean=25.0, amplitude=22.0, period=30.0, duration=60.0),
        "replay": ReplayProfile(
            points=((0.0, 3.0), (6.0, 45.0), (18.0, 8.0), (27.0, 55.0), (42.0, 4.0)),
            duration=60.0,
        ),
    }


def comparison_config(setting: Setting, *, mode: str, profile: Profile, break_even: int | None = None) -> HarnessConfig:
    """One run of the comparison: the shared workload and cluster under ``setting``, in ``mode``.

    ``break_even`` tells our managed member what its user would work out from their prices, the consumers a node
    must carry to cost less than virtual pods (``managedBreakEven``); None runs ours on the minimal metadata the
    README shows, whose default break-even is that of the default prices."""
    managed_max, virtual_max, pods_per_node = 12, 40, 4
    one_tier = mode in ("all-managed", "all-virtual")
    managed_cap = managed_max + virtual_max if one_tier else managed_max
    harsh = setting == Setting.HARSH
    f = DEFAULTS_FACTOR
    karpenter = KarpenterSpec(
        provision_seconds=20.0,
        max_nodes=math.ceil(managed_cap / pods_per_node),
        consolidate_after_seconds=0.0 if harsh else 300.0 * f,
        disruption_poll_seconds=10.0 * f,
        validation_seconds=15.0 * f,
    )
    cluster = ClusterSpec(
        virtual_pod_start_seconds=3.0,
        managed_pod_start_seconds=1.0,
        fixed_managed_nodes=0,
        pods_per_node=pods_per_node,
        karpenter=karpenter,
    )
    base = HarnessConfig(
        work=WorkModel(seconds={"heavy": 0.25, "light": 0.25}),
        target_per_replica=10.0,
        managed_max=managed_max,
        virtual_max=virtual_max,
        cluster=cluster,
        polling_interval=2.0 if harsh else 30.0 * f,
        cooldown_period=10.0 if harsh else 300.0 * f,
        hpa_sync_period=2.0 if harsh else 15.0 * f,
        hpa_policy_period=2.0 if harsh else 15.0 * f,
        scale_down_stabilization=10.0 if harsh else 300.0 * f,
        hpa_legacy_stabilization=None,
        fallback=None,
        managed_min_replicas=0,
        restart_scaler_at=None,
        until_nodes_gone=True,
        mode=mode,
        profile=profile,
        # our own timing, compressed like the cluster's: holdSeconds' default of 180 s
        managed_metadata=_ours(hold=180.0 * f, break_even=break_even) if mode == "spillover" else (),
    )
    return replace(base, max_seconds=profile.duration + 240.0)


def _ours(*, hold: float, break_even: int | None) -> tuple[tuple[str, str], ...]:
    keys = [("holdSeconds", f"{hold:g}")]
    if break_even is not None:
        keys.append(("managedBreakEven", str(break_even)))
    return tuple(keys)
