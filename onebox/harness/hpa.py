"""The Horizontal Pod Autoscaler's arithmetic and both of its normalisation paths, as pure functions of a clock.

The local harness must turn the scaler's metric into replicas exactly as a real cluster would, or the end-to-end
test proves nothing. Sources (kubernetes/kubernetes pkg/controller/podautoscaler):

* replica_calculator.go ``GetExternalPerPodMetricReplicas`` (AverageValue): ``usage = Σ values``; if
  ``1 − scaleDown tolerance ≤ usage / (target × statusReplicas) ≤ 1 + scaleUp tolerance`` (``Tolerances.isWithin``,
  Kubernetes ≥ 1.33) keep the current count, else ``ceil(usage / target)``. Each direction's tolerance is
  ``behavior.scaleUp/scaleDown.tolerance`` where set (feature HPAConfigurableTolerance), else the controller's
  ``--horizontal-pod-autoscaler-tolerance`` (0.1).
* ``GetExternalMetricReplicas`` (Value): ``ratio = Σ values / target``; outside tolerance,
  ``ceil(ratio × readyPods)``.
* horizontal.go picks one of two paths by ``spec.behavior``. KEDA copies
  ``advanced.horizontalPodAutoscalerConfig.behavior`` into its HPA and leaves it nil otherwise
  (keda controllers/keda/hpa.go), so a ScaledObject without that block runs the legacy path:

  - ``normalizeDesiredReplicas`` (no behavior): ``stabilizeRecommendation`` takes the maximum recommendation of
    the last ``--horizontal-pod-autoscaler-downscale-stabilization`` (default 300 s), then
    ``convertDesiredReplicasWithRules`` caps a scale-up at ``calculateScaleUpLimit`` = max(2 × current, 4) per
    sync. Scale-down has no rate limit; no scale events are kept (``storeScaleEvent`` returns early).
  - ``normalizeDesiredReplicasWithBehaviors``: ``stabilizeRecommendationWithBehaviors`` (up: the minimum of the
    up-window, down: the maximum of the down-window, chosen by the direction of the new recommendation), then
    ``convertDesiredReplicasWithBehaviorRate``; defaults scale up by max(100 %, 4 pods) per 15 s and down by
    100 % per 15 s. The rate baseline of both directions is ``current − added + deleted`` within the policy
    period (``calculateScaleUpLimitWithScalingRules``, ``calculateScaleDownLimitWithBehaviors``); a Percent
    scale-down proposal is truncated to an integer.
* Quantities are milli-values (``MilliValue()``), so values and targets are compared at 0.001 resolution.
* The controller keeps recommendations and scale events per HPA key, so every HPA (each member of a spill-over
  pair) has its own rate budget; here each loop owns one ``HpaState``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

DEFAULT_TOLERANCE = 0.1
DEFAULT_SYNC_PERIOD_SECONDS = 15.0
DEFAULT_POLICY_PERIOD_SECONDS = 15.0
DEFAULT_DOWNSCALE_STABILIZATION_SECONDS = 300.0
"""kube-controller-manager ``--horizontal-pod-autoscaler-downscale-stabilization``."""


def _milli(value: float) -> int:
    return round(value * 1000)


def average_value_replicas(
    usage: float,
    target: float,
    current: int,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    scale_up_tolerance: float | None = None,
    scale_down_tolerance: float | None = None,
) -> int:
    """AverageValue external metric: replicas for a summed metric ``usage`` against a per-pod ``target``.

    ``tolerance`` is the controller's; a direction's own tolerance (from ``behavior``) replaces it when given.
    """
    usage_m, target_m = _milli(usage), max(1, _milli(target))
    if current > 0:
        ratio = usage_m / (target_m * current)
        up = tolerance if scale_up_tolerance is None else scale_up_tolerance
        down = tolerance if scale_down_tolerance is None else scale_down_tolerance
        if (1.0 - down) <= ratio <= (1.0 + up):
            return current
    return math.ceil(usage_m / target_m)


def value_replicas(
    value: float, target: float, ready: int, current: int, *, tolerance: float = DEFAULT_TOLERANCE
) -> int:
    """Value external metric: ``ceil(value / target × readyPods)`` outside the tolerance band."""
    ratio = _milli(value) / max(1, _milli(target))
    if abs(ratio - 1.0) <= tolerance:
        return current
    return math.ceil(ratio * ready)


@dataclass(frozen=True)
class ScalingPolicy:
    """One HPA behavior policy: ``kind`` is "Pods" or "Percent", applied per ``period_seconds``."""

    kind: str
    value: int
    period_seconds: float


@dataclass(frozen=True)
class Behavior:
    """``spec.behavior`` with the Kubernetes defaults (pkg/apis/autoscaling/v2 defaults)."""

    scale_up_stabilization_seconds: float = 0.0
    scale_up_policies: tuple[ScalingPolicy, ...] = (
        ScalingPolicy("Percent", 100, DEFAULT_POLICY_PERIOD_SECONDS),
        ScalingPolicy("Pods", 4, DEFAULT_POLICY_PERIOD_SECONDS),
    )
    scale_up_select: str = "Max"
    scale_down_stabilization_seconds: float = DEFAULT_DOWNSCALE_STABILIZATION_SECONDS
    scale_down_policies: tuple[ScalingPolicy, ...] = (ScalingPolicy("Percent", 100, DEFAULT_POLICY_PERIOD_SECONDS),)
    scale_down_select: str = "Max"
    scale_up_tolerance: float | None = None
    """``scaleUp.tolerance``; None: the controller's tolerance."""
    scale_down_tolerance: float | None = None
    """``scaleDown.tolerance``; None: the controller's tolerance."""

    @classmethod
    def defaults(cls, *, policy_period: float, scale_down_stabilization: float) -> Behavior:
        """The default policies with their period set to ``policy_period`` (a compressed clock shortens it too)."""
        return cls(
            scale_up_policies=(ScalingPolicy("Percent", 100, policy_period), ScalingPolicy("Pods", 4, policy_period)),
            scale_down_stabilization_seconds=scale_down_stabilization,
            scale_down_policies=(ScalingPolicy("Percent", 100, policy_period),),
        )


