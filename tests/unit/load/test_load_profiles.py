"""Profiles and the open-loop schedule: exact counts, exact edges, determinism, every problem reported at once."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest

from load.profile_spec import KINDS, PROFILES_DIR, load_profile_file, profile_from_spec, resolve_profile_file
from load.profiles import (
    ConstantProfile,
    ProfileError,
    RampProfile,
    ReplayProfile,
    SineProfile,
    SpikeProfile,
    StepProfile,
    describe,
    planned_count,
    schedule,
)


def test_constant_schedule_is_evenly_spaced_midpoints() -> None:
    offsets = list(schedule(ConstantProfile(level=10, duration=1)))
    assert offsets == pytest.approx([0.05 + 0.1 * k for k in range(10)])


def test_start_seq_continues_the_same_schedule() -> None:
    profile = SpikeProfile(baseline=3, peak=40, start=1.2345, length=0.5, duration=3)
    full = list(schedule(profile))
    assert list(schedule(profile, start_seq=7)) == full[7:]
    assert list(schedule(profile)) == full  # deterministic


def test_spike_count_is_exact_even_with_edges_off_the_grid() -> None:
    profile = SpikeProfile(baseline=2, peak=100, start=1.2345, length=2.5, duration=6)
    offsets = list(schedule(profile))
    assert len(offsets) == planned_count(profile) == round(2 * 1.2345 + 100 * 2.5 + 2 * (6 - 3.7345))
    inside = [t for t in offsets if 1.2345 <= t < 3.7345]
    assert len(inside) == 250
    assert all(b >= a for a, b in itertools.pairwise(offsets))
    assert offsets[0] >= 0
    assert offsets[-1] < profile.duration


def test_zero_baseline_sends_nothing_outside_the_spike() -> None:
    offsets = list(schedule(SpikeProfile(baseline=0, peak=10, start=2, length=1, duration=5)))
    assert len(offsets) == 10
    assert min(offsets) >= 2
    assert max(offsets) < 3


def test_step_ramp_and_sine_counts_follow_the_integral() -> None:
    step = StepProfile(steps=((0, 5), (2, 20), (3, 0)), duration=4)
    assert planned_count(step) == 5 * 2 + 20
    ramp = RampProfile(begin=0, end=100, duration=4)
    assert abs(planned_count(ramp) - 200) <= 1
    sine = SineProfile(mean=10, amplitude=10, period=2, duration=4)
    assert abs(planned_count(sine) - 40) <= 1
    assert min(sine.rate(t / 100) for t in range(400)) >= 0


def test_replay_interpolates_and_scales(tmp_path: Path) -> None:
    (tmp_path / "trace.csv").write_text("time,rate\n# a comment\n0,0\n2,10\n4,10\n")
    (tmp_path / "p.yaml").write_text("kind: replay\ncsv: trace.csv\nscale: 2\n")
    profile = load_profile_file(tmp_path / "p.yaml")
    assert isinstance(profile, ReplayProfile)
    assert profile.duration == 4
    assert profile.rate(1) == pytest.approx(10)  # 5 msgs/s interpolated, times 2
    assert abs(planned_count(profile) - 2 * (10 + 20)) <= 1


def test_every_shipped_profile_file_loads() -> None:
    files = sorted(PROFILES_DIR.glob("*.yaml"))
    assert {f.stem for f in files} >= set(KINDS)
    for path in files:
        profile = load_profile_file(path)
        assert planned_count(profile) > 0, path
        assert describe(profile).startswith(path.stem)
    assert resolve_profile_file("spike") == PROFILES_DIR / "spike.yaml"


def test_flags_override_file_values() -> None:
    profile = load_profile_file(PROFILES_DIR / "spike.yaml", overrides={"peak": 7.0, "duration": None})
    assert isinstance(profile, SpikeProfile)
    assert profile.peak == 7.0
    assert profile.duration == 60


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ProfileError) as info:
        profile_from_spec({"kind": "spike", "peak": -1, "duration": 0, "colour": "red"})
    assert str(info.value) == (
        "spike: unknown parameters colour (known: baseline, peak, start, length, duration); "
        "spike: duration must be > 0, got 0; spike: peak must be >= 0, got -1"
    )
    with pytest.raises(ProfileError, match="times must increase strictly"):
        profile_from_spec({"kind": "step", "steps": "0:5,0:6"})
    with pytest.raises(ProfileError, match="kind must be one of"):
        profile_from_spec({"kind": "square"})


def test_step_steps_accept_the_flag_syntax() -> None:
    profile = profile_from_spec({"kind": "step", "steps": "0:5, 1.5:50", "duration": 3})
    assert isinstance(profile, StepProfile)
    assert profile.steps == ((0.0, 5.0), (1.5, 50.0))
    assert math.isclose(profile.rate(2.0), 50)
