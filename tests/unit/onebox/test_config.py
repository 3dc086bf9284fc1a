"""The harness's ScaledObjects mirror deploy/examples/spillover, and every timing moves with the time scale."""

from __future__ import annotations

from onebox.harness.config import HarnessConfig, scaled_objects


def test_the_pair_mirrors_the_examples() -> None:
    config = HarnessConfig()
    specs = scaled_objects("ocid1.queue.oc1..q", config)
    managed, virtual = specs["orders-managed"], specs["orders-virtual"]
    assert managed.behavior is None  # no advanced.horizontalPodAutoscalerConfig: the HPA's legacy path
    assert managed.fallback == config.fallback
    assert managed.hpa_downscale_stabilization == config.scale_down_stabilization
    assert virtual.fallback is None
    assert virtual.behavior is not None
    assert virtual.behavior.scale_down_stabilization_seconds == config.scale_down_stabilization


def test_hpa_rate_policy_periods_are_shortened_and_scaled_like_every_other_timing() -> None:
    config = HarnessConfig()
    behavior = scaled_objects("q", config)["orders-virtual"].behavior
    assert behavior is not None
    periods = {p.period_seconds for p in behavior.scale_up_policies + behavior.scale_down_policies}
    assert periods == {config.hpa_policy_period} == {config.hpa_sync_period}  # 15 s upstream, like the 15 s sync
    doubled = config.scaled(2.0)
    assert doubled.hpa_policy_period == 2 * config.hpa_policy_period
    behavior = scaled_objects("q", doubled)["orders-virtual"].behavior
    assert behavior is not None
    assert {p.period_seconds for p in behavior.scale_up_policies} == {2 * config.hpa_policy_period}


def test_karpenter_delays_are_scaled_too() -> None:
    k, half = HarnessConfig().cluster.karpenter, HarnessConfig().scaled(0.5).cluster.karpenter
    for name in (
        "provision_seconds",
        "consolidate_after_seconds",
        "batch_idle_seconds",
        "batch_max_seconds",
        "disruption_poll_seconds",
        "validation_seconds",
        "termination_seconds",
    ):
        assert getattr(half, name) == getattr(k, name) / 2, name
