"""`burst-scaler demo --lab`: the demo's burst story on the real-cluster lab, with the same live view and report.

The model harness (onebox.harness.run) decides replica counts with our stand-ins for KEDA, the HPA and Karpenter;
here every replica count is a real KEDA and HPA decision, every placement the real scheduler's, every extra managed
node real Karpenter's, and every Running pod a real consumer (onebox.lab.consumers). The ScaledObjects are
deploy/examples/spillover's, with the run's target, caps, polling interval, cooldown and the virtual member's
scale-down window set from the same HarnessConfig the model runs, so the two timelines can be laid side by side.
The HPA sync period, its rate-policy periods and the legacy path's 300 s window are kube-controller-manager's own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import csv
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import oci
from kubernetes import client, config

from load.oci_clients import queue_client
from load.produce import QueueProducer
from load.profiles import SpikeProfile
from load.traffic import Mix, SizeDistribution
from onebox.harness.config import HarnessConfig
from onebox.harness.report import Row, RunReport, write_report
from onebox.lab import kubectl, up
from onebox.lab.layout import Layout, load
from onebox.lab.objects import DEPLOY
from scaler.settings import OciSettings

NAMESPACE = "lab-demo"
MANAGED, VIRTUAL = "orders-managed", "orders-virtual"


def _configure(obj: dict[str, Any], queue_id: str, cfg: HarnessConfig) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    obj["metadata"]["namespace"] = NAMESPACE
    if obj["kind"] == "Namespace":
        obj["metadata"] = {"name": NAMESPACE}
    if obj["kind"] == "ConfigMap":
        obj["data"]["BURST_LOAD_QUEUE_ID"] = queue_id
        obj["data"]["BURST_LOAD_WORK"] = ",".join(f"{k}={v:g}" for k, v in cfg.work.seconds.items())
    if obj["kind"] == "ScaledObject":
        spec = obj["spec"]
        managed = obj["metadata"]["name"] == MANAGED
        spec["pollingInterval"] = max(1, round(cfg.polling_interval))
        spec["cooldownPeriod"] = max(1, round(cfg.cooldown_period))
        spec["maxReplicaCount"] = cfg.managed_max if managed else cfg.virtual_max
        trigger = spec["triggers"][0]["metadata"]
        trigger.update(queueId=queue_id, targetBacklogPerReplica=f"{cfg.target_per_replica:g}")
        trigger["maxReplicas"] = str(spec["maxReplicaCount"])
        if managed:
            trigger.update(dict(cfg.managed_metadata))
        else:
            trigger["managedMaxReplicas"] = str(cfg.managed_max)
            window = max(0, round(cfg.scale_down_stabilization))
            spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] = (
                window
            )
    return obj


def _for_mode(objects: list[dict[str, Any]], cfg: HarnessConfig) -> list[dict[str, Any]]:
    """The example's objects for ``cfg.mode``, as onebox.harness.config builds the model's ScaledObjects.

    ``spillover`` keeps the pair; ``two-plain`` drops the group from both triggers; ``all-virtual`` and
    ``all-managed`` keep one ScaledObject, without its group, capped at both caps together, and pin the other tier's
    Deployment to zero replicas.
    """
    if cfg.mode == "spillover":
        return objects
    keep = {"all-virtual": (VIRTUAL,), "all-managed": (MANAGED,)}.get(cfg.mode, (MANAGED, VIRTUAL))
    shaped = []
    for obj in objects:
        name = obj["metadata"].get("name")
        if obj["kind"] == "ScaledObject":
            if name not in keep:
                continue
            trigger = obj["spec"]["triggers"][0]["metadata"]
            for key in ("group", "managedMaxReplicas", *dict(cfg.managed_metadata)):
                trigger.pop(key, None)
            if len(keep) == 1:
                obj["spec"]["maxReplicaCount"] = cfg.managed_max + cfg.virtual_max
                trigger["maxReplicas"] = str(obj["spec"]["maxReplicaCount"])
        if obj["kind"] == "Deployment" and name not in keep:
            obj["spec"]["replicas"] = 0
        shaped.append(obj)
    return shaped


class _Consumed:
    """What the lab's consumers processed, read from their messages.csv files (seq → deliveries, and waits)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def read(self) -> tuple[dict[int, int], list[float]]:
        counts: dict[int, int] = {}
        waits: list[float] = []
        for path in self._directory.glob(f"{NAMESPACE}.*/**/messages.csv"):
            with path.open() as rows:
                for row in csv.DictReader(rows):
                    seq = int(row["seq"])
                    counts[seq] = counts.get(seq, 0) + 1
                    waits.append(float(row["done_at"]) - float(row["sent_at"]))
        return counts, waits


