"""Kubernetes reads the scaler needs, through the official client, and nothing else.

Three questions only: what does a ScaledObject scale (its target workload, ready replicas and pod template), and
who is the managed member of a spill-over group (by group name and namespace, through the ScaledObjects' own
trigger metadata). Every answer comes from the API, never from memory of other ScaledObjects' RPCs: KEDA
round-robins calls across scaler replicas, so a replica cannot know what the others were asked.

The client is synchronous; callers run these methods in a thread pool. Access can be off entirely (no RBAC, or a
local run): then the caller falls back to decisions that need no cluster state.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from scaler.errors import ConfigError, UpstreamError
from scaler.settings import KubeMode, KubeSettings

log = logging.getLogger(__name__)

KEDA_GROUP: Final = "keda.sh"
KEDA_VERSION: Final = "v1alpha1"
_WORKLOAD_READERS: Final = {
    "Deployment": "read_namespaced_deployment",
    "StatefulSet": "read_namespaced_stateful_set",
    "DaemonSet": "read_namespaced_daemon_set",
}


@dataclass(frozen=True)
class Workload:
    """A scale target as the API reports it."""

    kind: str
    namespace: str
    name: str
    replicas: int
    ready_replicas: int
    manifest: Mapping[str, Any]
    """The whole object, camelCase JSON as the API serves it (input to the placement lint)."""


@dataclass(frozen=True)
class GroupPeer:
    """The managed member of a spill-over group, found by group name among the namespace's ScaledObjects."""

    scaled_object: str
    max_replicas: int | None
    workload: Workload | None


class ClusterReader(Protocol):
    """The two questions the service asks of a cluster; KubeReader answers them from the API server."""

    def scale_target(self, namespace: str, scaled_object: str) -> Workload | None: ...

    def group_peer(self, namespace: str, group: str, tier: str) -> GroupPeer | None: ...


def connect(settings: KubeSettings) -> KubeReader | None:
    """A reader for the configured mode, or None when access is off (AUTO with no cluster in sight)."""
    mode = settings.mode
    if mode is KubeMode.AUTO:
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            mode = KubeMode.IN_CLUSTER
        elif settings.kubeconfig or Path(os.environ.get("KUBECONFIG", "~/.kube/config")).expanduser().exists():
            mode = KubeMode.KUBECONFIG
        else:
            log.info("no Kubernetes API access (not in a pod, no kubeconfig): spill-over uses pure overflow")
            return None
    if mode is KubeMode.OFF:
        return None
    try:
        if mode is KubeMode.IN_CLUSTER:
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            api = client.ApiClient(configuration)
        else:
            path = str(settings.kubeconfig.expanduser()) if settings.kubeconfig else None
            api = config.new_client_from_config(config_file=path, context=settings.context)  # type: ignore[no-untyped-call]
    except Exception as exc:
        raise ConfigError(
            f"cannot set up Kubernetes access ({mode.value}): {exc}. Check --kube / --kubeconfig."
        ) from exc
    return KubeReader(api=api)


def _metadata_of(scaled_object: Mapping[str, Any]) -> list[Mapping[str, str]]:
    triggers = scaled_object.get("spec", {}).get("triggers") or []
    return [t.get("metadata") or {} for t in triggers if isinstance(t, Mapping)]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _status_message(exc: ApiException) -> str:
    """The API server's own sentence for a refusal; it names the user, verb, resource and namespace."""
    try:
        message = json.loads(exc.body or "{}").get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message) if message else str(exc.reason)


class KubeReader:
    """Blocking reads over one ApiClient (thread-safe for concurrent calls, as urllib3 pools are)."""

    def __init__(self, *, api: Any) -> None:
        self._api = api
        self._custom = client.CustomObjectsApi(api)
        self._apps = client.AppsV1Api(api)

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except ApiException as exc:
            if exc.status == 404:
                return None
            if exc.status == 403:
                raise UpstreamError(
                    f"Kubernetes {what} forbidden (HTTP 403): {_status_message(exc)}; grant the scaler's "
                    "ServiceAccount the rules in deploy/base/rbac.yaml"
                ) from exc
            raise UpstreamError(f"Kubernetes {what} failed: HTTP {exc.status} {exc.reason}") from exc
        except Exception as exc:
            raise UpstreamError(f"Kubernetes {what} failed: {type(exc).__name__}: {exc}") from exc

    def workload(self, namespace: str, kind: str, name: str) -> Workload | None:
        reader = _WORKLOAD_READERS.get(kind)
        if reader is None:
            return None
        obj = self._call(f"get {kind} {namespace}/{name}", getattr(self._apps, reader), name, namespace)
        if obj is None:
            return None
        data = self._api.sanitize_for_serialization(obj)
        data.setdefault("kind", kind)
        status = data.get("status") or {}
        return Workload(
            kind=kind,
            namespace=namespace,
            name=name,
            replicas=_int(status.get("replicas")) or 0,
            ready_replicas=_int(status.get("readyReplicas")) or _int(status.get("numberReady")) or 0,
            manifest=data,
        )

    def scale_target(self, namespace: str, scaled_object: str) -> Workload | None:
        """The workload a ScaledObject scales (None if either is missing)."""
        so = self._call(
            f"get ScaledObject {namespace}/{scaled_object}",
            self._custom.get_namespaced_custom_object,
            KEDA_GROUP,
            KEDA_VERSION,
            namespace,
            "scaledobjects",
            scaled_object,
        )
        if so is None:
            return None
        return self._target_of(namespace, so)

    def _target_of(self, namespace: str, so: Mapping[str, Any]) -> Workload | None:
        ref = so.get("spec", {}).get("scaleTargetRef") or {}
        name = ref.get("name")
        if not isinstance(name, str):
            return None
        return self.workload(namespace, str(ref.get("kind") or "Deployment"), name)

    def group_peer(self, namespace: str, group: str, tier: str) -> GroupPeer | None:
        """The ScaledObject in ``namespace`` whose trigger has ``group`` and ``tier`` metadata, with its target."""
        listed = self._call(
            f"list ScaledObjects in {namespace}",
            self._custom.list_namespaced_custom_object,
            KEDA_GROUP,
            KEDA_VERSION,
            namespace,
            "scaledobjects",
        )
        for so in (listed or {}).get("items") or []:
            for metadata in _metadata_of(so):
                if metadata.get("group") == group and metadata.get("tier") == tier:
                    return GroupPeer(
                        scaled_object=str(so.get("metadata", {}).get("name")),
                        max_replicas=_int(metadata.get("maxReplicas")),
                        workload=self._target_of(namespace, so),
                    )
        return None
