"""The HPA's step from a current replica count, and the count each landing rule must pick, worked out independently
of scaler.landing.

The step wraps the policy tests' oracle (``hpa_replicas``: KEDA's milli quantities, rounded by ≥ 2.20 or truncated
by 2.17–2.19, then ``ceil``) in the tolerance band of kubernetes replica_calculator.go: ``Tolerances.isWithin`` since
1.33, ``|1 − ratio| ≤ tolerance`` before. The band test uses float64 on the milli quantities, as the controller does.

Which counts are reachable is found by brute force over this oracle, without scaler.landing's candidate values. For
a count below the current one, only the smallest values of its ``ceil`` step need trying: a lower value has a lower
ratio, so if the lowest values are held inside the band, every value is. Above the current count, only the highest
values need trying. Both quantizations grow with the value, so each of them reads each step as an interval.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from scaler.values import Landing
from tests.unit.test_policy import hpa_replicas


@dataclass(frozen=True)
class Band:
    up: float
    down: float


DEFAULT_BAND = Band(0.1, 0.1)


def milli(value: float, *, truncate: bool) -> int:
    """The quantity KEDA hands the HPA, in milli-units, as ``hpa_replicas`` computes it."""
    if truncate:
        return int(value * 1000)
    return int(Decimal(value).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP) * 1000)


def hpa_step(value: float, target: float, current: int, band: Band, *, truncate: bool, legacy: bool) -> int:
    """What the HPA computes from ``value`` at ``current`` replicas (``legacy``: the check before Kubernetes 1.33)."""
    ratio = milli(value, truncate=truncate) / (milli(target, truncate=truncate) * current)
    within = abs(1.0 - ratio) <= band.up if legacy else (1.0 - band.down) <= ratio <= (1.0 + band.up)
    return current if within else hpa_replicas(value, target, truncate=truncate)


def readings(value: float, target: float, current: int, band: Band) -> set[int]:
    """Every count the HPA may compute: both quantizations, and both checks when the band is symmetric."""
    forms = (False, True) if band.up == band.down else (False,)
    return {
        hpa_step(value, target, current, band, truncate=truncate, legacy=legacy)
        for truncate in (False, True)
        for legacy in forms
    }


def _tried(n: int, current: int, per_pod: int) -> Iterable[int]:
    low, high = (n - 1) * per_pod + 1, n * per_pod
    if n == 0:
        return (0,)
    if n < current:
        return (m for m in (low, low + 1, low + 2) if m <= high)
    return (m for m in (high, high - 1, high - 2) if m >= low)


def reachable(n: int, target: float, current: int, band: Band) -> bool:
    """Whether some value makes every reading of the HPA go from ``current`` to ``n``."""
    per_pod = round(target * 1000)
    return any(readings(m / 1000, target, current, band) == {n} for m in _tried(n, current, per_pod))


def reachable_counts(current: int, target: float, band: Band, cap: int) -> list[int]:
    """Every count from 0 to ``cap`` the HPA can be sent to from ``current`` (the current count included)."""
    return [n for n in range(cap + 1) if n == current or reachable(n, target, current, band)]


def expected(rule: Landing, desired: int, current: int, counts: list[int]) -> int:
    """The count ``rule`` must pick among the reachable ``counts``."""
    if rule is Landing.DOWN:
        return max((n for n in counts if n <= desired), default=current)
    if rule is Landing.HOLD:
        return desired if desired in counts else current
    if rule is Landing.NEAREST:
        best = min(abs(n - desired) for n in counts)
        tied = [n for n in counts if abs(n - desired) == best]
        return current if current in tied else max(tied)
    return desired