def _create_queue(oci_config: dict[str, Any], endpoint: str, compartment: str) -> str:
    admin = oci.queue.QueueAdminClient(oci_config, service_endpoint=endpoint)
    details = oci.queue.models.CreateQueueDetails(display_name=f"demo-{int(time.time())}", compartment_id=compartment)
    work_request = admin.get_work_request(admin.create_queue(details).headers["opc-work-request-id"]).data
    queue_id: str = work_request.resources[0].identifier
    deadline = time.monotonic() + 30
    while admin.get_queue(queue_id).data.lifecycle_state != "ACTIVE" and time.monotonic() < deadline:
        time.sleep(0.2)
    return queue_id


class _Cluster:
    """One look at the demo's tiers: replicas, Running and Pending pods, managed nodes and NodeClaims."""

    def __init__(self, layout: Layout) -> None:
        api = config.new_client_from_config(config_file=str(layout.admin_kubeconfig))  # type: ignore[no-untyped-call]
        # the client's models type every field Optional; these reads are of objects the API server just returned
        self.apps: Any = client.AppsV1Api(api)
        self.core: Any = client.CoreV1Api(api)
        self.custom: Any = client.CustomObjectsApi(api)

    def look(self) -> dict[str, Any]:
        replicas = {
            n: int(self.apps.read_namespaced_deployment(n, NAMESPACE).spec.replicas or 0) for n in (MANAGED, VIRTUAL)
        }
        running = {MANAGED: 0, VIRTUAL: 0}
        pending = 0
        for pod in self.core.list_namespaced_pod(NAMESPACE).items:
            if pod.metadata.deletion_timestamp is not None:
                continue
            tier = MANAGED if pod.metadata.name.startswith(MANAGED) else VIRTUAL
            if pod.status.phase == "Running":
                running[tier] += 1
            elif pod.status.phase == "Pending":
                pending += 1
        nodes = self.core.list_node(label_selector="workload-type=stateful").items
        ready = [n for n in nodes if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])]
        claims = self.custom.list_cluster_custom_object("karpenter.sh", "v1", "nodeclaims")["items"]
        launched = [
            c
            for c in claims
            if not any(
                x["type"] == "Ready" and x["status"] == "True" for x in c.get("status", {}).get("conditions", [])
            )
        ]
        return {
            "claim_names": [c["metadata"]["name"] for c in claims],
            "replicas": replicas,
            "running": running,
            "pending": pending,
            "nodes": len(ready),
            "provisioning": len(launched),
            "claims": len(claims),
        }


def _writer(stream: TextIO | None) -> Callable[[str], None]:
    def write(line: str) -> None:
        if stream is not None:
            stream.write(line + "\n")

    return write


async def run_lab_story(
    *,
    cfg: HarnessConfig,
    out_dir: Path | None,
    on_row: Callable[[Row], None] | None = None,
    stream: TextIO | None = None,
) -> RunReport:
    """Run the burst on the running lab (starting one, and stopping it after, when none runs)."""
    state = load()
    owned = state is None or not up.status()["ready"]
    if owned:
        up.up(examples=False, report=_writer(stream))
        state = load()
    assert state is not None
    layout = state[0]
    try:
        return await _run(layout, cfg, out_dir, on_row, stream)
    finally:
        kubectl.run(layout.admin_kubeconfig, ["delete", "namespace", NAMESPACE, "--wait=false", "--ignore-not-found"])
        if owned:
            up.down(report=lambda _: None)


