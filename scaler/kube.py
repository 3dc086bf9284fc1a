"""Kubernetes reads the scaler needs, through the official client, and nothing else.

Three questions only: what does a ScaledObject scale (its target workload, ready replicas and pod template), and
who is the managed member of a spill-over group (by group name and namespace, through the ScaledObjects' own
trigger metadata). Every answer comes from the API, never from memory of other ScaledObjects' RPCs: KEDA
round-robins calls across scaler replicas, so a replica cannot know what the others were asked.

The client is synchronous; callers run these methods in a thread pool. Access can be off entirely (no RBAC, or a
local run): then the caller falls back to decisions that need no cluster state.

:func:`api_client` is the only place that builds a Kubernetes client: ``serve``, ``check --cluster`` and
``burst-load observe`` all use it, so ``--kube auto`` means the same thing for each of them.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, Protocol

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from scaler.errors import ConfigError, UpstreamError
from scaler.landing import CLUSTER_DEFAULT, DEFAULT_TOLERANCE, Tolerance
from scaler.placement import parse_quantity
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
    tolerance: Tolerance = CLUSTER_DEFAULT
    """The tolerance of the HPA that scales it, from its ScaledObject (where the landing arithmetic starts)."""


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


def resolve_mode(settings: KubeSettings, environ: Mapping[str, str]) -> KubeMode:
    """What AUTO means here, decided in one place for every command.

    An explicit ``--kubeconfig`` or context wins; else in-cluster inside a pod (``KUBERNETES_SERVICE_HOST``); else
    the kubeconfig if one exists (``$KUBECONFIG``, any of its paths, or ``~/.kube/config``); else OFF.
    """
    if settings.mode is not KubeMode.AUTO:
        return settings.mode
    if settings.kubeconfig or settings.context:
        return KubeMode.KUBECONFIG
    if environ.get("KUBERNETES_SERVICE_HOST"):
        return KubeMode.IN_CLUSTER
    paths = (environ.get("KUBECONFIG") or "~/.kube/config").split(os.pathsep)
    if any(Path(path).expanduser().exists() for path in paths if path):
        return KubeMode.KUBECONFIG
    return KubeMode.OFF


def api_client(
    settings: KubeSettings, *, fix: str, required: bool = False, environ: Mapping[str, str] | None = None
) -> Any | None:
    """The one factory of Kubernetes ApiClients: for ``settings``, or None when access is off.

    ``required``: a command that cannot work without the API (burst-load observe, check --cluster) gets a
    ConfigError instead of None. ``fix`` ends every error message: the flags of the calling command.
    """
    env = os.environ if environ is None else environ
    mode = resolve_mode(settings, env)
    context = f" (context {settings.context})" if settings.context else ""
    if mode is KubeMode.OFF:
        if required:
            raise ConfigError(
                f"cannot load Kubernetes configuration: not running in a pod and no kubeconfig found. {fix}"
            )
        return None
    try:
        if mode is KubeMode.IN_CLUSTER:
            where = "the pod's service account"
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            return client.ApiClient(configuration)
        path = str(settings.kubeconfig.expanduser()) if settings.kubeconfig else None
        where = path or env.get("KUBECONFIG") or "~/.kube/config"
        return config.new_client_from_config(config_file=path, context=settings.context)  # type: ignore[no-untyped-call]
    except Exception as exc:
        raise ConfigError(f"cannot load Kubernetes configuration from {where}{context}: {exc}. {fix}") from exc


def connect(settings: KubeSettings) -> KubeReader | None:
    """A reader for the configured mode, or None when access is off (AUTO with no cluster in sight)."""
    api = api_client(settings, fix="Check --kube / --kubeconfig.")
    if api is None:
        if settings.mode is KubeMode.AUTO:
            log.info("no Kubernetes API access (not in a pod, no kubeconfig): spill-over uses pure overflow")
        return None
    return KubeReader(api=api)


def _metadata_of(scaled_object: Mapping[str, Any]) -> list[Mapping[str, str]]:
    triggers = scaled_object.get("spec", {}).get("triggers") or []
    return [t.get("metadata") or {} for t in triggers if isinstance(t, Mapping)]


def _tolerance(rules: Any) -> float:
    """One direction's ``tolerance`` (a Kubernetes quantity such as ``"0.05"`` or ``50m``), else the default."""
    value = parse_quantity(rules.get("tolerance")) if isinstance(rules, Mapping) else None
    return float(value) if value is not None and value >= 0 else DEFAULT_TOLERANCE


def tolerance_of(scaled_object: Mapping[str, Any]) -> Tolerance:
    """The HPA tolerance a ScaledObject asks for: KEDA copies ``advanced.horizontalPodAutoscalerConfig.behavior``
    into its HPA, and Kubernetes ≥ 1.33 (HPAConfigurableTolerance) honours ``scaleUp/scaleDown.tolerance`` there."""
    advanced = scaled_object.get("spec", {}).get("advanced") or {}
    behavior = (advanced.get("horizontalPodAutoscalerConfig") or {}).get("behavior") or {}
    return Tolerance(scale_up=_tolerance(behavior.get("scaleUp")), scale_down=_tolerance(behavior.get("scaleDown")))


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
        workload = self.workload(namespace, str(ref.get("kind") or "Deployment"), name)
        return None if workload is None else replace(workload, tolerance=tolerance_of(so))

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
