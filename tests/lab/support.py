"""What the lab tests share: the running lab's endpoints, Kubernetes and OCI clients, and copies of deploy/examples
in a namespace of their own (so each test owns its queue, its consumers and its ScaledObjects)."""

from __future__ import annotations

import copy
import csv
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import oci
from kubernetes import client, config
from prometheus_client.parser import text_string_to_metric_families

from load.messages import LIGHT, Envelope
from onebox.lab import kubectl
from onebox.lab.objects import DEPLOY

Obj = dict[str, Any]


@dataclass(frozen=True)
class Lab:
    """`burst-scaler lab status --json`, as a test reads it."""

    kubeconfig: Path
    scaler_kubeconfig: Path
    oci_config: Path
    compartment_id: str
    emulator_url: str
    scaler_address: str
    scaler_metrics_url: str
    namespace: str
    consumers_dir: Path
    logs_dir: Path

    @classmethod
    def from_status(cls, status: dict[str, Any]) -> Lab:
        paths = ("kubeconfig", "scaler_kubeconfig", "oci_config", "consumers_dir", "logs_dir")
        fields: dict[str, Any] = {k: Path(status[k]) if k in paths else status[k] for k in cls.__dataclass_fields__}
        return cls(**fields)

    def api(self) -> client.ApiClient:
        api: client.ApiClient = config.new_client_from_config(config_file=str(self.kubeconfig))  # type: ignore[no-untyped-call]
        return api

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        return kubectl.run(self.kubeconfig, list(args), stdin=stdin)

    def get(self, *args: str) -> Obj:
        document: Obj = json.loads(self.kubectl("get", *args, "-o", "json"))
        return document

    def oci(self) -> dict[str, Any]:
        settings: dict[str, Any] = oci.config.from_file(str(self.oci_config))
        return settings

    def create_queue(self, name: str) -> str:
        admin = oci.queue.QueueAdminClient(self.oci(), service_endpoint=self.emulator_url)
        details = oci.queue.models.CreateQueueDetails(display_name=name, compartment_id=self.compartment_id)
        response = admin.create_queue(details)
        work_request = admin.get_work_request(response.headers["opc-work-request-id"]).data
        queue_id: str = work_request.resources[0].identifier
        until(f"queue {name} ACTIVE", lambda: admin.get_queue(queue_id).data.lifecycle_state == "ACTIVE", 30)
        return queue_id

    def queue_client(self) -> Any:
        return oci.queue.QueueClient(self.oci(), service_endpoint=self.emulator_url)

    def put(self, queue_id: str, seqs: Iterable[int], *, cls: str = LIGHT) -> None:
        """burst-load envelopes (so the reference consumers can prove delivery by seq), 20 per PutMessages."""
        queue = self.queue_client()
        batch: list[Any] = []
        for seq in [*seqs, None]:
            if seq is not None:
                body = Envelope(seq=seq, sent_at=time.time(), cls=cls).encode()
                batch.append(oci.queue.models.PutMessagesDetailsEntry(content=body))
            if batch and (len(batch) == 20 or seq is None):
                queue.put_messages(queue_id, oci.queue.models.PutMessagesDetails(messages=batch))
                batch = []

    def backlog(self, queue_id: str) -> tuple[int, int]:
        """(visible, in flight) from GetStats."""
        stats = self.queue_client().get_stats(queue_id).data.queue
        return int(stats.visible_messages), int(stats.in_flight_messages)

    def processed(self, namespace: str) -> list[int]:
        """Producer sequence numbers every consumer of the namespace processed (each pod's messages.csv)."""
        seqs: list[int] = []
        for run_dir in self.consumers_dir.glob(f"{namespace}.*"):
            for path in run_dir.rglob("messages.csv"):
                with path.open() as rows:
                    seqs += [int(row["seq"]) for row in csv.DictReader(rows)]
        return seqs


