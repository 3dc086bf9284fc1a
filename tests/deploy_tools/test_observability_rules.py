"""deploy/observability with the real promtool (built from lab/promtool): the PrometheusRule fits the operator's
CRD, its rules are valid, its unit tests (rules.test.yaml) pass, firing and staying silent for each alert, a rule
that drifts fails them, and every dashboard query is valid PromQL.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped,unused-ignore]

from tests.deploy.crd_schemas import crd_problems, crd_schemas
from tests.deploy.observability import RULE_TESTS, as_promql, dashboard_queries, prometheus_rule, rule_groups
from tests.deploy_tools.tools import monitoring_crds, run


def _rule_dir(tmp_path: Path, groups: dict[str, Any]) -> Path:
    """rules.yaml (the PrometheusRule's spec, a plain Prometheus rule file) beside a copy of rules.test.yaml."""
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(groups, sort_keys=False))
    shutil.copy(RULE_TESTS, tmp_path / "rules.test.yaml")
    return tmp_path


def test_prometheus_rule_matches_the_prometheus_operator_crd() -> None:
    schemas = crd_schemas(monitoring_crds())
    rule = prometheus_rule()
    assert crd_problems(rule, schemas) == []
    rule["spec"]["groups"][0]["rules"][0]["for"] = "two minutes"
    assert any("for" in p for p in crd_problems(rule, schemas)), "the check would miss a malformed duration"


def test_rules_are_valid(tmp_path: Path) -> None:
    directory = _rule_dir(tmp_path, rule_groups())
    result = run("promtool", "check", "rules", "rules.yaml", cwd=directory)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 5 rules found" in result.stdout


def test_rule_unit_tests_pass(tmp_path: Path) -> None:
    directory = _rule_dir(tmp_path, rule_groups())
    result = run("promtool", "test", "rules", "rules.test.yaml", cwd=directory)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_rule_unit_tests_fail_when_a_rule_drifts(tmp_path: Path) -> None:
    """Not a vacuous pass: each alert's tests catch a changed threshold or a dropped condition."""
    groups = rule_groups()
    drifts = {
        "BurstScalerUpstreamErrors": (r"\) > 0\.1", ") > 0.9"),
        "BurstScalerPlacementViolations": (r"> 0$", "> 5"),
        "BurstScalerValueStale": (
            r"and on \(job\)\s*\(sum by \(job\) \(increase\(burst_scaler_unavailable_total\[5m\]\)\) > 0\)",
            "",
        ),
        "BurstScalerSpilloverNotHandingBack": (r"clamp_min\(", "0 * clamp_min("),
        "BurstScalerUnavailableAnswers": (r"> 0$", "> 1"),
    }
    for rule in groups["groups"][0]["rules"]:
        pattern, replacement = drifts[rule["alert"]]
        changed = re.sub(pattern, replacement, rule["expr"].strip(), flags=re.MULTILINE)
        assert changed != rule["expr"].strip(), f"the drift for {rule['alert']} did not apply"
        rule["expr"] = changed
    directory = _rule_dir(tmp_path, groups)
    result = run("promtool", "test", "rules", "rules.test.yaml", cwd=directory)
    assert result.returncode != 0
    failed = set(re.findall(r"alertname: (\w+)", result.stdout + result.stderr))
    assert failed == set(drifts), result.stdout


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    """promtool parses each query (Grafana's variables filled in) as a recording rule's expression."""
    queries = dashboard_queries()
    assert len(queries) >= 30
    records = [{"record": f"dashboard:query_{i}", "expr": as_promql(q)} for i, q in enumerate(queries)]
    (tmp_path / "dashboard-queries.yaml").write_text(yaml.safe_dump({"groups": [{"name": "d", "rules": records}]}))
    result = run("promtool", "check", "rules", "dashboard-queries.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
