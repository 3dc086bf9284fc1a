"""The cluster model seen through the scaler's Kubernetes seam (scaler.kube.ClusterReader).

In a real cluster the scaler reads ScaledObjects and Deployment status from the API server; in the harness the
cluster is a model, so the same two questions are answered from it: which workload a ScaledObject scales (and how
many of its pods are Ready), and which ScaledObject is the managed member of a spill-over group.
"""

from __future__ import annotations

from collections.abc import Mapping

from onebox.harness.cluster import ClusterModel
from onebox.harness.pods import VIRTUAL
from onebox.harness.scaledobject import ScaledObjectSpec
from scaler.kube import GroupPeer, Workload
from scaler.landing import DEFAULT_TOLERANCE, Tolerance


class ModelClusterReader:
    """Answers from the model; ``targets`` maps ScaledObject name → Deployment name."""

    def __init__(
        self, *, model: ClusterModel, scaled_objects: Mapping[str, ScaledObjectSpec], targets: Mapping[str, str]
    ) -> None:
        self._model = model
        self._scaled_objects = dict(scaled_objects)
        self._targets = dict(targets)

    def _tolerance(self, scaled_object: str) -> Tolerance:
        """What the scaler reads from the ScaledObject's ``behavior``: the tolerance its HPA (the harness's) uses."""
        spec = self._scaled_objects.get(scaled_object)
        behavior = spec.behavior if spec is not None else None
        if behavior is None:
            return Tolerance()
        up, down = behavior.scale_up_tolerance, behavior.scale_down_tolerance
        return Tolerance(
            scale_up=DEFAULT_TOLERANCE if up is None else up, scale_down=DEFAULT_TOLERANCE if down is None else down
        )

    def _workload(self, namespace: str, deployment_name: str, tolerance: Tolerance) -> Workload | None:
        deployment = self._model.deployments.get(deployment_name)
        if deployment is None:
            return None
        selector = {"type": "virtual-node"} if deployment.tier == VIRTUAL else {"workload-type": "stateful"}
        toleration = (
            {"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoSchedule"}
            if deployment.tier == VIRTUAL
            else {"key": "workload-type", "operator": "Equal", "value": "stateful", "effect": "NoSchedule"}
        )
        manifest = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": deployment.name, "namespace": namespace},
            "spec": {
                "replicas": deployment.replicas,
                "template": {
                    "spec": {
                        "nodeSelector": selector,
                        "tolerations": [toleration],
                        "containers": [
                            {
                                "name": "consumer",
                                "image": "burst-load",
                                "resources": {
                                    "requests": {"cpu": "500m", "memory": "512Mi"},
                                    "limits": {"cpu": "500m", "memory": "512Mi"},
                                },
                            }
                        ],
                    }
                },
            },
        }
        return Workload(
            kind="Deployment",
            namespace=namespace,
            name=deployment.name,
            replicas=deployment.replicas,
            ready_replicas=deployment.ready,
            manifest=manifest,
            tolerance=tolerance,
        )

    def scale_target(self, namespace: str, scaled_object: str) -> Workload | None:
        target = self._targets.get(scaled_object)
        return self._workload(namespace, target, self._tolerance(scaled_object)) if target else None

    def group_peer(self, namespace: str, group: str, tier: str) -> GroupPeer | None:
        for name, spec in self._scaled_objects.items():
            if spec.metadata.get("group") == group and spec.metadata.get("tier") == tier:
                max_replicas = spec.metadata.get("maxReplicas")
                return GroupPeer(
                    scaled_object=name,
                    max_replicas=int(max_replicas) if max_replicas else None,
                    workload=self.scale_target(namespace, name),
                )
        return None
