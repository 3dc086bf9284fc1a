"""HPA arithmetic and default behaviour, against the oracles in KEDA's and Kubernetes' documentation."""

from __future__ import annotations

from typing import Any

from onebox.harness.hpa import Behavior, HpaState, average_value_replicas, hpa_step, value_replicas


def test_average_value_oracles() -> None:
    assert average_value_replicas(20, 10, current=1) == 2
    assert average_value_replicas(105, 10, current=10) == 10  # inside the 0.1 tolerance: unchanged
    assert average_value_replicas(112, 10, current=10) == 12
    assert average_value_replicas(0, 10, current=3) == 0


def test_per_direction_tolerances_as_kubernetes_1_33_reads_them() -> None:
    assert average_value_replicas(280, 10, current=30) == 30  # ratio 0.933: inside the default band
    assert average_value_replicas(280, 10, current=30, scale_down_tolerance=0.0) == 28
    assert average_value_replicas(280, 10, current=30, scale_up_tolerance=0.0) == 30  # the other direction's
    assert average_value_replicas(330, 10, current=30) == 30  # ratio 1.1 is on the band: isWithin keeps 30
    assert average_value_replicas(330, 10, current=30, scale_up_tolerance=0.05) == 33
    state = HpaState()
    behavior = Behavior(scale_down_stabilization_seconds=0, scale_up_tolerance=0.0, scale_down_tolerance=0.0)
    step: dict[str, Any] = {"target": 10.0, "min_replicas": 1, "max_replicas": 100, "behavior": behavior}
    assert hpa_step(state, now=0, current=30, usage=290.0, **step) == 29  # exact landing with tolerance 0
    assert hpa_step(state, now=15, current=29, usage=300.0, **step) == 30


def test_value_oracle() -> None:
    assert value_replicas(20, 5, ready=3, current=3) == 12


def test_scale_up_rate_is_max_of_double_or_four_pods_per_period() -> None:
    state, behavior = HpaState(), Behavior()
    step: dict[str, Any] = {
        "usage": 1000.0,
        "target": 10.0,
        "min_replicas": 1,
        "max_replicas": 100,
        "behavior": behavior,
    }
    assert hpa_step(state, now=0, current=1, **step) == 5  # 1 + 4 pods beats 100 %
    assert hpa_step(state, now=15.1, current=5, **step) == 10  # doubling beats +4
    assert hpa_step(state, now=30.2, current=10, **step) == 20


def test_scale_down_waits_for_the_stabilization_window() -> None:
    state, behavior = HpaState(), Behavior(scale_down_stabilization_seconds=300)
    step: dict[str, Any] = {"target": 10.0, "min_replicas": 1, "max_replicas": 100, "behavior": behavior}
    assert hpa_step(state, now=0, current=10, usage=100.0, **step) == 10
    assert hpa_step(state, now=60, current=10, usage=10.0, **step) == 10  # 300 s window still holds 10
    assert hpa_step(state, now=301, current=10, usage=10.0, **step) == 1


def test_without_behavior_scale_up_is_capped_at_double_or_four_per_sync() -> None:
    """horizontal.go calculateScaleUpLimit: the legacy path limits each sync, not a 15 s period."""
    state = HpaState()
    step: dict[str, Any] = {"usage": 1000.0, "target": 10.0, "min_replicas": 1, "max_replicas": 100, "behavior": None}
    assert hpa_step(state, now=0.0, current=1, **step) == 4  # max(2 x 1, 4)
    assert hpa_step(state, now=0.1, current=4, **step) == 8  # the next sync doubles again, no period to wait
    assert hpa_step(state, now=0.2, current=8, **step) == 16
    assert hpa_step(state, now=0.3, current=60, **step) == 100  # then maxReplicas


def test_without_behavior_scale_down_has_no_rate_limit_after_the_downscale_window() -> None:
    state = HpaState()
    step: dict[str, Any] = {
        "target": 10.0,
        "min_replicas": 1,
        "max_replicas": 100,
        "behavior": None,
        "downscale_stabilization": 20,
    }
    assert hpa_step(state, now=0, current=40, usage=400.0, **step) == 40
    assert hpa_step(state, now=10, current=40, usage=10.0, **step) == 40  # the 20 s window still holds 40
    assert hpa_step(state, now=20, current=40, usage=10.0, **step) == 40  # a recommendation 20 s old still counts
    assert hpa_step(state, now=21, current=40, usage=10.0, **step) == 1  # 40 -> 1 in one sync: no 100 %/period cap


def test_rate_baseline_adds_back_recent_removals() -> None:
    """calculateScaleUpLimitWithScalingRules: period start = current - added + deleted within the period."""
    state, behavior = HpaState(), Behavior(scale_down_stabilization_seconds=0)
    step: dict[str, Any] = {"target": 10.0, "min_replicas": 1, "max_replicas": 100, "behavior": behavior}
    assert hpa_step(state, now=0, current=10, usage=50.0, **step) == 5
    # 5 removed 5 s ago: the period started at 10, so doubling allows 20 (not 10 from a baseline of 5)
    assert hpa_step(state, now=5, current=5, usage=200.0, **step) == 20


def test_scale_down_stabilization_can_keep_a_rate_limited_ramp_climbing() -> None:
    """stabilizeRecommendationWithBehaviors: a falling recommendation takes the down-window's maximum, even above
    the current count, so a ramp cut short by the rate policy goes on towards the recent peak."""
    state, behavior = HpaState(), Behavior(scale_down_stabilization_seconds=300)
    step: dict[str, Any] = {"target": 10.0, "min_replicas": 1, "max_replicas": 100, "behavior": behavior}
    assert hpa_step(state, now=0, current=1, usage=380.0, **step) == 5  # wants 38, +4 pods
    assert hpa_step(state, now=16, current=5, usage=30.0, **step) == 10  # wants 3, but 38 is in the window


def test_each_hpa_has_its_own_rate_budget() -> None:
    """The controller keys scale events by HPA: a spill-over pair scales up side by side, +4 pods each."""
    managed, virtual, behavior = HpaState(), HpaState(), Behavior()
    step: dict[str, Any] = {
        "usage": 1000.0,
        "target": 10.0,
        "min_replicas": 1,
        "max_replicas": 100,
        "behavior": behavior,
    }
    assert hpa_step(managed, now=0, current=1, **step) == 5
    assert hpa_step(virtual, now=0, current=1, **step) == 5
    assert hpa_step(managed, now=1, current=5, **step) == 5  # its own period is used up
    assert hpa_step(virtual, now=1, current=5, **step) == 5


def test_default_behavior_with_a_shortened_policy_period() -> None:
    behavior = Behavior.defaults(policy_period=2.0, scale_down_stabilization=10.0)
    state = HpaState()
    step: dict[str, Any] = {
        "usage": 1000.0,
        "target": 10.0,
        "min_replicas": 1,
        "max_replicas": 100,
        "behavior": behavior,
    }
    assert hpa_step(state, now=0, current=1, **step) == 5
    assert hpa_step(state, now=2.1, current=5, **step) == 10  # a new 2 s period, not 15 s later
