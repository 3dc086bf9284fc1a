"""Load profiles (message rate over time) and the open-loop send schedule derived from them.

A burst test is only meaningful if the load is the one that was planned, whatever the service does: a producer that
sends "as fast as it can" slows down exactly when the system under test struggles and hides the problem. So a
profile is a rate function, and :func:`schedule` turns it into a fixed, deterministic list of send offsets (message
``k`` is due when the integral of the rate reaches ``k + ½``). The producer follows the offsets and reports how far
behind it fell; it never adapts them.

Profiles come from CLI flags or from YAML files (``load/profiles/*.yaml``) through one parser,
:func:`load.profile_spec.profile_from_spec`, which reports every problem at once.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

_RESOLUTION = 0.01
"""Integration step of :func:`schedule`, in seconds; profile edges are honoured exactly regardless."""


class Profile(Protocol):
    """A message rate over time; ``rate(t)`` for ``0 <= t < duration``, in messages per second."""

    @property
    def duration(self) -> float: ...

    def rate(self, t: float) -> float: ...


class ProfileError(ValueError):
    """A profile specification is invalid; the message lists every problem."""


@dataclass(frozen=True)
class ConstantProfile:
    """The same rate for the whole run."""

    level: float
    duration: float

    def rate(self, t: float) -> float:
        return self.level if 0 <= t < self.duration else 0.0

    def edges(self) -> tuple[float, ...]:
        return ()


@dataclass(frozen=True)
class StepProfile:
    """Piecewise constant: each ``(at, rate)`` step holds until the next one (0 before the first)."""

    steps: tuple[tuple[float, float], ...]
    duration: float

    def rate(self, t: float) -> float:
        if not 0 <= t < self.duration:
            return 0.0
        current = 0.0
        for at, level in self.steps:
            if at > t:
                break
            current = level
        return current

    def edges(self) -> tuple[float, ...]:
        return tuple(at for at, _ in self.steps)


@dataclass(frozen=True)
class SpikeProfile:
    """``baseline`` msgs/s, jumping to ``peak`` from ``start`` for ``length`` seconds."""

    baseline: float
    peak: float
    start: float
    length: float
    duration: float

    def rate(self, t: float) -> float:
        if not 0 <= t < self.duration:
            return 0.0
        return self.peak if self.start <= t < self.start + self.length else self.baseline

    def edges(self) -> tuple[float, ...]:
        return (self.start, self.start + self.length)


@dataclass(frozen=True)
class RampProfile:
    """A linear change from ``begin`` to ``end`` msgs/s over the whole run."""

    begin: float
    end: float
    duration: float

    def rate(self, t: float) -> float:
        if not 0 <= t < self.duration:
            return 0.0
        return self.begin + (self.end - self.begin) * t / self.duration

    def edges(self) -> tuple[float, ...]:
        return ()


@dataclass(frozen=True)
class SineProfile:
    """``mean + amplitude·sin(2πt / period)``, never below 0 (a daily pattern, compressed)."""

    mean: float
    amplitude: float
    period: float
    duration: float

    def rate(self, t: float) -> float:
        if not 0 <= t < self.duration:
            return 0.0
        return max(0.0, self.mean + self.amplitude * math.sin(2 * math.pi * t / self.period))

    def edges(self) -> tuple[float, ...]:
        return ()


@dataclass(frozen=True)
class ReplayProfile:
    """A recorded trace of ``(time, rate)`` points, linearly interpolated and multiplied by ``scale``.

    Before the first point the first rate holds, after the last point the last rate holds (until ``duration``).
    """

    points: tuple[tuple[float, float], ...]
    duration: float
    scale: float = 1.0

    def rate(self, t: float) -> float:
        if not 0 <= t < self.duration or not self.points:
            return 0.0
        index = bisect.bisect_right(self.points, t, key=lambda point: point[0])
        if index == 0:
            return self.points[0][1] * self.scale
        if index == len(self.points):
            return self.points[-1][1] * self.scale
        (t0, r0), (t1, r1) = self.points[index - 1], self.points[index]
        return (r0 + (r1 - r0) * (t - t0) / (t1 - t0)) * self.scale

    def edges(self) -> tuple[float, ...]:
        return tuple(at for at, _ in self.points)


# ------------------------------------------------------------------------------------------------- schedule


def _grid(profile: Profile) -> Iterator[tuple[float, float]]:
    """Integration segments ``(a, b)`` over ``[0, duration)``: a fixed grid, split at the profile's edges."""
    duration = profile.duration
    edges_of = getattr(profile, "edges", None)
    edges = sorted({e for e in (edges_of() if callable(edges_of) else ()) if 0 < e < duration})
    steps = math.ceil(duration / _RESOLUTION)
    cut = 0
    a = 0.0
    for i in range(1, steps + 1):
        b = min(duration, i * _RESOLUTION)
        while cut < len(edges) and edges[cut] < b:
            if edges[cut] > a:
                yield a, edges[cut]
                a = edges[cut]
            cut += 1
        if b > a:
            yield a, b
        a = b


def schedule(profile: Profile, *, start_seq: int = 0) -> Iterator[float]:
    """Send offsets (seconds from the start) of messages ``start_seq, start_seq + 1, …``, in order.

    Message ``k`` is due when the rate's integral reaches ``k + ½`` (midpoint rule on a 10 ms grid, exact for
    piecewise constant rates). The result depends only on the profile, so two runs plan the same sends.
    """
    total = 0.0
    k = 0
    for a, b in _grid(profile):
        level = profile.rate((a + b) / 2)
        if level <= 0:
            continue
        area = level * (b - a)
        while k + 0.5 <= total + area:
            offset = a + (k + 0.5 - total) / level
            if offset >= profile.duration:
                return
            if k >= start_seq:
                yield min(max(offset, a), b)
            k += 1
        total += area


def planned_count(profile: Profile) -> int:
    """How many messages :func:`schedule` plans for the whole profile."""
    return sum(1 for _ in schedule(profile))


def mean_rate(profile: Profile) -> float:
    """Planned messages per second over the profile's duration."""
    return planned_count(profile) / profile.duration if profile.duration > 0 else 0.0


def describe(profile: Profile) -> str:
    """One line naming the profile and its parameters, for logs and summaries."""
    fields = getattr(profile, "__dataclass_fields__", {})
    parts = []
    for name in fields:
        value = getattr(profile, name)
        if name == "points":
            value = f"{len(value)} points"
        elif name == "steps":
            value = ",".join(f"{at:g}:{level:g}" for at, level in value)
        elif isinstance(value, float):
            value = f"{value:g}"
        parts.append(f"{name}={value}")
    return f"{type(profile).__name__.removesuffix('Profile').lower()}({', '.join(parts)})"
