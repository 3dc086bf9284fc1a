"""deploy/observability read as data: the PrometheusRule's alerts, the dashboard's queries, and the metric series
they name, so tests can hold both against the scaler's live /metrics and against promtool.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml  # type: ignore[import-untyped,unused-ignore]

from tests.deploy.manifests import DEPLOY, Obj

OBSERVABILITY = DEPLOY / "observability"
RULE_FILE = OBSERVABILITY / "prometheusrule.yaml"
RULE_TESTS = OBSERVABILITY / "rules.test.yaml"
DASHBOARD = OBSERVABILITY / "dashboard.json"

GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m"}
"""What Grafana puts in place of its built-in interval variables; every other ``$name`` is a label regex."""

_SELECTOR = re.compile(r"\b(burst_scaler_[a-z_]+)\b(\{[^}]*\})?")
_EQUALS = re.compile(r'\b([a-zA-Z_]\w*)\s*=\s*"([^"]*)"')
_HISTOGRAM_PARTS = ("_bucket", "_count", "_sum")


def prometheus_rule() -> Obj:
    rule: Obj = yaml.safe_load(RULE_FILE.read_text())
    return rule


def rule_groups() -> dict[str, Any]:
    """The PrometheusRule's spec, which is exactly a Prometheus rule file (what promtool reads)."""
    return {"groups": prometheus_rule()["spec"]["groups"]}


def alerts() -> dict[str, str]:
    """Alert name → expression."""
    return {r["alert"]: r["expr"] for g in prometheus_rule()["spec"]["groups"] for r in g["rules"] if "alert" in r}


def dashboard() -> Obj:
    board: Obj = json.loads(DASHBOARD.read_text())
    return board


def dashboard_panels() -> Iterator[Obj]:
    for panel in dashboard()["panels"]:
        yield panel
        yield from panel.get("panels", [])


def dashboard_queries() -> list[str]:
    """Every panel query and every variable query of the dashboard."""
    queries = [t["expr"] for p in dashboard_panels() for t in p.get("targets", [])]
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            queries.append(query["query"] if isinstance(query, dict) else query)
    return queries


def as_promql(query: str) -> str:
    """A dashboard query as Prometheus would receive it: Grafana's variables filled in."""
    for name, value in GRAFANA_VARIABLES.items():
        query = query.replace(name, value)
    if query.startswith("label_values("):
        inner = query[len("label_values(") : -1]
        query = inner.rsplit(",", 1)[0] if "," in inner else inner
    return re.sub(r"\$\w+", ".*", query)


@dataclass(frozen=True)
class Need:
    """A metric family a query reads, and the label values it selects by equality (each must exist somewhere)."""

    family: str
    labels: tuple[tuple[str, str], ...]


def needs(query: str) -> set[Need]:
    found = set()
    for match in _SELECTOR.finditer(query):
        name = match.group(1)
        for part in _HISTOGRAM_PARTS:
            name = name.removesuffix(part)
        matchers = tuple((key, value) for key, value in _EQUALS.findall(match.group(2) or "") if "$" not in value)
        found.add(Need(name, matchers))
    return found


def all_needs() -> set[Need]:
    return {n for q in [*alerts().values(), *dashboard_queries()] for n in needs(q)}
