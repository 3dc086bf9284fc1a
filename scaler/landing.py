"""Landing past the HPA's tolerance band: which replica counts a metric value can still reach, and the value that
reaches the one a tier's rule picks. Pure arithmetic: no I/O, no clock.

For an AverageValue metric the HPA keeps its current count ``c`` while ``usage / (target × c)`` lies within
``[1 − scaleDown tolerance, 1 + scaleUp tolerance]`` (kubernetes pkg/controller/podautoscaler, replica_calculator.go
``Tolerances.isWithin``; before 1.33 ``|1 − ratio| ≤ tolerance``), and moves to ``ceil(usage / target)`` only
outside it. So a decided count inside the band is silently ignored (KEDA issue 7900): a virtual tier at 30 replicas
that should hand back two pods stays at 30 for as long as the load lasts. The band belongs to the HPA, but the value
is ours to choose. From 30, a value of 26.5 × target has ``ceil`` 27 and ratio 0.883, outside the band, so the HPA
goes to 27. The plain backlog 27 × target has ratio 0.9, on the band's edge, so the HPA stays at 30. A count of 28 or
29 cannot be reached from 30 at all: any value whose ``ceil`` is 28 has a ratio above 0.9. A tier's rule then says
which reachable count to steer to instead (scaler.values.Landing).

The HPA is modelled as it reads our value. KEDA 2.17–2.19 truncates value and target to milli-units and KEDA ≥ 2.20
rounds them. The ratio is compared in float64 by either form of the check. The tolerances are the controller's
approximate floats, so each is nudged by a hair both ways. A value is used only when every one of these readings
lands on the same count, so float noise on the controller's side cannot make it land elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from scaler.values import Landing

MILLI: Final = 1000
DEFAULT_TOLERANCE: Final = 0.1
"""kube-controller-manager ``--horizontal-pod-autoscaler-tolerance``: what the HPA uses where ``behavior`` sets none."""
_SLACK: Final = 1e-9
"""How far a tolerance is nudged both ways: far below any real tolerance, far above float64 rounding."""
_SCAN: Final = 6
"""Counts tried on each side of the band's edge; past the edge all but degenerate targets reach the first one."""


@dataclass(frozen=True)
class Tolerance:
    """The HPA's tolerance per direction (``behavior.scaleUp/scaleDown.tolerance``, Kubernetes ≥ 1.33)."""

    scale_up: float = DEFAULT_TOLERANCE
    scale_down: float = DEFAULT_TOLERANCE


CLUSTER_DEFAULT: Final = Tolerance()
"""What an HPA whose ``behavior`` sets no tolerance uses (or where the cluster drops the field, before 1.33)."""


@dataclass(frozen=True)
class Landed:
    """Where the HPA will go, and the value that sends it there."""

    replicas: int
    value: float


def rule_for(landing: Landing | None, *, tier_virtual: bool, grouped: bool) -> Landing:
    """The rule a trigger lands by: its own ``landing``, else by role.

    The virtual member of a spill-over group rounds down: the managed tier covers what it hands back, and the
    virtual tier is the expensive one. The managed member holds: a pod more or less is not worth a node's churn.
    A ScaledObject outside a group keeps KEDA's semantics unless it asks otherwise.
    """
    if landing is not None:
        return landing
    if not grouped:
        return Landing.OFF
    return Landing.DOWN if tier_virtual else Landing.HOLD


def _quantize(value: float, *, truncate: bool) -> int:
    """KEDA's milli-quantity of a float: ``int64(v × 1000)`` (2.17–2.19), or ``math.Round`` of it (≥ 2.20)."""
    scaled = value * MILLI
    if truncate:
        return int(scaled)
    floor = math.floor(scaled)
    return floor + 1 if scaled - floor >= 0.5 else floor  # Go's math.Round: halves away from zero


def _band_says(ratio: float, low: float, high: float) -> set[bool]:
    """Whether ``low ≤ ratio ≤ high`` holds, for every nudge of both bounds by the slack: one answer, or both."""
    inside = low + _SLACK <= ratio <= high - _SLACK
    outside = ratio < low - _SLACK or ratio > high + _SLACK
    return {True} if inside else {False} if outside else {True, False}


def hpa_readings(value: float, *, target_size: float, current: int, tolerance: Tolerance) -> set[int]:
    """Every count the HPA may compute from ``value`` at ``current`` replicas, over the readings it may make."""
    counts: set[int] = set()
    up, down = tolerance.scale_up, tolerance.scale_down
    for truncate in (False, True):
        usage = _quantize(value, truncate=truncate)
        per_pod = max(1, _quantize(target_size, truncate=truncate))
        ratio = usage / (per_pod * current)
        held = _band_says(ratio, 1.0 - down, 1.0 + up)
        if up == down:  # the check before Kubernetes 1.33: |1 − ratio| ≤ tolerance
            held |= _band_says(abs(1.0 - ratio), -1.0, up)
        if True in held:
            counts.add(current)
        if False in held:
            counts.add(math.ceil(usage / per_pod))
    return counts


