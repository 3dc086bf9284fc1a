"""Load profiles (message rate over time) and the open-loop send schedule derived from them.

A burst test is only meaningful if the load is the one that was planned, whatever the service does: a producer that
sends "as fast as it can" slows down exactly when the system under test struggles and hides the problem. So a
profile is a rate function, and :func:`schedule` turns it into a fixed, deterministic list of send offsets (message
``k`` is due when the integral of the rate reaches ``k + ½``). The producer follows the offsets and reports how far
behind it fell; it never adapts them.

Profiles come from CLI flags or from YAML files (``load/profiles/*.yaml``) through one parser,
:func:`profile_from_spec`, which reports every problem at once.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml  # type: ignore[import-untyped,unused-ignore]  # stubs: types-PyYAML (dev extra)

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
"""Example profile files shipped with burst-load; ``--profile NAME`` finds ``NAME.yaml`` here."""

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


# ------------------------------------------------------------------------------------------------- parsing

KINDS: tuple[str, ...] = ("constant", "step", "spike", "ramp", "sine", "replay")

_FIELDS: dict[str, tuple[str, ...]] = {
    "constant": ("rate", "duration"),
    "step": ("steps", "duration"),
    "spike": ("baseline", "peak", "start", "length", "duration"),
    "ramp": ("begin", "end", "duration"),
    "sine": ("mean", "amplitude", "period", "duration"),
    "replay": ("csv", "points", "duration", "scale"),
}
_DEFAULTS: dict[str, dict[str, Any]] = {
    "constant": {"rate": 10.0, "duration": 60.0},
    "spike": {"baseline": 1.0, "peak": 100.0, "start": 10.0, "length": 20.0, "duration": 60.0},
    "ramp": {"begin": 0.0, "end": 100.0, "duration": 60.0},
    "sine": {"mean": 20.0, "amplitude": 20.0, "period": 60.0, "duration": 120.0},
    "step": {"duration": 60.0},
    "replay": {"scale": 1.0},
}


class _Reader:
    """Collects every problem of one specification instead of stopping at the first."""

    def __init__(self, spec: Mapping[str, Any], kind: str) -> None:
        self.spec = {**_DEFAULTS.get(kind, {}), **{k: v for k, v in spec.items() if v is not None}}
        self.kind = kind
        self.problems: list[str] = []

    def number(self, key: str, *, positive: bool = False) -> float:
        raw = self.spec.get(key)
        if raw is None:
            self.problems.append(f"{self.kind}: missing {key}")
            return 0.0
        try:
            value = float(raw)
        except (TypeError, ValueError):
            self.problems.append(f"{self.kind}: {key} must be a number, got {raw!r}")
            return 0.0
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            self.problems.append(f"{self.kind}: {key} must be {'> 0' if positive else '>= 0'}, got {raw!r}")
        return value

    def points(self, key: str) -> tuple[tuple[float, float], ...]:
        raw = self.spec.get(key)
        if isinstance(raw, str):
            raw = [item.split(":", 1) for item in raw.split(",") if item.strip()]
        if not isinstance(raw, Sequence) or not raw:
            self.problems.append(f"{self.kind}: {key} must be a non-empty list of [time, rate] pairs")
            return ()
        return self._pairs(key, raw)

    def _pairs(self, key: str, raw: Sequence[Any]) -> tuple[tuple[float, float], ...]:
        pairs: list[tuple[float, float]] = []
        for index, item in enumerate(raw):
            try:
                at, level = (float(part) for part in item)
            except (TypeError, ValueError):
                self.problems.append(f"{self.kind}: {key}[{index}] must be a [time, rate] pair, got {item!r}")
                continue
            if at < 0 or level < 0 or not (math.isfinite(at) and math.isfinite(level)):
                self.problems.append(f"{self.kind}: {key}[{index}] needs time >= 0 and rate >= 0, got {item!r}")
            pairs.append((at, level))
        if any(b[0] <= a[0] for a, b in itertools.pairwise(pairs)):
            self.problems.append(f"{self.kind}: {key} times must increase strictly")
        return tuple(pairs)


def read_rate_csv(path: Path) -> tuple[tuple[float, float], ...]:
    """``time,rate`` rows (seconds, messages per second); a header row and ``#`` comments are skipped."""
    rows: list[tuple[float, float]] = []
    with path.open(newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            cells = [cell.strip() for cell in row]
            if not cells or not cells[0] or cells[0].startswith("#"):
                continue
            try:
                rows.append((float(cells[0]), float(cells[1])))
            except (IndexError, ValueError) as exc:
                if not rows and number == 1:
                    continue  # header
                raise ProfileError(f"{path}:{number}: expected 'time,rate', got {row!r}") from exc
    if not rows:
        raise ProfileError(f"{path}: no (time, rate) rows")
    return tuple(rows)


def profile_from_spec(spec: Mapping[str, Any], *, base_dir: Path | None = None) -> Profile:
    """Build a profile from ``{"kind": ..., <parameters>}`` (a YAML file's content or the CLI flags).

    Unknown keys and out-of-range values are all reported in one ProfileError. A replay ``csv`` path is relative to
    ``base_dir`` (the YAML file's folder).
    """
    kind = str(spec.get("kind") or "")
    if kind not in KINDS:
        raise ProfileError(f"profile kind must be one of {', '.join(KINDS)}; got {kind or 'nothing'!r}")
    unknown = sorted(set(spec) - set(_FIELDS[kind]) - {"kind", "description"})
    reader = _Reader(spec, kind)
    if unknown:
        reader.problems.append(f"{kind}: unknown parameters {', '.join(unknown)} (known: {', '.join(_FIELDS[kind])})")
    profile = _build(kind, reader, base_dir)
    if reader.problems:
        raise ProfileError("; ".join(reader.problems))
    return profile


def _build(kind: str, r: _Reader, base_dir: Path | None) -> Profile:
    if kind == "replay":
        return _replay(r, base_dir)
    duration = r.number("duration", positive=True)
    if kind == "constant":
        return ConstantProfile(level=r.number("rate"), duration=duration)
    if kind == "step":
        return StepProfile(steps=r.points("steps"), duration=duration)
    if kind == "spike":
        return SpikeProfile(
            baseline=r.number("baseline"),
            peak=r.number("peak"),
            start=r.number("start"),
            length=r.number("length"),
            duration=duration,
        )
    if kind == "ramp":
        return RampProfile(begin=r.number("begin"), end=r.number("end"), duration=duration)
    return SineProfile(
        mean=r.number("mean"),
        amplitude=r.number("amplitude"),
        period=r.number("period", positive=True),
        duration=duration,
    )


def _replay(r: _Reader, base_dir: Path | None) -> Profile:
    points: tuple[tuple[float, float], ...] = ()
    source = r.spec.get("csv")
    if source is not None and r.spec.get("points") is not None:
        r.problems.append("replay: give csv or points, not both")
    elif source is not None:
        path = Path(str(source)).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            points = r._pairs("csv", read_rate_csv(path))
        except (OSError, ProfileError) as exc:
            r.problems.append(f"replay: cannot read {path}: {exc}")
    else:
        points = r.points("points")
    duration = points[-1][0] if points else 0.0
    if r.spec.get("duration") is not None:
        duration = r.number("duration", positive=True)
    elif points and duration <= 0:
        r.problems.append("replay: the trace ends at time 0; give a duration")
    return ReplayProfile(points=points, duration=duration, scale=r.number("scale"))


def resolve_profile_file(name: str) -> Path | None:
    """``name`` as a path to a YAML file, or ``load/profiles/<name>.yaml``; None when neither exists."""
    for candidate in (Path(name).expanduser(), PROFILES_DIR / name, PROFILES_DIR / f"{name}.yaml"):
        if candidate.is_file():
            return candidate
    return None


def load_profile_file(path: Path, overrides: Mapping[str, Any] | None = None) -> Profile:
    """A profile from a YAML file; ``overrides`` (e.g. explicitly given flags) replace the file's values."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"cannot read profile file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: a profile file is a mapping with 'kind' and its parameters")
    merged = {**data, **{k: v for k, v in (overrides or {}).items() if v is not None}}
    try:
        return profile_from_spec(merged, base_dir=path.parent)
    except ProfileError as exc:
        raise ProfileError(f"{path}: {exc}") from exc


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
