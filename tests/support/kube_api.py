"""A small Kubernetes API server on loopback, for driving the official ``kubernetes`` client in tests.

It serves real Kubernetes JSON for the reads the scaler and ``burst-scaler check`` make, and nothing else: lists
(cluster-wide and per namespace, with ``labelSelector``), single-object GETs and the ``/status`` subresource, of any
resource whose objects the test puts in (Deployments, StatefulSets, DaemonSets, KEDA ScaledObjects/ScaledJobs and
Karpenter NodePools are known by name; an unknown kind ``Foo`` is served as ``foos``). Anything else is a 404 with a
Kubernetes ``Status`` body, as the real API server answers. Lists of built-in resources omit ``kind``/``apiVersion``
on their items, as the real server does, so code under test must cope with that too.

Usage::

    with FakeKubeApi([deployment, scaled_object]) as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        ...  # kubernetes.config.new_client_from_config(str(kubeconfig)), or a subprocess with --kubeconfig
        api.put(updated_deployment)  # replace at runtime (e.g. new status.readyReplicas)
        assert api.requests["/apis/apps/v1/namespaces/shop/deployments/orders"] == 1
"""

from __future__ import annotations

import contextlib
import copy
import json
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

PLURALS: dict[str, str] = {
    "Deployment": "deployments",
    "StatefulSet": "statefulsets",
    "DaemonSet": "daemonsets",
    "ReplicaSet": "replicasets",
    "Job": "jobs",
    "Pod": "pods",
    "Node": "nodes",
    "Namespace": "namespaces",
    "ConfigMap": "configmaps",
    "ScaledObject": "scaledobjects",
    "ScaledJob": "scaledjobs",
    "NodePool": "nodepools",
    "NodeClaim": "nodeclaims",
}
CLUSTER_SCOPED: frozenset[str] = frozenset({"Node", "Namespace", "NodePool", "NodeClaim"})
BUILT_IN_GROUPS: frozenset[str] = frozenset({"", "apps", "batch"})
DEFAULT_RESOURCES: tuple[tuple[str, str, str], ...] = (
    ("apps/v1", "deployments", "Deployment"),
    ("apps/v1", "statefulsets", "StatefulSet"),
    ("apps/v1", "daemonsets", "DaemonSet"),
    ("keda.sh/v1alpha1", "scaledobjects", "ScaledObject"),
    ("keda.sh/v1alpha1", "scaledjobs", "ScaledJob"),
)
"""Resource types served (as empty lists) even before an object of that type is put."""

ResourceKey = tuple[str, str]
"""(apiVersion, plural), e.g. ("apps/v1", "deployments")."""


def plural_of(kind: str) -> str:
    return PLURALS.get(kind, kind.lower() + "s")