async def _run(
    layout: Layout,
    cfg: HarnessConfig,
    out_dir: Path | None,
    on_row: Callable[[Row], None] | None,
    stream: TextIO | None,
) -> RunReport:
    settings = OciSettings(config_file=layout.oci_config, endpoint=layout.emulator_url)
    oci_config = oci.config.from_file(str(layout.oci_config))
    queue_id = _create_queue(oci_config, layout.emulator_url, str(up.status()["compartment_id"]))
    objects = _for_mode([_configure(o, queue_id, cfg) for o in kubectl.render(DEPLOY / "examples" / "spillover")], cfg)
    kubectl.apply(layout.admin_kubeconfig, objects)
    scaled = [o["metadata"]["name"] for o in objects if o["kind"] == "ScaledObject"]
    cluster = _Cluster(layout)
    consumed = _Consumed(layout.path("consumers"))
    produced: set[int] = set()
    profile = cfg.profile or SpikeProfile(
        baseline=cfg.baseline_rate,
        peak=cfg.spike_rate,
        start=cfg.spike_start,
        length=cfg.spike_seconds,
        duration=cfg.produce_seconds,
    )
    loop = asyncio.get_running_loop()
    with concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="lab-demo") as executor:
        producer = QueueProducer(
            client=queue_client(settings, queue_id),
            queue_id=queue_id,
            profile=profile,
            mix=Mix(heavy_fraction=cfg.heavy_fraction),
            sizes=SizeDistribution(),
            executor=executor,
            on_sent=lambda envelope: produced.add(envelope.seq),
        )
        stats = queue_client(settings, queue_id)
        # KEDA has taken both ScaledObjects (Ready, HPA built) and opened their push streams before traffic starts
        await loop.run_in_executor(executor, _wait_for_keda, layout, scaled)
        await asyncio.sleep(cfg.polling_interval)
        started = time.monotonic()
        produce = asyncio.create_task(producer.run())
        rows: list[Row] = []
        events: dict[str, float] = {}
        first_node: float | None = None
        launched: set[str] = set()
        restarted = False
        try:
            while time.monotonic() - started < cfg.max_seconds:
                now = time.monotonic() - started
                queue = await loop.run_in_executor(executor, lambda: stats.get_stats(queue_id).data.queue)
                look = await loop.run_in_executor(executor, cluster.look)
                launched.update(look["claim_names"])
                counts, _ = await loop.run_in_executor(executor, consumed.read)
                row = Row(
                    t=round(now, 2),
                    backlog=int(queue.visible_messages + queue.in_flight_messages),
                    replicas=look["replicas"],
                    running_virtual=look["running"][VIRTUAL],
                    running_managed=look["running"][MANAGED],
                    pending=look["pending"],
                    nodes=look["nodes"],
                    provisioning=look["provisioning"],
                    produced=len(produced),
                    consumed=len(set(counts) & produced),
                )
                rows.append(row)
                if first_node is None and look["nodes"] > 1:
                    first_node = now
                    events["first_karpenter_node_ready"] = now
                _note(events, row)
                if on_row is not None:
                    on_row(row)
                if cfg.restart_scaler_at is not None and not restarted and now >= cfg.restart_scaler_at:
                    restarted = True  # a rolling update of the scaler, as the model's run does it
                    events["scaler_stopped"] = now
                    await loop.run_in_executor(executor, up.stop_scaler)
                    await asyncio.sleep(cfg.restart_gap)
                    await loop.run_in_executor(executor, up.start_scaler)
                    events["scaler_restarted"] = time.monotonic() - started
                at_rest = row.replicas[VIRTUAL] == 0 and row.replicas[MANAGED] <= 1
                if produce.done() and row.backlog == 0 and row.consumed >= row.produced and at_rest:
                    events.setdefault("scaled_to_zero", now)
                    break
                await asyncio.sleep(cfg.sample_interval)
        finally:
            if not produce.done():
                produce.cancel()
            report_of_produce = None
            with contextlib.suppress(asyncio.CancelledError):
                report_of_produce = await produce
    counts, waits = consumed.read()
    report = RunReport.build(
        rows=rows,
        events=events,
        produced=produced,
        consumed=counts,
        latencies=waits,
        produce=report_of_produce,
        keda={},
        config=cfg,
        karpenter_nodes=len(launched),
    )
    if out_dir is not None:
        write_report(report, out_dir, stream=stream)
    return report


def _wait_for_keda(layout: Layout, names: list[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    for name in names:
        while True:
            try:
                kubectl.run(layout.admin_kubeconfig, ["get", "hpa", f"keda-hpa-{name}", "-n", NAMESPACE])
                kubectl.run(
                    layout.admin_kubeconfig,
                    ["wait", "--for=condition=Ready", f"scaledobject/{name}", "-n", NAMESPACE, "--timeout=5s"],
                )
                break
            except kubectl.KubectlError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)


def _note(events: dict[str, float], row: Row) -> None:
    """The same events the model's run records, from the same rows."""
    if row.running_virtual > 0:
        events.setdefault("first_virtual_running", row.t)
    for name, key in ((VIRTUAL, "virtual"), (MANAGED, "managed")):
        count = row.replicas.get(name, 0)
        if count > events.get(f"peak_{key}_replicas", 0.0):
            events[f"peak_{key}_replicas"] = float(count)
            events[f"peak_{key}_at"] = row.t
        elif f"peak_{key}_at" in events and count < events[f"peak_{key}_replicas"]:
            events.setdefault(f"{key}_handback_started", row.t)
    if row.backlog > events.get("peak_backlog", 0.0):
        events["peak_backlog"] = float(row.backlog)
        events["peak_backlog_at"] = row.t
        events.pop("drained", None)
    if "peak_backlog_at" in events and row.backlog == 0 and row.consumed >= row.produced:
        events.setdefault("drained", row.t)
