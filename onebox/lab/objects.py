"""The Kubernetes objects the lab adds around deploy/: nodes, KEDA's API registration, Karpenter's KWOK pool,
KWOK's stages, and the emulator's seed (the queues and stream the examples name).

Everything of upstream's (CRDs, stage templates, KEDA's RBAC) is read from the downloaded Go modules, never from
copies in our tree. Everything of ours (ScaledObjects, consumer Deployments, RBAC, NodePools) comes from deploy/.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped,unused-ignore]

from onebox.lab.components import Options

Obj = dict[str, Any]
REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
EXAMPLES = ("queue-virtual", "spillover", "stream-managed")
KWOK_ANNOTATION = {"kwok.x-k8s.io/node": "fake"}


def _node(name: str, labels: dict[str, str], taint: Obj, capacity: dict[str, str]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": dict(KWOK_ANNOTATION),
            "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
            | labels,
        },
        "spec": {"taints": [taint]},
        "status": {"capacity": capacity, "allocatable": capacity},
    }


def fixed_nodes() -> list[Obj]:
    """One managed node (the tenancy's fixed pool) and one virtual node (OKE's serverless pool)."""
    managed = _node(
        "managed-0",
        {"workload-type": "stateful", "node.kubernetes.io/instance-type": "VM.Standard.E4.Flex"},
        {"key": "workload-type", "value": "stateful", "effect": "NoSchedule"},
        {"cpu": "2", "memory": "16Gi", "pods": "110"},
    )
    virtual = _node(
        "virtual-node-0",
        {"type": "virtual-node"},
        {"key": "virtual-kubelet.io/provider", "value": "oracle", "effect": "NoSchedule"},
        {"cpu": "1000", "memory": "4Ti", "pods": "500"},
    )
    return [managed, virtual]


def keda_api_registration(adapter_port: int) -> list[Obj]:
    """KEDA's metrics adapter as the external.metrics.k8s.io APIService, reached at localhost:adapter_port.

    A Service of type ExternalName is the one way an APIService reaches a loopback listener: the aggregator's
    default resolver turns it into https://<externalName>:<port>, while Endpoints and EndpointSlices refuse
    127.0.0.0/8. The aggregator checks the serving certificate's name against <service>.<namespace>.svc, which a
    loopback listener cannot have, hence insecureSkipTLSVerify (the request still carries the front-proxy client
    certificate the adapter verifies).
    """
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "keda-metrics-apiserver", "namespace": "keda"},
            "spec": {"type": "ExternalName", "externalName": "localhost"},
        },
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": "v1beta1.external.metrics.k8s.io"},
            "spec": {
                "group": "external.metrics.k8s.io",
                "version": "v1beta1",
                "groupPriorityMinimum": 100,
                "versionPriority": 100,
                "service": {"name": "keda-metrics-apiserver", "namespace": "keda", "port": adapter_port},
                "insecureSkipTLSVerify": True,
            },
        },
    ]


def kwok_pool(options: Options) -> list[Obj]:
    """deploy/karpenter's managed NodePool, pointed at Karpenter's KWOK provider instead of OCI.

    Labels, taints, limits, disruption and expiry stay exactly as deploy/ has them; only the node class (KWOK
    instead of OCINodeClass) and the OCI-specific shape requirement change, since the KWOK provider offers its own
    instance types.
    """
    (pool,) = [d for d in yaml.safe_load_all((DEPLOY / "karpenter" / "nodepool-managed.yaml").read_text()) if d]
    pool = copy.deepcopy(pool)
    # its own name: deploy/'s NodePool (OCINodeClass) must stay free for the server-side dry-run of deploy/karpenter
    pool["metadata"]["name"] += "-kwok"
    spec = pool["spec"]["template"]["spec"]
    spec["nodeClassRef"] = {"group": "karpenter.kwok.sh", "kind": "KWOKNodeClass", "name": "default"}
    spec["requirements"] = [r for r in spec["requirements"] if not r["key"].startswith("oci.oraclecloud.com/")]
    node_class = {
        "apiVersion": "karpenter.kwok.sh/v1alpha1",
        "kind": "KWOKNodeClass",
        "metadata": {"name": "default"},
        "spec": {"nodeRegistrationDelay": f"{options.node_registration_delay_seconds}s"},
    }
    return [node_class, pool]


def kwok_config(kwok_module: Path, options: Options) -> str:
    """KWOK's configuration and stages: kwokctl's defaults from the module, pods Running a few seconds after bind."""
    stage = kwok_module / "kustomize" / "stage"
    (configuration,) = [d for d in yaml.safe_load_all((kwok_module / "kustomize/kwok/kwok.yaml").read_text()) if d]
    # stages come from this file, not from Stage objects, so none of KWOK's CRDs is needed
    configuration["options"]["enableCRDs"] = []
    documents: list[Obj] = [configuration]
    for relative in (
        "node/fast/node-initialize.yaml",
        "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
        "pod/fast/pod-ready.yaml",
        "pod/fast/pod-complete.yaml",
        "pod/fast/pod-delete.yaml",
    ):
        (document,) = [d for d in yaml.safe_load_all((stage / relative).read_text()) if d]
        if document["metadata"]["name"] == "pod-ready":
            document["spec"]["delay"] = {
                "durationMilliseconds": options.pod_ready_milliseconds,
                "jitterDurationMilliseconds": options.pod_ready_milliseconds + 2000,
            }
        documents.append(document)
    return yaml.safe_dump_all(documents, sort_keys=False)


def _params(example: str) -> dict[str, str]:
    lines = (DEPLOY / "examples" / example / "params.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def emulator_seed() -> str:
    """The queues and stream that deploy/examples name by OCID, so the examples run as they stand."""
    queues, streams = [], []
    for example in EXAMPLES:
        params = _params(example)
        if "BURST_LOAD_QUEUE_ID" in params:
            queues.append({"displayName": example, "id": params["BURST_LOAD_QUEUE_ID"]})
        if "BURST_LOAD_STREAM_ID" in params:
            streams.append({"name": example, "id": params["BURST_LOAD_STREAM_ID"], "partitions": 4})
    return json.dumps({"queues": queues, "streams": streams})


def example_params() -> dict[str, dict[str, str]]:
    return {example: _params(example) for example in EXAMPLES}


def rbac_only(objects: list[Obj]) -> list[Obj]:
    """Of a rendered install (deploy/base, KEDA's config/), what real authorization needs: ServiceAccounts and their
    roles. The workloads themselves run as local processes that authenticate with those accounts' tokens."""
    kinds = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
    return [o for o in objects if o.get("kind") in kinds]