def status_body(code: int, reason: str, message: str, details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A ``metav1.Status`` failure, as the API server returns for errors."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = dict(details)
    return body


def _matches(labels: Mapping[str, str], selector: str) -> bool:
    """Equality-based label selectors: ``a=b``, ``a==b``, ``a!=b``, ``a``, ``!a``, comma-separated (ANDed)."""
    for raw in selector.split(","):
        term = raw.strip()
        if not term:
            continue
        if "!=" in term:
            key, value = (part.strip() for part in term.split("!=", 1))
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = (part.strip() for part in term.replace("==", "=").split("=", 1))
            if labels.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term not in labels:
            return False
    return True


class _Server(ThreadingHTTPServer):
    """Tracks open client connections so stop() can close keep-alive sockets and join every handler thread."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], api: FakeKubeApi) -> None:
        self.api = api
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read .requests instead
        pass

    def _send(self, code: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _drain(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def do_GET(self) -> None:
        code, body = self.server.api.handle("GET", self.path, dict(self.headers.items()))
        self._send(code, body)

    def _not_allowed(self) -> None:
        self._drain()
        code, body = self.server.api.handle(self.command, self.path, dict(self.headers.items()))
        self._send(code, body)

    do_POST = do_PUT = do_PATCH = do_DELETE = _not_allowed


class ObjectStore:
    """The objects served, per resource type, with the API server's bookkeeping (uid, resourceVersion, ...)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kinds: dict[ResourceKey, str] = {(v, p): k for v, p, k in DEFAULT_RESOURCES}
        self._objects: dict[ResourceKey, dict[tuple[str, str], dict[str, Any]]] = {key: {} for key in self._kinds}
        self._resource_version = 0

    def put(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Add or replace an object (matched by apiVersion, kind, namespace, name); returns the stored copy."""
        stored: dict[str, Any] = copy.deepcopy(dict(obj))
        api_version, kind = str(stored.get("apiVersion") or ""), str(stored.get("kind") or "")
        metadata = stored.setdefault("metadata", {})
        name = str(metadata.get("name") or "")
        if not (api_version and kind and name):
            raise ValueError("an object needs apiVersion, kind and metadata.name")
        namespace = "" if kind in CLUSTER_SCOPED else str(metadata.get("namespace") or "default")
        if namespace:
            metadata["namespace"] = namespace
        key = (api_version, plural_of(kind))
        with self._lock:
            self._resource_version += 1
            metadata.setdefault("uid", str(uuid.uuid5(uuid.NAMESPACE_URL, f"{api_version}/{kind}/{namespace}/{name}")))
            metadata.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
            metadata.setdefault("generation", 1)
            metadata["resourceVersion"] = str(self._resource_version)
            self._kinds[key] = kind
            self._objects.setdefault(key, {})[(namespace, name)] = stored
        return copy.deepcopy(stored)

    def delete(self, api_version: str, kind: str, name: str, namespace: str = "default") -> None:
        namespace = "" if kind in CLUSTER_SCOPED else namespace
        with self._lock:
            self._objects.get((api_version, plural_of(kind)), {}).pop((namespace, name), None)

    def read(self, key: ResourceKey) -> tuple[str | None, dict[tuple[str, str], dict[str, Any]], str]:
        """(kind or None if the type is not served, its objects by (namespace, name), the current resourceVersion)."""
        with self._lock:
            return self._kinds.get(key), dict(self._objects.get(key, {})), str(self._resource_version)


def _not_found() -> tuple[int, dict[str, Any]]:
    return 404, status_body(404, "NotFound", "the server could not find the requested resource")


def serve_get(store: ObjectStore, path: str, query: Mapping[str, list[str]]) -> tuple[int, dict[str, Any]]:
    """A GET as the API server answers it: one object, its ``/status``, or a (label-selected) list."""
    segments = [s for s in path.split("/") if s]
    if segments[:2] == ["api", "v1"]:
        api_version, rest = "v1", segments[2:]
    elif len(segments) >= 3 and segments[0] == "apis":
        api_version, rest = f"{segments[1]}/{segments[2]}", segments[3:]
    else:
        return _not_found()
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3 or (len(rest) == 3 and rest[2] != "status"):
        return _not_found()
    plural, name = rest[0], (rest[1] if len(rest) >= 2 else None)
    kind, objects, resource_version = store.read((api_version, plural))
    if kind is None:
        return _not_found()
    group = api_version.rpartition("/")[0]
    if name is not None:
        obj = objects.get(("" if kind in CLUSTER_SCOPED else (namespace or ""), name))
        if obj is None:
            qualified = f"{plural}.{group}" if group else plural
            return 404, status_body(
                404,
                "NotFound",
                f'{qualified} "{name}" not found',
                {"name": name, "group": group, "kind": plural},
            )
        return 200, copy.deepcopy(obj)
    selector = (query.get("labelSelector") or [""])[0]
    items: list[dict[str, Any]] = []
    for (obj_namespace, _), obj in sorted(objects.items()):
        if namespace is not None and obj_namespace != namespace:
            continue
        labels = obj.get("metadata", {}).get("labels") or {}
        if selector and not _matches(labels, selector):
            continue
        item = copy.deepcopy(obj)
        if group in BUILT_IN_GROUPS:
            item.pop("kind", None)
            item.pop("apiVersion", None)
        items.append(item)
    return 200, {
        "kind": f"{kind}List",
        "apiVersion": api_version,
        "metadata": {"resourceVersion": resource_version},
        "items": items,
    }


class FakeKubeApi:
    """Thread-safe in-memory API server; start() binds 127.0.0.1 on an ephemeral port."""

    def __init__(self, objects: Iterable[Mapping[str, Any]] = (), *, token: str | None = "fake-token") -> None:
        """``token``: the bearer token required on every request (None: no authentication)."""
        self.token = token
        self.requests: Counter[str] = Counter()
        """Requests served, per URL path (without the query)."""
        self.store = ObjectStore()
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, str, str | None]] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        for obj in objects:
            self.put(obj)

    # -- lifecycle ------------------------------------------------------------------------------------------------

    def start(self) -> FakeKubeApi:
        if self._server is not None:
            return self
        self._server = _Server(("127.0.0.1", 0), self)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-kube-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeKubeApi:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeKubeApi is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_kubeconfig(self, path: Path, *, namespace: str | None = None, context: str = "fake") -> Path:
        """A kubeconfig whose current context points at this server (JSON, which is valid YAML)."""
        user: dict[str, Any] = {"token": self.token} if self.token else {}
        context_body: dict[str, Any] = {"cluster": "fake", "user": "fake"}
        if namespace:
            context_body["namespace"] = namespace
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": user}],
            "contexts": [{"name": context, "context": context_body}],
            "current-context": context,
        }
        path = Path(path)
        path.write_text(json.dumps(config, indent=2))
        return path

    # -- state ----------------------------------------------------------------------------------------------------

    def put(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Add or replace an object (matched by apiVersion, kind, namespace, name); returns the stored copy."""
        return self.store.put(obj)

    def delete(self, api_version: str, kind: str, name: str, namespace: str = "default") -> None:
        self.store.delete(api_version, kind, name, namespace)

    def fail(self, path: str, code: int, reason: str = "InternalError", message: str | None = None) -> None:
        """Answer every request for exactly ``path`` with this error until :meth:`clear_failures`."""
        with self._lock:
            self._failures[path] = (code, reason, message)

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    # -- serving --------------------------------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(raw_path)
        path = parts.path.rstrip("/") or "/"
        with self._lock:
            self.requests[path] += 1
            failure = self._failures.get(path)
        if self.token is not None:
            lowered = {k.lower(): v for k, v in headers.items()}
            if lowered.get("authorization") != f"Bearer {self.token}":
                return 401, status_body(401, "Unauthorized", "Unauthorized")
        if failure is not None:
            code, reason, message = failure
            return code, status_body(code, reason, message or f"injected failure for {path}")
        if method != "GET":
            return 405, status_body(405, "MethodNotAllowed", f"the fake API server only serves GET, not {method}")
        return serve_get(self.store, path, parse_qs(parts.query))