def _candidates(replicas: int, *, per_pod: int, current: int, tolerance: Tolerance) -> Iterable[int]:
    """Milli-values worth trying for ``replicas``, best first: the middle of its ceil step, then the middle of
    the part of that step outside the band, then the step's end that lies farthest from the band."""
    if replicas == 0:
        yield 0
        return
    low, high = (replicas - 1) * per_pod + 1, replicas * per_pod
    yield (2 * replicas - 1) * per_pod // 2
    if replicas < current:
        edge = min(high, math.ceil((1.0 - tolerance.scale_down) * per_pod * current) - 2)
        yield from ((low + edge) // 2, low + 1, low)
    elif replicas > current:
        edge = max(low, math.floor((1.0 + tolerance.scale_up) * per_pod * current) + 2)
        yield from ((edge + high) // 2, high - 1, high)
    else:
        yield high


def value_for(replicas: int, *, target_size: float, current: int, tolerance: Tolerance) -> float | None:
    """A value that makes the HPA go from ``current`` to ``replicas`` under every reading; None if none does."""
    per_pod = max(1, round(target_size * MILLI))
    for milli in _candidates(replicas, per_pod=per_pod, current=current, tolerance=tolerance):
        if (replicas - 1) * per_pod < milli <= replicas * per_pod:
            value = milli / MILLI
            if hpa_readings(value, target_size=target_size, current=current, tolerance=tolerance) == {replicas}:
                return value
    return None


def _first(counts: Iterable[int], reaches: Callable[[int], bool]) -> int | None:
    return next((n for n in counts if reaches(n)), None)


def land(
    desired: int,
    value: float,
    *,
    current: int,
    rule: Landing,
    tolerance: Tolerance,
    target_size: float,
    cap: int | None,
) -> Landed:
    """The count ``rule`` picks among those reachable from ``current``, and the value that reaches it.

    ``value`` is what would be sent for ``desired`` without landing; it is kept when it already lands there under
    every reading. With rule ``off``, no current count (the target at zero, where KEDA scales and the HPA does
    not), or a target too small to steer, nothing changes.
    """
    unchanged = Landed(desired, value)
    if rule is Landing.OFF or current <= 0:
        return unchanged
    plain = hpa_readings(value, target_size=target_size, current=current, tolerance=tolerance)
    found: dict[int, float | None] = {}

    def reach(n: int) -> float | None:
        if n not in found:
            if plain == {n}:
                found[n] = value
            else:
                found[n] = value_for(n, target_size=target_size, current=current, tolerance=tolerance)
        return found[n]

    def reaches(n: int) -> bool:
        return reach(n) is not None

    below = _at_most(desired, current=current, tolerance=tolerance, reaches=reaches)
    if rule is Landing.DOWN:
        pick = below
    elif rule is Landing.HOLD:
        pick = desired if reaches(desired) else current
    else:
        above = _at_least(desired, current=current, tolerance=tolerance, reaches=reaches, cap=cap)
        pick = _nearest(desired, current, below, above)
    landed = reach(pick)
    return unchanged if landed is None else Landed(pick, landed)


def _at_most(desired: int, *, current: int, tolerance: Tolerance, reaches: Callable[[int], bool]) -> int:
    """The largest reachable count not above ``desired``; the current count when nothing lower is reachable.

    Below ``current``, a count n needs a value above (n − 1) × target with a ratio under 1 − tolerance, so nothing
    above (1 − tolerance) × current + 1 is tried.
    """
    if desired >= current:
        found = _first(range(desired, current, -1)[:_SCAN], reaches)
        return current if found is None else found
    start = min(desired, math.ceil((1.0 - tolerance.scale_down) * current) + 1)
    found = _first(range(start, max(-1, start - _SCAN), -1), reaches)
    return current if found is None else found


def _at_least(
    desired: int, *, current: int, tolerance: Tolerance, reaches: Callable[[int], bool], cap: int | None
) -> int | None:
    """The smallest reachable count not below ``desired`` (within ``cap``); None when there is none.

    Above ``current``, a count n needs n × target above (1 + tolerance) × current × target, so counts up to that
    bound are skipped.
    """
    if desired <= current:
        found = _first(range(desired, current)[:_SCAN], reaches)
        return current if found is None else found
    start = max(desired, math.floor((1.0 + tolerance.scale_up) * current) - 1)
    stop = start + _SCAN if cap is None else min(start + _SCAN, cap + 1)
    return _first(range(start, stop), reaches)


def _nearest(desired: int, current: int, below: int, above: int | None) -> int:
    """The closer of the two; a tie keeps the current count (no churn), else takes the larger (no backlog left)."""
    if above is None or desired - below < above - desired:
        return below
    if above - desired < desired - below:
        return above
    return current if current in (below, above) else above
