"""The comparison's set-ups differ only in what the scaler is asked; its settings and cost model are what they say."""

from __future__ import annotations

import pytest

from onebox.harness.comparison import DEFAULTS_FACTOR, Setting, comparison_config, traces
from onebox.harness.config import scaled_objects
from onebox.harness.cost import Prices, cost_of
from onebox.harness.report import Row, RunReport

SPIKE = traces()["spike"]


def _triggers(mode: str) -> dict[str, dict[str, str]]:
    specs = scaled_objects("q", comparison_config(Setting.HARSH, mode=mode, profile=SPIKE))
    return {name: spec.metadata for name, spec in specs.items()}


def test_each_mode_asks_the_scaler_what_its_users_would() -> None:
    ours = _triggers("spillover")
    assert {m["group"] for m in ours.values()} == {"orders"}
    assert ours["orders-managed"]["holdSeconds"] == f"{180 * DEFAULTS_FACTOR:g}"
    assert "managedBreakEven" not in ours["orders-managed"]  # the minimal metadata unless told the break-even
    told = scaled_objects("q", comparison_config(Setting.HARSH, mode="spillover", profile=SPIKE, break_even=3))
    assert told["orders-managed"].metadata["managedBreakEven"] == "3"
    assert "managedBreakEven" not in told["orders-virtual"].metadata
    two = _triggers("two-plain")
    assert set(two) == {"orders-managed", "orders-virtual"}
    assert all("group" not in m and "holdSeconds" not in m for m in two.values())
    assert (two["orders-managed"]["maxReplicas"], two["orders-virtual"]["maxReplicas"]) == ("12", "40")
    assert _triggers("all-virtual") == {"orders-virtual": {**two["orders-virtual"], "maxReplicas": "52"}}
    assert _triggers("all-managed") == {"orders-managed": {**two["orders-managed"], "maxReplicas": "52"}}
    with pytest.raises(ValueError, match="unknown harness mode 'single'"):
        scaled_objects("q", comparison_config(Setting.HARSH, mode="single", profile=SPIKE))


@pytest.mark.parametrize("mode", ["spillover", "two-plain", "all-virtual", "all-managed"])
def test_hpa_treatment_is_the_same_in_every_mode(mode: str) -> None:
    specs = scaled_objects("q", comparison_config(Setting.DEFAULTS, mode=mode, profile=SPIKE))
    for spec in specs.values():
        assert spec.hpa_downscale_stabilization == 300 * DEFAULTS_FACTOR
        if spec.name == "orders-virtual":
            assert spec.behavior is not None
            assert spec.behavior.scale_down_stabilization_seconds == 300 * DEFAULTS_FACTOR
        else:
            assert spec.behavior is None  # the managed consumer: the HPA's legacy path


def test_settings_compress_upstream_defaults_or_are_harsh() -> None:
    harsh = comparison_config(Setting.HARSH, mode="spillover", profile=SPIKE)
    defaults = comparison_config(Setting.DEFAULTS, mode="spillover", profile=SPIKE)
    assert (harsh.scale_down_stabilization, harsh.cluster.karpenter.consolidate_after_seconds) == (10.0, 0.0)
    assert (defaults.scale_down_stabilization, defaults.cluster.karpenter.consolidate_after_seconds) == (60.0, 60.0)
    assert (defaults.hpa_sync_period, defaults.polling_interval, defaults.cooldown_period) == (3.0, 6.0, 60.0)
    one_tier = comparison_config(Setting.HARSH, mode="all-managed", profile=SPIKE)
    assert one_tier.cluster.karpenter.max_nodes == 13  # 52 consumers at 4 per node
    assert harsh.cluster.karpenter.max_nodes == 3


def _row(t: float, virtual: int, nodes: int, provisioning: int) -> Row:
    return Row(
        t=t,
        backlog=0,
        replicas={"orders-virtual": virtual},
        running_virtual=virtual,
        running_managed=0,
        pending=0,
        nodes=nodes,
        provisioning=provisioning,
        produced=0,
        consumed=0,
    )


def test_cost_bills_virtual_pods_and_nodes_from_launch_at_list_prices() -> None:
    rows = [_row(0, 10, 0, 2), _row(36, 4, 2, 0), _row(72, 0, 2, 0), _row(108, 0, 0, 0)]
    report = RunReport.build(
        rows=rows,
        events={},
        produced=set(),
        consumed={},
        latencies=[],
        produce=None,
        keda={},
        config={},
        karpenter_nodes=2,
    )
    prices = Prices()
    assert prices.virtual_pod_hour() == pytest.approx(0.028)  # 1 OCPU + 2 GB of E4.Flex
    assert prices.node_hour() == pytest.approx(0.074)  # 2 OCPUs + 16 GB
    assert prices.break_even() == 3  # a node costs 2.64 virtual pods
    assert Prices(node_ocpus=2.0, node_gb=4.0).break_even() == 2  # 0.056 / 0.028: exactly 2, no float round-up
    cost = cost_of(report, prices)
    assert (cost.virtual_pod_seconds, cost.managed_node_seconds, cost.nodes_launched) == (504.0, 216.0, 2)
    assert cost.dollars == pytest.approx(504 / 3600 * 0.028 + 216 / 3600 * 0.074)
    assert cost_of(report, prices, fixed_nodes=1).managed_node_seconds == 108.0
