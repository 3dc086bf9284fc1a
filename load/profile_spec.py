"""Profile specifications: a YAML file's content or the CLI flags, read into a :class:`load.profiles.Profile`.

One parser for both sources, so a flag and a file key mean the same thing; it collects every problem of a
specification and reports them together, as the scaler does with trigger metadata.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped,unused-ignore]  # stubs: types-PyYAML (dev extra)

from load.profiles import (
    ConstantProfile,
    Profile,
    ProfileError,
    RampProfile,
    ReplayProfile,
    SineProfile,
    SpikeProfile,
    StepProfile,
)

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
"""Example profile files shipped with burst-load; ``--profile NAME`` finds ``NAME.yaml`` here."""

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
