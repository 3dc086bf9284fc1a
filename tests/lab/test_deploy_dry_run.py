"""Every manifest in deploy/, as kustomize renders it, passes a server-side dry-run against the lab's real API
server: real CRD schemas (KEDA's and Karpenter's from their modules), CEL rules, defaulting and admission.

OCINodeClass's CRD is not published as a Go module the proxy serves; its official schema is applied from
$BURST_SCALER_CRDS_DIR (.ci/run points it at ../shared/crds). Without it, this test fails and says so: a dry-run
that left a kind out would prove less than its name claims.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from onebox.lab import kubectl
from onebox.lab.objects import DEPLOY
from tests.lab.support import Lab

pytestmark = pytest.mark.timeout(300)
OVERLAYS = ("base", "tls", "karpenter", "examples/queue-virtual", "examples/spillover", "examples/stream-managed")
OCI_NODE_CLASS_CRD = "oci.oraclecloud.com_ocinodeclasses.yaml"


def test_every_deploy_manifest_passes_a_server_side_dry_run(lab: Lab) -> None:
    crds = os.environ.get("BURST_SCALER_CRDS_DIR")
    assert crds, "set BURST_SCALER_CRDS_DIR to the official CRDs (OCINodeClass has no module to take it from)"
    (crd,) = [d for d in kubectl.render_file(Path(crds) / OCI_NODE_CLASS_CRD)]
    kubectl.apply(lab.kubeconfig, [crd])
    lab.kubectl("wait", "--for=condition=Established", f"crd/{crd['metadata']['name']}", "--timeout=60s")

    checked: dict[str, int] = {}
    for overlay in OVERLAYS:
        rendered = kubectl.render(DEPLOY / overlay)
        namespaces = {o["metadata"].get("namespace") for o in rendered} - {None}
        missing = [
            n for n in namespaces if n not in {o["metadata"]["name"] for o in rendered if o["kind"] == "Namespace"}
        ]
        kubectl.apply(
            lab.kubeconfig, [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in missing]
        )
        output = kubectl.apply(lab.kubeconfig, rendered, dry_run=True)
        assert output.count("(server dry run)") == len(rendered), output
        checked[overlay] = len(rendered)
    kinds = {o["kind"] for overlay in OVERLAYS for o in kubectl.render(DEPLOY / overlay)}
    assert {"ScaledObject", "TriggerAuthentication", "NodePool", "OCINodeClass", "Deployment"} <= kinds
    print(checked)
