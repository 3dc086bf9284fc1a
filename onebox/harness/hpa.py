"""The Horizontal Pod Autoscaler's arithmetic and default behaviour, as pure functions with an injected clock.

The local harness must turn the scaler's metric into replicas exactly as a real cluster would, or the end-to-end
test proves nothing. Sources (kubernetes/kubernetes pkg/controller/podautoscaler):

* replica_calculator.go ``GetExternalPerPodMetricReplicas`` (AverageValue): ``usage = Σ values``; if
  ``|usage / (target × currentReplicas) − 1| ≤ tolerance`` keep the current count, else ``ceil(usage / target)``.
* ``GetExternalMetricReplicas`` (Value): ``ratio = Σ values / target``; outside tolerance,
  ``ceil(ratio × readyPods)``.
* horizontal.go ``normalizeDesiredReplicasWithBehaviors``: scale-down stabilization takes the *maximum*
  recommendation within the window (default 300 s, ``--horizontal-pod-autoscaler-downscale-stabilization``);
  scale-up stabilization (default 0) the minimum; then rate policies: scale up by max(100 %, 4 pods) per 15 s
  (``selectPolicy: Max``), scale down by 100 % per 15 s; then min/max replicas.
* Quantities are milli-values (``MilliValue()``), so values and targets are compared at 0.001 resolution.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

DEFAULT_TOLERANCE = 0.1
DEFAULT_SYNC_PERIOD_SECONDS = 15.0


def _milli(value: float) -> int:
    return round(value * 1000)


def average_value_replicas(usage: float, target: float, current: int, *, tolerance: float = DEFAULT_TOLERANCE) -> int:
    """AverageValue external metric: replicas for a summed metric ``usage`` against a per-pod ``target``."""
    usage_m, target_m = _milli(usage), max(1, _milli(target))
    if current > 0:
        ratio = usage_m / (target_m * current)
        if abs(ratio - 1.0) <= tolerance:
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
    """``spec.behavior`` with the Kubernetes defaults."""

    scale_up_stabilization_seconds: float = 0.0
    scale_up_policies: tuple[ScalingPolicy, ...] = (ScalingPolicy("Percent", 100, 15), ScalingPolicy("Pods", 4, 15))
    scale_up_select: str = "Max"
    scale_down_stabilization_seconds: float = 300.0
    scale_down_policies: tuple[ScalingPolicy, ...] = (ScalingPolicy("Percent", 100, 15),)
    scale_down_select: str = "Max"


@dataclass
class HpaState:
    """What the controller remembers between syncs: recommendations and scale events, for windows and rates."""

    recommendations: deque[tuple[float, int]] = field(default_factory=deque)
    scale_events: deque[tuple[float, int]] = field(default_factory=deque)
    """(time, replica change) of past scalings, for rate policies."""


def _stabilize(state: HpaState, now: float, desired: int, current: int, behavior: Behavior) -> int:
    """horizontal.go stabilizeRecommendationWithBehaviors: clamp the current count between the window extremes."""
    state.recommendations.append((now, desired))
    window = max(behavior.scale_up_stabilization_seconds, behavior.scale_down_stabilization_seconds)
    while state.recommendations and now - state.recommendations[0][0] > window:
        state.recommendations.popleft()
    up = min(r for t, r in state.recommendations if now - t <= behavior.scale_up_stabilization_seconds)
    down = max(r for t, r in state.recommendations if now - t <= behavior.scale_down_stabilization_seconds)
    recommendation = current
    if recommendation < up:
        recommendation = up
    if recommendation > down:
        recommendation = down
    return recommendation


def _rate_limit(state: HpaState, now: float, desired: int, current: int, behavior: Behavior) -> int:
    def changed_within(period: float, sign: int) -> int:
        return sum(delta for t, delta in state.scale_events if now - t <= period and delta * sign > 0)

    if desired > current:
        limits = []
        for policy in behavior.scale_up_policies:
            base = current - changed_within(policy.period_seconds, +1)
            if policy.kind == "Pods":
                limits.append(base + policy.value)
            else:
                limits.append(math.ceil(base * (1 + policy.value / 100)))
        if not limits:
            return desired
        limit = max(limits) if behavior.scale_up_select == "Max" else min(limits)
        return min(desired, max(limit, current))
    if desired < current:
        limits = []
        for policy in behavior.scale_down_policies:
            base = current - changed_within(policy.period_seconds, -1)  # removals are negative deltas
            if policy.kind == "Pods":
                limits.append(base - policy.value)
            else:
                limits.append(math.ceil(base * (1 - policy.value / 100)))
        if not limits:
            return desired
        limit = min(limits) if behavior.scale_down_select == "Max" else max(limits)
        return max(desired, min(limit, current))
    return desired


def hpa_step(
    state: HpaState,
    *,
    now: float,
    current: int,
    usage: float,
    target: float,
    min_replicas: int,
    max_replicas: int,
    behavior: Behavior,
    tolerance: float = DEFAULT_TOLERANCE,
) -> int:
    """One HPA sync for an AverageValue external metric: the replica count the controller sets."""
    raw = average_value_replicas(usage, target, current, tolerance=tolerance)
    stabilized = _stabilize(state, now, raw, current, behavior)
    limited = _rate_limit(state, now, stabilized, current, behavior)
    final = max(min_replicas, min(max_replicas, limited))
    if final != current:
        state.scale_events.append((now, final - current))
        horizon = max([p.period_seconds for p in behavior.scale_up_policies + behavior.scale_down_policies] or [0])
        while state.scale_events and now - state.scale_events[0][0] > horizon:
            state.scale_events.popleft()
    return final
