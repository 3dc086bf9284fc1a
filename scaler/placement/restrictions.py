"""What OKE virtual nodes refuse in a pod spec, beyond placement: the Kubernetes features Oracle lists as not
supported on virtual nodes ("Comparing Virtual Nodes with Managed Nodes").

Such a pod is scheduled onto a virtual node and then never runs there, or runs without the feature, and the scaler's
replica count is right while nothing consumes. So each restriction is its own rule, and its finding names the exact
field. The features: init containers (sidecars are init containers too) and ephemeral containers; more than one
emptyDir, or an emptyDir ``sizeLimit``; gRPC probes; requests that differ from limits; ``hostPort``, or a
``containerPort`` in the NodePort range; the pod security settings ``fsGroup``, ``sysctls``, ``seccompProfile`` and
``supplementalGroups``; ``shareProcessNamespace``. DaemonSets are refused too; that rule looks at the workload and
lives in scaler.placement.rules.

A request without a limit is not a mismatch here: OKE sizes such a container from its request, and the
``virtual-unsized`` warning covers it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from scaler.placement.catalogue import RuleId
from scaler.placement.readers import Obj, as_map, containers, is_true, maps, names, parse_quantity, text

NODE_PORT_RANGE: Final = range(30000, 32768)
"""Kubernetes' default ``--service-node-port-range`` (30000-32767)."""
POD_SECURITY_FIELDS: Final = ("fsGroup", "sysctls", "seccompProfile", "supplementalGroups")
PROBES: Final = ("livenessProbe", "readinessProbe", "startupProbe")

Problem = tuple[RuleId, str, Mapping[str, str]]
"""A broken rule, its message, and the slots its fix is filled with."""


def _quoted(items: list[str]) -> str:
    return names([f"{item!r}" for item in items])


def _port(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _containers(spec: Obj) -> Iterator[Problem]:
    init = [text(c.get("name")) or "?" for c in maps(spec.get("initContainers"))]
    if init:
        yield (
            RuleId.VIRTUAL_INIT_CONTAINERS,
            f"tier virtual, but the pod has init containers {_quoted(init)}; virtual nodes do not run init "
            "containers (sidecars included)",
            {},
        )
    ephemeral = [text(c.get("name")) or "?" for c in maps(spec.get("ephemeralContainers"))]
    if ephemeral:
        yield (
            RuleId.VIRTUAL_EPHEMERAL_CONTAINERS,
            f"tier virtual, but the pod spec has ephemeral containers {_quoted(ephemeral)}; virtual nodes do not "
            "support them",
            {},
        )


def _volumes(spec: Obj) -> Iterator[Problem]:
    empty_dirs = [v for v in maps(spec.get("volumes")) if "emptyDir" in v]
    labels = [text(v.get("name")) or "?" for v in empty_dirs]
    if len(empty_dirs) > 1:
        yield (
            RuleId.VIRTUAL_EMPTYDIR_COUNT,
            f"tier virtual, but the pod has {len(empty_dirs)} emptyDir volumes ({_quoted(labels)}); a virtual-node "
            "pod supports one",
            {"volume": labels[0]},
        )
    limited = [(label, v) for label, v in zip(labels, empty_dirs, strict=True) if "sizeLimit" in as_map(v["emptyDir"])]
    if limited:
        shown = [f"{label!r} (sizeLimit {as_map(v['emptyDir'])['sizeLimit']})" for label, v in limited]
        yield (
            RuleId.VIRTUAL_EMPTYDIR_SIZE_LIMIT,
            f"tier virtual, but emptyDir volume {names(shown)} sets a sizeLimit; virtual nodes do not support "
            "emptyDir sizeLimit",
            {"volume": limited[0][0]},
        )


def _per_container(spec: Obj) -> Iterator[Problem]:
    grpc: list[str] = []
    differ: list[str] = []
    host_ports: list[str] = []
    node_ports: list[str] = []
    for label, container in containers(spec):
        grpc += [f"{label} has a gRPC {probe}" for probe in PROBES if "grpc" in as_map(container.get(probe))]
        resources = as_map(container.get("resources"))
        requests, limits = as_map(resources.get("requests")), as_map(resources.get("limits"))
        for name in sorted(set(requests) & set(limits)):
            request, limit = parse_quantity(requests[name]), parse_quantity(limits[name])
            if request is not None and limit is not None and request != limit:
                differ.append(f"{label} requests {requests[name]} {name} with a limit of {limits[name]}")
        for port in maps(container.get("ports")):
            number, host = _port(port.get("containerPort")), _port(port.get("hostPort"))
            if host:
                host_ports.append(f"{label} port {number if number is not None else '?'} sets hostPort {host}")
            if number in NODE_PORT_RANGE:
                node_ports.append(f"{label} listens on containerPort {number}")
    if grpc:
        yield (
            RuleId.VIRTUAL_GRPC_PROBE,
            f"tier virtual, but {'; '.join(grpc)}; virtual nodes do not support gRPC probes",
            {},
        )
    if differ:
        yield (
            RuleId.VIRTUAL_REQUESTS_DIFFER_FROM_LIMITS,
            f"tier virtual, but {'; '.join(differ)}; virtual nodes need requests equal to limits",
            {},
        )
    if host_ports:
        yield (
            RuleId.VIRTUAL_HOST_PORT,
            f"tier virtual, but {'; '.join(host_ports)}; virtual-node pods have no host ports",
            {},
        )
    if node_ports:
        yield (
            RuleId.VIRTUAL_NODE_PORT_RANGE,
            f"tier virtual, but {'; '.join(node_ports)}; virtual nodes do not support container ports in the "
            f"NodePort range {NODE_PORT_RANGE.start}-{NODE_PORT_RANGE.stop - 1}",
            {},
        )


def _pod(spec: Obj) -> Iterator[Problem]:
    security = as_map(spec.get("securityContext"))
    fields = [name for name in POD_SECURITY_FIELDS if security.get(name) not in (None, [], {})]
    if fields:
        yield (
            RuleId.VIRTUAL_POD_SECURITY_CONTEXT,
            f"tier virtual, but the pod securityContext sets {names(fields)}; virtual nodes do not support these "
            "pod security settings",
            {},
        )
    if is_true(spec.get("shareProcessNamespace")):
        yield (
            RuleId.VIRTUAL_SHARE_PROCESS_NAMESPACE,
            "tier virtual, but the pod sets shareProcessNamespace: true; virtual nodes do not support a shared "
            "process namespace",
            {},
        )


def virtual_restrictions(spec: Obj) -> list[Problem]:
    """Every restriction a pod spec breaks, in the order of the rule catalogue."""
    return [*_containers(spec), *_volumes(spec), *_per_container(spec), *_pod(spec)]
