"""``burst-scaler check`` on the rendered output, run as a real subprocess: it passes on every example as rendered
and fails, naming the rule, on a deliberately broken copy.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]

from tests.deploy.manifests import (
    DEPLOY,
    EXAMPLES,
    PREEMPTIBLE_TAINT,
    VIRTUAL_TOLERATION_KEY,
    burst_scaler_check,
    find,
    render,
    rendered,
    write,
)

# ---------------------------------------------------------------------------------------------------------------------
# burst-scaler check on the rendered output (a real subprocess)


@pytest.mark.parametrize("overlay", [*EXAMPLES, "tls"])
def test_burst_scaler_check_passes_on_rendered_example(overlay: str, tmp_path: Path) -> None:
    path = tmp_path / "rendered.yaml"
    path.write_text(render(overlay))
    result = burst_scaler_check(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no placement problems" in result.stdout


def test_burst_scaler_check_reads_the_whole_deploy_tree() -> None:
    """`burst-scaler check -f deploy/` as the README shows it: the Helm chart's templates (Go templates, not YAML)
    are left to `helm template`; every other file is read."""
    result = burst_scaler_check(DEPLOY)
    assert result.returncode == 0, result.stdout + result.stderr
    tiered = sum(
        1
        for path in DEPLOY.rglob("*.yaml")
        if "helm" not in path.relative_to(DEPLOY).parts
        for doc in yaml.safe_load_all(path.read_text())
        if isinstance(doc, dict)
        and doc.get("kind") == "ScaledObject"
        and any("tier" in t.get("metadata", {}) for t in doc.get("spec", {}).get("triggers", []))
    )
    assert tiered >= 4
    assert f"no placement problems ({tiered} ScaledObjects/ScaledJobs with a tier checked)" in result.stdout


def test_burst_scaler_check_fails_when_the_virtual_toleration_is_stripped(tmp_path: Path) -> None:
    objects = rendered("examples/queue-virtual")
    consumer = find(objects, "Deployment", "queue-consumer")
    pod = consumer["spec"]["template"]["spec"]
    pod["tolerations"] = [t for t in pod["tolerations"] if t.get("key") != VIRTUAL_TOLERATION_KEY]
    result = burst_scaler_check(write(tmp_path, "broken.yaml", objects))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "virtual-missing-toleration" in result.stdout
    assert "queue-consumer" in result.stdout


def test_spot_nodepool_taint_is_enforced_on_consumers_that_select_it(tmp_path: Path) -> None:
    """A managed consumer moved to the preemptible pool must tolerate its taint, or Karpenter never serves it."""
    objects = rendered("karpenter") + rendered("examples/spillover")
    managed = find(objects, "Deployment", "orders-managed")["spec"]["template"]["spec"]
    managed["nodeSelector"] = {"karpenter.sh/nodepool": "burst-spot"}
    result = burst_scaler_check(write(tmp_path, "no-toleration.yaml", objects))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "managed-nodepool-toleration" in result.stdout
    managed["tolerations"].append({**PREEMPTIBLE_TAINT, "operator": "Equal"})
    result = burst_scaler_check(write(tmp_path, "tolerated.yaml", objects))
    assert result.returncode == 0, result.stdout + result.stderr
