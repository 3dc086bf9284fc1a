"""The chart and the kustomize tree are two spellings of one deployment: the default render equals deploy/base,
and the examples as values equal deploy/examples, apart from what the chart adds by being a chart.

What may differ, and nothing else:
- labels the chart adds (``helm.sh/chart``, ``app.kubernetes.io/managed-by``, ``instance``, ``version``), wherever
  labels appear (metadata, pod templates, selectors);
- names: kustomize suffixes generated ConfigMaps with a content hash, the chart rolls pods with a
  ``checksum/`` pod annotation instead.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.deploy.manifests import DEPLOY, Obj, describe, kustomization, rendered
from tests.deploy_tools.tools import template

CHART_EXAMPLES = ("examples/queue-virtual", "examples/stream-managed", "examples/spillover")
"""The examples the chart offers as values; deploy/examples has more (kustomize only)."""

CHART_LABELS = frozenset(
    {"helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance", "app.kubernetes.io/version"}
)


def _strip(value: Any) -> Any:
    """The object without the chart's own labels and checksum annotations, wherever they sit."""
    if isinstance(value, list):
        return [_strip(item) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: _strip(item) for key, item in value.items() if key not in CHART_LABELS and not key.startswith("checksum/")
    }


def _generated_names(overlays: tuple[str, ...]) -> dict[str, str]:
    """Hashed name → plain name, for every ConfigMap a kustomization generates."""
    plain = {
        generator["name"]
        for overlay in overlays
        for generator in kustomization(DEPLOY / overlay).get("configMapGenerator", [])
    }
    found = {}
    for overlay in overlays:
        for obj in rendered(overlay):
            name = obj["metadata"]["name"]
            base = name.rsplit("-", 1)[0]
            if obj["kind"] == "ConfigMap" and base in plain:
                found[name] = base
    return found


def _normalised(objects: list[Obj], renames: dict[str, str]) -> dict[tuple[str, str, str], Obj]:
    text = json.dumps(objects)
    for hashed, name in renames.items():
        text = re.sub(rf'"{re.escape(hashed)}"', json.dumps(name), text)
    keyed: dict[tuple[str, str, str], Obj] = {}
    for obj in json.loads(text):
        keyed[(obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"])] = _strip(obj)
    return keyed


def _assert_same(chart: dict[tuple[str, str, str], Obj], kustomize: dict[tuple[str, str, str], Obj]) -> None:
    assert sorted(chart) == sorted(kustomize), "the two renders hold different objects"
    differing = [describe(kustomize[key]) for key in kustomize if chart[key] != kustomize[key]]
    details = "\n".join(
        f"{describe(kustomize[key])}:\n chart     {json.dumps(chart[key], sort_keys=True)}\n"
        f" kustomize {json.dumps(kustomize[key], sort_keys=True)}"
        for key in kustomize
        if chart[key] != kustomize[key]
    )
    assert not differing, details


def test_default_render_equals_the_kustomize_base() -> None:
    kustomize = _normalised(rendered("base"), _generated_names(("base",)))
    chart = _normalised(template(), {})
    assert len(kustomize) == 9
    _assert_same(chart, kustomize)


def _params(overlay: str) -> dict[str, str]:
    text = (DEPLOY / overlay / "params.env").read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_examples_as_values_equal_deploy_examples() -> None:
    """The same OCIDs as deploy/examples' params.env, every example on: the same consumers and ScaledObjects."""
    queue, stream, orders = (_params(f"examples/{name}") for name in ("queue-virtual", "stream-managed", "spillover"))
    sets = (
        "examples.queueVirtual.enabled=true",
        f"examples.queueVirtual.queueId={queue['BURST_LOAD_QUEUE_ID']}",
        "examples.streamManaged.enabled=true",
        f"examples.streamManaged.streamId={stream['BURST_LOAD_STREAM_ID']}",
        f"examples.streamManaged.groupName={stream['BURST_LOAD_GROUP']}",
        "examples.spillover.enabled=true",
        f"examples.spillover.queueId={orders['BURST_LOAD_QUEUE_ID']}",
        f"examples.region={queue['OCI_RESOURCE_PRINCIPAL_REGION']}",
    )
    kustomize_objects = {}
    for overlay in CHART_EXAMPLES:
        kustomize_objects.update(_normalised(rendered(overlay), _generated_names((overlay,))))
    rendered_chart = _normalised(template(sets=sets), {})
    chart = {key: obj for key, obj in rendered_chart.items() if key[1] == "burst-demo" or key[0] == "Namespace"}
    assert len(kustomize_objects) == 13
    _assert_same(chart, kustomize_objects)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("replicaCount=3",), "Deployment keda/burst-scaler"),
        (("networkPolicy.enabled=false",), "different objects"),
    ],
)
def test_the_comparison_sees_a_difference(change: tuple[str, ...], expected: str) -> None:
    """Not a vacuous pass: a chart render that drifts from deploy/base fails the comparison, naming what drifted."""
    kustomize = _normalised(rendered("base"), _generated_names(("base",)))
    chart = _normalised(template(sets=change), {})
    with pytest.raises(AssertionError, match=expected):
        _assert_same(chart, kustomize)