@dataclass
class HpaState:
    """What the controller remembers for one HPA between syncs: recommendations and scale events."""

    recommendations: deque[tuple[float, int]] = field(default_factory=deque)
    up_events: deque[tuple[float, int]] = field(default_factory=deque)
    """(time, replicas added) of past scale-ups, for rate policies."""
    down_events: deque[tuple[float, int]] = field(default_factory=deque)
    """(time, replicas removed) of past scale-downs."""


def _forget_before(events: deque[tuple[float, int]], cutoff: float) -> None:
    while events and events[0][0] < cutoff:
        events.popleft()


def _stabilize_legacy(state: HpaState, now: float, desired: int, window: float) -> int:
    """horizontal.go stabilizeRecommendation: the highest recommendation of the downscale window, this one included."""
    _forget_before(state.recommendations, now - window)
    state.recommendations.append((now, desired))
    return max(r for _, r in state.recommendations)


def _stabilize(state: HpaState, now: float, desired: int, current: int, behavior: Behavior) -> int:
    """horizontal.go stabilizeRecommendationWithBehaviors: the direction of ``desired`` picks the window and extreme.

    Scaling down keeps the highest recommendation of the down-window, which can exceed ``current`` (a rate-limited
    ramp keeps climbing after the load has eased); scaling up keeps the lowest of the up-window.
    """
    if desired >= current:
        window, pick = behavior.scale_up_stabilization_seconds, min
    else:
        window, pick = behavior.scale_down_stabilization_seconds, max
    recommendation = desired
    for at, past in state.recommendations:
        if at > now - window:
            recommendation = pick(recommendation, past)
    longest = max(behavior.scale_up_stabilization_seconds, behavior.scale_down_stabilization_seconds)
    _forget_before(state.recommendations, now - longest)
    state.recommendations.append((now, desired))
    return recommendation


