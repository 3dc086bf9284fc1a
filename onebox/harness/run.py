"""The whole three-layer story on one machine: emulator, scaler, KEDA/HPA loops, cluster model, real consumers.

One run: a spike of messages (a heavy/light mix) lands on an OCI Queue in the emulator. A spill-over pair of
ScaledObjects (managed + virtual, one group) is driven by KEDA/HPA loops that call the real scaler over gRPC.
The cluster model starts virtual pods in seconds and managed pods only once Karpenter nodes arrive; every Running
pod is a real consumer draining the queue through the SDK. A recorder samples the timeline; at the end the run
checks that every produced message was consumed and writes the report.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import grpc

from load.consume import Processed
from load.consume_queue import QueueConsumer
from load.oci_clients import queue_client
from load.produce import QueueProducer
from load.profiles import SpikeProfile
from load.traffic import Mix, SizeDistribution
from oci_emulator import Emulator
from onebox.harness.cluster import ClusterModel, ClusterSnapshot
from onebox.harness.config import HarnessConfig, scaled_objects
from onebox.harness.keda import KedaLoop
from onebox.harness.kubeview import ModelClusterReader
from onebox.harness.pods import MANAGED, VIRTUAL
from onebox.harness.report import Row, RunReport, write_report
from scaler.app import ScalerApp
from scaler.settings import KubeMode, KubeSettings, OciSettings, Settings

log = logging.getLogger(__name__)


@dataclass
class _Ledger:
    """Every sequence id produced and consumed, for the no-loss check."""

    produced: set[int] = field(default_factory=set)
    consumed: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    def record(self, message: Processed) -> None:
        self.consumed[message.seq] = self.consumed.get(message.seq, 0) + 1
        self.latencies.append(message.done_at - message.sent_at)


async def run_harness(
    *,
    config: HarnessConfig,
    out_dir: Path | None = None,
    on_row: Callable[[Row], None] | None = None,
    stream: TextIO | None = None,
) -> RunReport:
    """Run one burst end to end; returns the report (also written to ``out_dir`` when given)."""
    with (
        tempfile.TemporaryDirectory(prefix="burst-harness-") as tmp,
        Emulator(host="127.0.0.1", port=0) as emulator,
        concurrent.futures.ThreadPoolExecutor(max_workers=48, thread_name_prefix="sdk") as executor,
    ):
        config_path = emulator.write_config(Path(tmp) / "config")
        queue_id = emulator.create_queue("orders", visibility_in_seconds=30)

        oci_settings = OciSettings(config_file=config_path, endpoint=emulator.url)

        def client() -> Any:
            return queue_client(oci_settings, queue_id)

        ledger = _Ledger()
        specs = scaled_objects(queue_id, config)

        def worker(deployment: str, pod: str) -> QueueConsumer:
            return QueueConsumer(
                client=client(), queue_id=queue_id, work=config.work, executor=executor, on_processed=ledger.record
            )

        model = ClusterModel(spec=config.cluster, worker_factory=worker)
        targets = {"orders-managed": "orders-managed", "orders-virtual": "orders-virtual"}
        model.add_deployment("orders-managed", MANAGED)
        model.add_deployment("orders-virtual", VIRTUAL)
        reader = ModelClusterReader(model=model, scaled_objects=specs, targets=targets)

        def scaler(port: int) -> ScalerApp:
            settings = Settings(
                address=f"127.0.0.1:{port}",
                metrics_address=None,
                oci=oci_settings,
                kube=KubeSettings(mode=KubeMode.OFF),
                kube_ttl_seconds=0.5,
                cache_ttl_seconds=0.5,
                push_interval_seconds=0.5,
                grace_seconds=1.0,
            )
            return ScalerApp(settings=settings, kube_reader=reader)

        app = scaler(0)
        await app.start()
        port = app.port
        stop = asyncio.Event()
        started = time.monotonic()
        rows: list[Row] = []
        events: dict[str, float] = {}
        profile = config.profile or SpikeProfile(
            baseline=config.baseline_rate,
            peak=config.spike_rate,
            start=config.spike_start,
            length=config.spike_seconds,
            duration=config.produce_seconds,
        )
        producer = QueueProducer(
            client=client(),
            queue_id=queue_id,
            profile=profile,
            mix=Mix(heavy_fraction=config.heavy_fraction),
            sizes=SizeDistribution(),
            executor=executor,
            on_sent=lambda envelope: ledger.produced.add(envelope.seq),
        )
        stats_client = client()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")

        def since_start() -> float:
            """The loops' clock: their scale events and last-active times line up with the timeline's."""
            return time.monotonic() - started

        loops = [
            KedaLoop(channel=channel, spec=spec, target=model.deployments[targets[name]], clock=since_start)
            for name, spec in specs.items()
        ]
        tasks = [asyncio.create_task(model.run(stop))] + [asyncio.create_task(loop.run(stop)) for loop in loops]
        produce_task = asyncio.create_task(producer.run())
        restarted = False
        try:
            while time.monotonic() - started < config.max_seconds:
                now = time.monotonic() - started
                stats = await asyncio.get_running_loop().run_in_executor(
                    executor, lambda: stats_client.get_stats(queue_id).data.queue
                )
                snapshot = model.snapshot()
                row = _row(now, stats.visible_messages + stats.in_flight_messages, snapshot, ledger)
                rows.append(row)
                _events(events, row, model, started)
                if on_row is not None:
                    on_row(row)
                if config.restart_scaler_at is not None and not restarted and now >= config.restart_scaler_at:
                    restarted = True
                    events["scaler_stopped"] = now
                    await app.stop()
                    await asyncio.sleep(config.restart_gap)
                    app = scaler(port)
                    await app.start()
                    events["scaler_restarted"] = time.monotonic() - started
                at_rest = all(row.replicas.get(name, 0) <= spec.min_replicas for name, spec in specs.items())
                if config.until_nodes_gone:
                    at_rest = at_rest and row.nodes + row.provisioning <= config.cluster.fixed_managed_nodes
                if produce_task.done() and row.backlog == 0 and at_rest:
                    events.setdefault("scaled_to_zero", now)
                    break
                await asyncio.sleep(config.sample_interval)
        finally:
            stop.set()
            if not produce_task.done():
                produce_task.cancel()
            produce_report = None
            with contextlib.suppress(asyncio.CancelledError):
                produce_report = await produce_task
            await asyncio.gather(*tasks, return_exceptions=True)
            await model.shutdown()
            await channel.close(None)
            await app.stop()
        report = RunReport.build(
            rows=rows,
            events=events,
            produced=ledger.produced,
            consumed=ledger.consumed,
            latencies=ledger.latencies,
            produce=produce_report,
            keda={loop_name: loop.stats for loop_name, loop in zip(specs, loops, strict=True)},
            config=config,
            karpenter_nodes=model.karpenter.created,
        )
        if out_dir is not None:
            write_report(report, out_dir, stream=stream)
        return report


def _row(now: float, backlog: int, snapshot: ClusterSnapshot, ledger: _Ledger) -> Row:
    return Row(
        t=round(now, 2),
        backlog=backlog,
        replicas=dict(snapshot.replicas),
        running_virtual=snapshot.running[VIRTUAL],
        running_managed=snapshot.running[MANAGED],
        pending=snapshot.pending,
        nodes=snapshot.nodes,
        provisioning=snapshot.provisioning,
        produced=len(ledger.produced),
        consumed=len(ledger.consumed),
    )


def _events(events: dict[str, float], row: Row, model: ClusterModel, started: float) -> None:
    if row.backlog > 0:
        events.setdefault("first_backlog", row.t)
    if row.running_virtual > 0:
        events.setdefault("first_virtual_running", row.t)
    if model.karpenter.first_ready is not None:
        events.setdefault("first_karpenter_node_ready", model.karpenter.first_ready - started)
    if row.running_managed > 1:  # beyond the fixed node's first pod
        events.setdefault("managed_scaled", row.t)
    peak_virtual = events.get("peak_virtual_replicas", 0.0)
    virtual = row.replicas.get("orders-virtual", 0)
    if virtual > peak_virtual:
        events["peak_virtual_replicas"] = float(virtual)
        events["peak_virtual_at"] = row.t
    if "peak_virtual_at" in events and virtual < events["peak_virtual_replicas"]:
        events.setdefault("virtual_handback_started", row.t)
    peak_managed = events.get("peak_managed_replicas", 0.0)
    managed = row.replicas.get("orders-managed", 0)
    if managed > peak_managed:
        events["peak_managed_replicas"] = float(managed)
    if "peak_managed_replicas" in events and managed < events["peak_managed_replicas"]:
        events.setdefault("managed_handback_started", row.t)
    if row.backlog > events.get("peak_backlog", 0.0):
        events["peak_backlog"] = float(row.backlog)
        events["peak_backlog_at"] = row.t
        events.pop("drained", None)
    if "peak_backlog_at" in events and row.backlog == 0 and row.consumed >= row.produced:
        events.setdefault("drained", row.t)