def scaler_metric(lab: Lab, name: str, **labels: str) -> float:
    """One sample of the scaler's Prometheus endpoint (0 when the series does not exist yet)."""
    text = urllib.request.urlopen(lab.scaler_metrics_url, timeout=5).read().decode()
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def until(what: str, check: Callable[[], bool], timeout: float, interval: float = 0.5) -> float:
    """Wait for ``check``; returns the seconds it took, fails the test with ``what`` on timeout."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)
    return time.monotonic() - started


def clone_example(
    lab: Lab, example: str, namespace: str, *, queue_id: str, edit: Callable[[Obj], None] | None = None
) -> list[Obj]:
    """deploy/examples/<example> as kustomize renders it, moved to ``namespace`` and pointed at ``queue_id``.

    ``edit`` may change any object (shorter cooldowns for a test, for instance); the test says why when it does.
    """
    objects = []
    for original in kubectl.render(DEPLOY / "examples" / example):
        obj = copy.deepcopy(original)
        if obj["kind"] == "Namespace":
            obj["metadata"]["name"] = namespace
        else:
            obj["metadata"]["namespace"] = namespace
        if obj["kind"] == "ConfigMap" and "BURST_LOAD_QUEUE_ID" in obj.get("data", {}):
            obj["data"]["BURST_LOAD_QUEUE_ID"] = queue_id
        if obj["kind"] == "ScaledObject":
            for trigger in obj["spec"]["triggers"]:
                trigger["metadata"]["queueId"] = queue_id
        if edit is not None:
            edit(obj)
        objects.append(obj)
    kubectl.apply(lab.kubeconfig, objects)
    return objects


def replicas(lab: Lab, namespace: str, names: Iterable[str]) -> dict[str, int]:
    apps = client.AppsV1Api(lab.api())
    return {name: int(apps.read_namespaced_deployment(name, namespace).spec.replicas or 0) for name in names}


def condition(obj: Obj, kind: str) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == kind and c.get("status") == "True" for c in conditions)


@dataclass(frozen=True)
class Sample:
    """One look at a namespace's consumer tiers, the nodes under them and the queue feeding them."""

    t: float
    replicas: dict[str, int]
    ready: dict[str, int]
    pods: list[tuple[str, str, str, str]]
    """(deployment, pod, node, phase) of every pod not being deleted."""
    node_claims: int
    ready_nodes: list[str]
    backlog: int


class Sampler:
    """Samples once a second on a thread while a scenario runs, so assertions can look at the whole timeline."""

    def __init__(self, lab: Lab, namespace: str, deployments: list[str], queue_id: str) -> None:
        self._lab, self._namespace, self._deployments, self._queue_id = lab, namespace, deployments, queue_id
        self.samples: list[Sample] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = time.monotonic()

    def __enter__(self) -> Sampler:
        api = self._lab.api()
        self._apis = (client.AppsV1Api(api), client.CoreV1Api(api), client.CustomObjectsApi(api))
        self.samples.append(self._sample(*self._apis))  # a first look before anything happens, or fail here
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.samples.append(self._sample(*self._apis))
            except Exception as error:  # a failed look is recorded, never fatal to the scenario
                self.errors.append(f"{type(error).__name__}: {error}")

    def _sample(self, apps: Any, core: Any, custom: Any) -> Sample:
        replicas, ready = {}, {}
        for name in self._deployments:
            deployment = apps.read_namespaced_deployment(name, self._namespace)
            replicas[name] = int(deployment.spec.replicas or 0)
            ready[name] = int(deployment.status.ready_replicas or 0)
        pods = []
        for pod in core.list_namespaced_pod(self._namespace).items:
            if pod.metadata.deletion_timestamp is None:
                owner = next((d for d in self._deployments if pod.metadata.name.startswith(d + "-")), "")
                pods.append((owner, pod.metadata.name, pod.spec.node_name or "", pod.status.phase or ""))
        claims = custom.list_cluster_custom_object("karpenter.sh", "v1", "nodeclaims")["items"]
        nodes = [
            n.metadata.name
            for n in core.list_node().items
            if any(c.type == "Ready" and c.status == "True" for c in (n.status.conditions or []))
        ]
        visible, in_flight = self._lab.backlog(self._queue_id)
        t = time.monotonic() - self._started
        return Sample(t, replicas, ready, pods, len(claims), nodes, visible + in_flight)

    def latest(self) -> Sample:
        """The newest sample; fails the test when sampling has stalled (so a wait never watches a frozen value)."""
        if not self.samples or time.monotonic() - self._started - self.samples[-1].t > 5:
            raise AssertionError(f"the sampler is not sampling; its errors: {self.errors[-3:]}")
        return self.samples[-1]

    def first(self, predicate: Callable[[Sample], bool]) -> Sample | None:
        return next((s for s in self.samples if predicate(s)), None)

    def table(self) -> str:
        """The timeline as text, for failure messages and the benchmark notes."""
        lines = []
        for s in self.samples:
            pending = sum(1 for p in s.pods if p[3] == "Pending")
            tiers = " ".join(f"{k}={s.replicas[k]}/{s.ready[k]}" for k in self._deployments)
            lines.append(f"t={s.t:5.0f} backlog={s.backlog:5d} {tiers} pending={pending} claims={s.node_claims}")
        return "\n".join(lines)