def _changed(events: deque[tuple[float, int]], now: float, period: float) -> int:
    return sum(change for at, change in events if at > now - period)


def _period_start(state: HpaState, now: float, current: int, period: float) -> int:
    """The replica count at the start of the policy period: recent additions taken off, recent removals added back."""
    return current - _changed(state.up_events, now, period) + _changed(state.down_events, now, period)


def _rate_limit(state: HpaState, now: float, desired: int, current: int, behavior: Behavior) -> int:
    """horizontal.go convertDesiredReplicasWithBehaviorRate (min/max replicas are applied by the caller)."""
    if desired > current:
        proposals = []
        for policy in behavior.scale_up_policies:
            start = _period_start(state, now, current, policy.period_seconds)
            if policy.kind == "Pods":
                proposals.append(start + policy.value)
            else:
                proposals.append(math.ceil(start * (1 + policy.value / 100)))
        if not proposals:
            return desired
        limit = max(proposals) if behavior.scale_up_select == "Max" else min(proposals)
        return min(desired, max(limit, current))
    if desired < current:
        proposals = []
        for policy in behavior.scale_down_policies:
            start = _period_start(state, now, current, policy.period_seconds)
            if policy.kind == "Pods":
                proposals.append(start - policy.value)
            else:
                proposals.append(int(start * (1 - policy.value / 100)))
        if not proposals:
            return desired
        limit = min(proposals) if behavior.scale_down_select == "Max" else max(proposals)
        return max(desired, min(limit, current))
    return desired


def _record(state: HpaState, now: float, current: int, final: int, behavior: Behavior) -> None:
    """horizontal.go storeScaleEvent, keeping the events of the longest policy period of each direction."""
    if final > current:
        longest = max((p.period_seconds for p in behavior.scale_up_policies), default=0.0)
        _forget_before(state.up_events, now - longest)
        state.up_events.append((now, final - current))
    elif final < current:
        longest = max((p.period_seconds for p in behavior.scale_down_policies), default=0.0)
        _forget_before(state.down_events, now - longest)
        state.down_events.append((now, current - final))


def legacy_scale_up_limit(current: int) -> int:
    """horizontal.go calculateScaleUpLimit: at most double, and at least 4, per sync without ``behavior``."""
    return max(2 * current, 4)


def hpa_step(
    state: HpaState,
    *,
    now: float,
    current: int,
    usage: float,
    target: float,
    min_replicas: int,
    max_replicas: int,
    behavior: Behavior | None,
    downscale_stabilization: float = DEFAULT_DOWNSCALE_STABILIZATION_SECONDS,
    tolerance: float = DEFAULT_TOLERANCE,
) -> int:
    """One HPA sync for an AverageValue external metric: the replica count the controller sets.

    ``behavior`` None is an HPA without ``spec.behavior`` (the legacy path); ``downscale_stabilization`` is the
    controller's flag that path uses for its window.
    """
    raw = average_value_replicas(
        usage,
        target,
        current,
        tolerance=tolerance,
        scale_up_tolerance=behavior.scale_up_tolerance if behavior is not None else None,
        scale_down_tolerance=behavior.scale_down_tolerance if behavior is not None else None,
    )
    if behavior is None:
        stabilized = _stabilize_legacy(state, now, raw, downscale_stabilization)
        ceiling = min(max_replicas, legacy_scale_up_limit(current))
        return max(min_replicas, min(ceiling, stabilized))
    stabilized = _stabilize(state, now, raw, current, behavior)
    limited = _rate_limit(state, now, stabilized, current, behavior)
    final = max(min_replicas, min(max_replicas, limited))
    _record(state, now, current, final, behavior)
    return final
