"""deploy/observability as files: the dashboard shows what the issue asks, per ScaledObject and tier, and is
well-formed for Grafana; the PrometheusRule holds the five alerts, each unit-tested both ways in rules.test.yaml.

promtool runs the rule tests (tests/deploy_tools/test_observability_rules.py); the live /metrics check is
tests/integration/test_observability_metrics.py.
"""

from __future__ import annotations

import yaml  # type: ignore[import-untyped,unused-ignore]

from tests.deploy.observability import (
    RULE_TESTS,
    Need,
    alerts,
    dashboard,
    dashboard_panels,
    needs,
    prometheus_rule,
)

ALERTS = {
    "BurstScalerValueStale",
    "BurstScalerUnavailableAnswers",
    "BurstScalerUpstreamErrors",
    "BurstScalerSpilloverNotHandingBack",
    "BurstScalerPlacementViolations",
}

SHOWN = {
    "backlog": Need("burst_scaler_backlog_messages", ()),
    "desired replicas": Need("burst_scaler_desired_replicas", ()),
    "value age": Need("burst_scaler_value_age_seconds", ()),
    "upstream latency": Need("burst_scaler_upstream_read_duration_seconds", ()),
    "upstream errors": Need("burst_scaler_upstream_reads_total", (("outcome", "error"),)),
    "cache hits": Need("burst_scaler_cache_lookups_total", (("result", "hit"),)),
    "RPC rates and codes": Need("burst_scaler_rpc_total", ()),
    "spill-over split": Need("burst_scaler_group_replicas", ()),
    "placement violations": Need("burst_scaler_placement_violations", ()),
}
"""What the dashboard must show (issue 12), as the metric each view reads."""


def _panels_with_queries() -> list[dict[str, object]]:
    return [p for p in dashboard_panels() if p["type"] != "row"]


def test_dashboard_shows_every_view_the_issue_asks_for() -> None:
    shown = {n for p in _panels_with_queries() for t in p["targets"] for n in needs(t["expr"])}  # type: ignore[attr-defined]
    missing = [view for view, need in SHOWN.items() if need not in shown]
    assert not missing, f"no panel shows {missing}"


def test_per_scaledobject_panels_filter_by_tier_and_every_panel_by_job() -> None:
    names = {v["name"] for v in dashboard()["templating"]["list"]}
    assert names == {"datasource", "job", "namespace", "tier", "scaledobject"}
    per_object = 0
    for panel in _panels_with_queries():
        for target in panel["targets"]:  # type: ignore[attr-defined]
            expr = target["expr"]
            assert '$job"' in expr, f"panel {panel['title']!r} ignores the job filter: {expr}"
            if "burst_scaler_backlog_messages" in expr or "burst_scaler_desired_replicas" in expr:
                per_object += 1
                assert 'tier=~"$tier"' in expr, panel["title"]
                assert 'scaledobject=~"$scaledobject"' in expr, panel["title"]
    assert per_object >= 3


def test_dashboard_is_well_formed_for_grafana() -> None:
    board = dashboard()
    assert board["uid"] == "oke-burst-scaler"
    assert board["schemaVersion"] >= 36
    ids = [p["id"] for p in dashboard_panels()]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    cells: set[tuple[int, int]] = set()
    for panel in dashboard_panels():
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"panel {panel['title']!r} overlaps another"
                cells.add((x, y))
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel.get("description"), f"panel {panel['title']!r} says nothing about what it shows"
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert ref_ids, panel["title"]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]


def test_the_rule_holds_the_five_alerts_with_severity_and_text() -> None:
    rule = prometheus_rule()
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["kind"] == "PrometheusRule"
    assert set(alerts()) == ALERTS
    for group in rule["spec"]["groups"]:
        for item in group["rules"]:
            assert item["labels"]["severity"] in {"warning", "critical"}, item["alert"]
            assert {"summary", "description"} <= set(item["annotations"]), item["alert"]
            assert item.get("for"), f"{item['alert']} would fire on one evaluation"


def test_rule_tests_make_every_alert_fire_and_stay_silent() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text())
    fired: set[str] = set()
    silent: set[str] = set()
    for case in tests["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check["exp_alerts"] else silent).add(check["alertname"])
    assert fired == ALERTS, f"never shown to fire: {ALERTS - fired}"
    assert silent == ALERTS, f"never shown to stay silent: {ALERTS - silent}"
