"""`burst-load observe`: its flags and its handler (Kubernetes client, backlog source, observer; run; report)."""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
from collections.abc import Sequence
from typing import Any

from load import cli_common as common
from load.cli_common import UsageError, positive
from load.runs import write_summary
from scaler.flags import EnvFlags, add_kube_flags, add_oci_flags, kube_settings_from, oci_settings_from
from scaler.settings import KubeMode

HELP = "watch replicas, pods per tier and nodes while a burst runs"


def add_arguments(flags: EnvFlags) -> None:
    flags.add("--namespace", default="default", help="namespace of the consumer Deployments")
    flags.repeat("--deployment", help="consumer Deployment to watch (default: all matching --selector)")
    flags.add("--selector", default=None, help="label selector for the Deployments to watch")
    add_kube_flags(
        flags,
        modes=[KubeMode.AUTO, KubeMode.IN_CLUSTER, KubeMode.KUBECONFIG],
        help="Kubernetes API access",
        kubeconfig_help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)",
    )
    flags.add("--queue-id", default=None, help="read the backlog with Queue GetStats (visible + in flight)")
    flags.add("--channel", default=None, help="with --queue-id: only this channel's backlog")
    add_oci_flags(flags)
    flags.add(
        "--scaler-address",
        default=None,
        help="read the backlog as the scaler's GetMetrics value "
        "(HOST:PORT, plaintext) for the ScaledObject given by --scaled-object and --metadata",
    )
    flags.add(
        "--scaled-object", default="burst-load", help="ScaledObject name sent to the scaler (namespace: --namespace)"
    )
    flags.repeat("--metadata", help="trigger metadata KEY=VALUE sent to the scaler (e.g. source=oci-queue)")
    flags.add("--duration", default=None, type=positive, help="stop after this many seconds")
    flags.switch("--until-scaled-back", help="stop once replicas are back to where they started after a peak")


def _pairs(items: Sequence[str]) -> dict[str, str]:
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--metadata expects KEY=VALUE, got {item!r}")
        pairs[name.strip()] = value.strip()
    return pairs


def _kube_api(args: argparse.Namespace) -> Any:
    from scaler.kube import api_client

    return api_client(kube_settings_from(args), fix="Check --kube, --kubeconfig and --kube-context.", required=True)


def run(args: argparse.Namespace) -> int:
    from load import oci_clients
    from load.commands import observe_progress, run_observe
    from load.observe import BacklogReader, ClusterObserver, ClusterReads, QueueStatsBacklog, ScalerBacklog
    from load.runs import TimelineWriter

    if args.queue_id and args.scaler_address:
        raise UsageError("give --queue-id or --scaler-address for the backlog, not both")
    metadata = _pairs(args.metadata)
    if args.scaler_address and not metadata:
        raise UsageError(
            "--scaler-address needs the ScaledObject's trigger metadata: --metadata source=oci-queue "
            "--metadata queueId=... (repeatable)"
        )
    run_dir = common.run_dir(args, "observe")
    reads = ClusterReads(
        api=_kube_api(args), namespace=args.namespace, deployments=args.deployment, selector=args.selector
    )
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="burst-load-observe")
    timeline = TimelineWriter(run_dir)
    progress = common.progress()

    async def main() -> Any:
        backlog: BacklogReader | None = None
        channel = None
        if args.queue_id:
            settings = oci_settings_from(args, read_timeout_seconds=10.0)
            client = oci_clients.queue_client(settings, args.queue_id)
            backlog = QueueStatsBacklog(client=client, queue_id=args.queue_id, channel=args.channel, executor=executor)
        elif args.scaler_address:
            import grpc

            channel = grpc.aio.insecure_channel(args.scaler_address)
            backlog = ScalerBacklog(
                channel=channel, name=args.scaled_object, namespace=args.namespace, metadata=metadata
            )
        observer = ClusterObserver(
            reads=reads,
            backlog=backlog,
            interval=args.interval,
            duration=args.duration,
            until_scaled_back=args.until_scaled_back,
            executor=executor,
            on_sample=observe_progress(progress, timeline),
        )
        try:
            return await run_observe(observer=observer), (backlog.source if backlog else None)
        finally:
            if channel is not None:
                await channel.close(None)

    progress.message(f"burst-load observe: namespace {args.namespace}; run dir {run_dir}")
    started = common.started()
    try:
        report, source = asyncio.run(main())
    finally:
        timeline.close()
        executor.shutdown(wait=False, cancel_futures=True)
    write_summary(
        run_dir,
        {
            "command": "observe",
            "started_at": started,
            "namespace": args.namespace,
            "backlog_source": source,
            "report": report,
        },
    )
    m = report.milestones

    def at(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} s"

    print(
        f"observe: {report.samples} samples over {report.duration:.1f} s; times from {m.reference}: first new pod "
        f"{at(m.first_new_pod)}, running {at(m.first_new_pod_running)}, peak {m.peak_replicas} replicas "
        f"{at(m.peak)}, drained {at(m.drained)}, scaled back {at(m.scaled_back)}; peak pods "
        f"{dict(report.peak_pods)}; nodes added {report.nodes_added}; nodeclaims "
        f"{'-' if report.nodeclaims_created is None else report.nodeclaims_created}\n"
        f"run dir: {run_dir}"
    )
    return 0
