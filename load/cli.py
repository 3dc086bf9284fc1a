"""`burst-load`: produce bursts into OCI Queue / Streaming, consume them, observe the cluster, report the run.

Every flag can also be set through an environment variable named ``BURST_LOAD_<FLAG>`` (``--queue-id`` →
``BURST_LOAD_QUEUE_ID``; repeatable flags take a comma-separated list; switches take true/false), so the consumer
runs as a Deployment configured by its environment. A flag on the command line wins over the environment. Only
the chosen command's variables are read.

Every run writes ``timeline.csv`` and ``summary.json`` into its run directory (``--out``, default
``burst-reports/<timestamp>-<command>``); ``burst-load report RUN_DIR`` turns one into ``summary.txt`` and
``timeline.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import logging
import os
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from load.consume import ConsumeReport, QueueConsumer, StreamConsumer, WorkModel
from load.live import Progress
from load.messages import HEAVY, LIGHT
from load.profiles import (
    KINDS,
    Profile,
    ProfileError,
    describe,
    load_profile_file,
    profile_from_spec,
    resolve_profile_file,
)
from load.profiles import planned_count as count_planned
from load.runs import default_run_dir, write_summary
from load.traffic import Mix, SizeDistribution
from scaler.errors import ConfigError
from scaler.settings import OciAuth, OciSettings

log = logging.getLogger(__name__)

ENV_PREFIX = "BURST_LOAD_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class UsageError(Exception):
    """Flags or environment that cannot work together; the message says which and how to fix them."""


# --------------------------------------------------------------------------------------------- env-aware flags


@dataclass(frozen=True)
class _Flag:
    dest: str
    flag: str
    env: str
    default: Any
    convert: Callable[[str], Any]
    kind: str  # "value", "list" or "switch"


_UNSET: Any = object()


def _env_name(flag: str) -> str:
    return ENV_PREFIX + flag.lstrip("-").replace("-", "_").upper()


class _Flags:
    """Adds flags to one sub-command and remembers them, so only that command's environment is read."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser
        self.flags: list[_Flag] = []
        parser.set_defaults(_flags=self.flags)

    def add(self, flag: str, *, default: Any, help: str, type: Callable[[str], Any] = str, **kwargs: Any) -> None:
        env = _env_name(flag)
        dest = flag.lstrip("-").replace("-", "_")
        self.flags.append(_Flag(dest, flag, env, default, type, "value"))
        shown = "none" if default is None else default
        self.parser.add_argument(
            flag, dest=dest, default=_UNSET, type=type, help=f"{help} [env {env}; default: {shown}]", **kwargs
        )

    def repeat(self, flag: str, *, help: str) -> None:
        env = _env_name(flag)
        dest = flag.lstrip("-").replace("-", "_")
        self.flags.append(_Flag(dest, flag, env, [], str, "list"))
        self.parser.add_argument(
            flag, dest=dest, default=None, action="append", help=f"{help} (repeatable) [env {env}, comma-separated]"
        )

    def switch(self, flag: str, *, help: str) -> None:
        env = _env_name(flag)
        dest = flag.lstrip("-").replace("-", "_")
        self.flags.append(_Flag(dest, flag, env, False, str, "switch"))
        self.parser.add_argument(flag, dest=dest, default=_UNSET, action="store_true", help=f"{help} [env {env}]")


def _resolve(args: argparse.Namespace, environ: dict[str, str]) -> None:
    """Fill every flag not given on the command line from its environment variable, else its default."""
    problems = []
    for f in getattr(args, "_flags", []):
        value = getattr(args, f.dest)
        if value is not _UNSET and not (f.kind == "list" and value is None):
            if f.kind == "list":
                value = [item.strip() for raw in value for item in raw.split(",") if item.strip()]
                setattr(args, f.dest, value)
            continue
        raw = environ.get(f.env)
        if raw is None:  # defaults given as text (as argparse does) go through the flag's type too
            setattr(args, f.dest, f.convert(f.default) if isinstance(f.default, str) else f.default)
            continue
        try:
            if f.kind == "switch":
                if raw.strip().lower() not in _TRUE | _FALSE:
                    raise ValueError("expected true or false")
                setattr(args, f.dest, raw.strip().lower() in _TRUE)
            elif f.kind == "list":
                setattr(args, f.dest, [item.strip() for item in raw.split(",") if item.strip()])
            else:
                setattr(args, f.dest, f.convert(raw))
        except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
            problems.append(f"environment variable {f.env}={raw!r} is invalid for {f.flag}: {exc}")
    if problems:
        raise UsageError("; ".join(problems))


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def _work(text: str) -> dict[str, float]:
    """``heavy=0.2,light=0.02`` → {"heavy": 0.2, "light": 0.02}."""
    seconds: dict[str, float] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise argparse.ArgumentTypeError(f"expected CLASS=SECONDS pairs, got {item!r}")
        seconds[name.strip()] = _non_negative(value)
    return seconds


def _pairs(items: Sequence[str]) -> dict[str, str]:
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--metadata expects KEY=VALUE, got {item!r}")
        pairs[name.strip()] = value.strip()
    return pairs


# --------------------------------------------------------------------------------------------- parser


def _common(flags: _Flags, command: str) -> None:
    flags.add(
        "--out",
        default=None,
        help=f"run directory (timeline.csv, summary.json); default burst-reports/<timestamp>-{command}",
    )
    flags.add("--interval", default=1.0, type=_positive, help="seconds between timeline rows and progress updates")
    flags.add(
        "--log-level", default="WARNING", help="logging level (stderr)", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )


def _oci(flags: _Flags) -> None:
    flags.add("--oci-auth", default="config", help="how to authenticate to OCI", choices=[a.value for a in OciAuth])
    flags.add("--oci-config", default="~/.oci/config", help="OCI CLI config file (auth mode config)")
    flags.add("--oci-profile", default="DEFAULT", help="profile in the OCI config file")
    flags.add(
        "--oci-endpoint",
        default=None,
        help="send every Queue and Streaming call to this URL (the local emulator, or a private endpoint)",
    )


def _target(flags: _Flags) -> None:
    flags.add("--target", default="queue", choices=["queue", "stream"], help="OCI Queue or OCI Streaming")
    flags.add("--queue-id", default=None, help="OCID of the queue (--target queue)")
    flags.add("--stream-id", default=None, help="OCID of the stream (--target stream)")


PROFILE_FLAGS: tuple[tuple[str, Callable[[str], Any], str], ...] = (
    ("rate", _non_negative, "constant: msgs/s"),
    ("duration", _positive, "every profile: seconds"),
    ("baseline", _non_negative, "spike: msgs/s outside the spike"),
    ("peak", _non_negative, "spike: msgs/s during the spike"),
    ("start", _non_negative, "spike: seconds until the spike"),
    ("length", _non_negative, "spike: seconds the spike lasts"),
    ("begin", _non_negative, "ramp: msgs/s at the start"),
    ("end", _non_negative, "ramp: msgs/s at the end"),
    ("mean", _non_negative, "sine: mean msgs/s"),
    ("amplitude", _non_negative, "sine: msgs/s above and below the mean"),
    ("period", _positive, "sine: seconds per period"),
    ("steps", str, "step: AT:RATE pairs, e.g. 0:5,30:50,60:5"),
    ("csv", str, "replay: CSV file of time,rate rows"),
    ("scale", _non_negative, "replay: multiply every rate"),
)


def _add_produce(flags: _Flags) -> None:
    _target(flags)
    _oci(flags)
    flags.add(
        "--profile",
        default="spike",
        help=f"one of {', '.join(KINDS)} (parameters from the flags below), a "
        "YAML file, or the name of one in load/profiles/ (flags override its values)",
    )
    for name, convert, text in PROFILE_FLAGS:
        flags.add(f"--{name}", default=None, type=convert, help=text)
    flags.add("--heavy-fraction", default=0.2, type=_non_negative, help="fraction of heavy messages (0..1)")
    flags.add("--heavy-channel", default=HEAVY, help="Queue channel of heavy messages")
    flags.add("--light-channel", default=LIGHT, help="Queue channel of light messages")
    flags.switch("--no-channels", help="Queue: put messages without channel metadata")
    flags.add("--keys-per-class", default=8, type=_count, help="Streaming: distinct keys per class (heavy-0 …)")
    flags.add("--size", default=256, type=_count, help="median message size in bytes (encoded JSON)")
    flags.add("--size-sigma", default=0.0, type=_non_negative, help="lognormal spread of sizes; 0 = fixed size")
    flags.add("--size-max", default=None, type=_count, help="largest message in bytes (default: the service limit)")
    flags.add("--concurrency", default=4, type=_count, help="PutMessages calls in flight at once")
    flags.add(
        "--batch",
        default=None,
        type=_count,
        help="most messages per PutMessages (default: Queue 20, "
        "Streaming 500; Streaming requests also stay under 1 MiB)",
    )
    flags.add("--seed", default=None, type=int, help="seed for sizes and backoff jitter (reproducible runs)")


def _add_consume(flags: _Flags) -> None:
    _target(flags)
    _oci(flags)
    flags.add("--channel", default=None, help="Queue: consume only this channel (e.g. heavy)")
    flags.add("--group", default="burst-load", help="Streaming: consumer group")
    flags.add(
        "--instance",
        default=None,
        help="Streaming: instance name in the group (default: the host name, i.e. "
        "the pod name; with --consumers N, suffixed -0 … -N-1)",
    )
    flags.add(
        "--stream-start",
        default="TRIM_HORIZON",
        choices=["TRIM_HORIZON", "LATEST"],
        help="Streaming: where a new group starts",
    )
    flags.add("--consumers", default=1, type=_count, help="consumer loops in this process")
    flags.add("--batch", default=10, type=_count, help="messages per GetMessages (Queue 1..32)")
    flags.add("--concurrency", default=1, type=_count, help="messages of a batch worked on at once, per consumer")
    flags.add("--work", default=f"{HEAVY}=0.2,{LIGHT}=0.02", type=_work, help="simulated work seconds per class")
    flags.add("--jitter", default=0.0, type=_non_negative, help="vary work time by ± this fraction")
    flags.add(
        "--visibility",
        default=30,
        type=int,
        help="Queue: seconds a received message stays invisible (extended while work goes on)",
    )
    flags.add(
        "--long-poll",
        default=5,
        type=int,
        help="Queue: GetMessages wait in seconds (0..30); a stop waits at most this long for an open poll",
    )
    flags.add("--duration", default=None, type=_positive, help="stop after this many seconds")
    flags.add("--max-messages", default=None, type=_count, help="stop once this many messages are processed")
    flags.add("--idle-exit", default=None, type=_positive, help="stop after this many seconds without a message")
    flags.switch("--log-messages", help="also write messages.csv (one row per processed message) to the run dir")


def _add_observe(flags: _Flags) -> None:
    flags.add("--namespace", default="default", help="namespace of the consumer Deployments")
    flags.repeat("--deployment", help="consumer Deployment to watch (default: all matching --selector)")
    flags.add("--selector", default=None, help="label selector for the Deployments to watch")
    flags.add("--kube", default="auto", choices=["auto", "in-cluster", "kubeconfig"], help="Kubernetes API access")
    flags.add("--kubeconfig", default=None, help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    flags.add("--kube-context", default=None, help="kubeconfig context")
    flags.add("--queue-id", default=None, help="read the backlog with Queue GetStats (visible + in flight)")
    flags.add("--channel", default=None, help="with --queue-id: only this channel's backlog")
    _oci(flags)
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
    flags.add("--duration", default=None, type=_positive, help="stop after this many seconds")
    flags.switch("--until-scaled-back", help="stop once replicas are back to where they started after a peak")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="burst-load",
        description="Produce bursts into OCI Queue / Streaming, consume them, observe the cluster, report the run. "
        "Every flag also reads BURST_LOAD_<FLAG> from the environment.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, helptext, add, run in (
        ("produce", "send a load profile (open loop) to a queue or stream", _add_produce, _produce),
        (
            "consume",
            "reference consumer: process, acknowledge, report latency; graceful on SIGTERM",
            _add_consume,
            _consume,
        ),
        ("observe", "watch replicas, pods per tier and nodes while a burst runs", _add_observe, _observe),
    ):
        command = sub.add_parser(name, help=helptext, description=helptext)
        flags = _Flags(command)
        add(flags)
        _common(flags, name)
        command.set_defaults(func=run)
    report = sub.add_parser("report", help="summary.txt and timeline.png from a run directory")
    report.add_argument("run_dir", metavar="RUN_DIR", type=Path, help="a run directory (timeline.csv, summary.json)")
    _Flags(report).switch("--no-png", help="only the text summary")
    report.set_defaults(func=_report)
    return parser


# --------------------------------------------------------------------------------------------- helpers


def _oci_settings(args: argparse.Namespace, *, read_timeout: float = 10.0) -> OciSettings:
    return OciSettings(
        auth=OciAuth(args.oci_auth),
        config_file=Path(args.oci_config),
        profile=args.oci_profile,
        endpoint=(args.oci_endpoint or "").rstrip("/") or None,
        read_timeout_seconds=read_timeout,
    )


def _target_id(args: argparse.Namespace) -> str:
    if args.target == "queue" and not args.queue_id:
        raise UsageError("--target queue needs --queue-id (or BURST_LOAD_QUEUE_ID)")
    if args.target == "stream" and not args.stream_id:
        raise UsageError("--target stream needs --stream-id (or BURST_LOAD_STREAM_ID)")
    return str(args.queue_id if args.target == "queue" else args.stream_id)


def _run_dir(args: argparse.Namespace, command: str) -> Path:
    return Path(args.out) if args.out else default_run_dir(command, datetime.now())


def _progress() -> Progress:
    return Progress(sys.stdout, interactive=sys.stdout.isatty())


def _started() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def profile_from_args(args: argparse.Namespace) -> Profile:
    """The profile named by ``--profile``, with the explicitly given parameter flags."""
    params = {name: getattr(args, name) for name, _, _ in PROFILE_FLAGS if getattr(args, name) is not None}
    if args.profile in KINDS:
        return profile_from_spec({"kind": args.profile, **params}, base_dir=Path.cwd())
    path = resolve_profile_file(args.profile)
    if path is None:
        raise ProfileError(
            f"--profile {args.profile!r} is neither a kind ({', '.join(KINDS)}) nor a YAML file "
            "(a path, or a name in load/profiles/)"
        )
    return load_profile_file(path, overrides=params)


# --------------------------------------------------------------------------------------------- commands


def _produce(args: argparse.Namespace) -> int:
    from load import oci_clients
    from load.commands import run_produce
    from load.produce import (
        QUEUE_MAX_MESSAGE_BYTES,
        QUEUE_MAX_MESSAGES_PER_PUT,
        STREAM_MAX_MESSAGE_BYTES,
        STREAM_MAX_MESSAGES_PER_PUT,
        QueueProducer,
        StreamProducer,
    )

    target_id = _target_id(args)
    profile = profile_from_args(args)
    planned = count_planned(profile)
    stream = args.target == "stream"
    limit = STREAM_MAX_MESSAGE_BYTES if stream else QUEUE_MAX_MESSAGE_BYTES
    try:
        sizes = SizeDistribution(
            median=args.size, sigma=args.size_sigma, maximum=args.size_max or limit, seed=args.seed or 0
        )
        mix = Mix(
            heavy_fraction=args.heavy_fraction,
            heavy_channel=None if args.no_channels else args.heavy_channel,
            light_channel=None if args.no_channels else args.light_channel,
            keys_per_class=args.keys_per_class,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if sizes.maximum > limit:
        raise UsageError(f"--size-max {sizes.maximum} is above the service limit of {limit} bytes per message")
    run_dir = _run_dir(args, "produce")
    settings = _oci_settings(args)
    common: dict[str, Any] = {
        "profile": profile,
        "mix": mix,
        "sizes": sizes,
        "concurrency": args.concurrency,
        "seed": args.seed,
    }
    producer: QueueProducer | StreamProducer
    if stream:
        producer = StreamProducer(
            client=oci_clients.stream_client(settings, target_id),
            stream_id=target_id,
            batch_limit=args.batch or STREAM_MAX_MESSAGES_PER_PUT,
            **common,
        )
    else:
        producer = QueueProducer(
            client=oci_clients.queue_client(settings, target_id),
            queue_id=target_id,
            batch_limit=args.batch or QUEUE_MAX_MESSAGES_PER_PUT,
            **common,
        )
    progress = _progress()
    progress.message(
        f"burst-load produce: {describe(profile)} → {args.target} {target_id}; {planned} messages "
        f"planned over {profile.duration:g} s; run dir {run_dir}"
    )
    started = _started()
    report = asyncio.run(
        run_produce(producer=producer, planned=planned, run_dir=run_dir, interval=args.interval, progress=progress)
    )
    write_summary(
        run_dir,
        {
            "command": "produce",
            "started_at": started,
            "target": args.target,
            "target_id": target_id,
            "profile": describe(profile),
            "mix": mix,
            "sizes": sizes,
            "report": report,
        },
    )
    print(
        f"produce: planned {report.planned}, sent {report.sent}, failed {report.failed}, throttled {report.throttled} "
        f"calls (retried), unsent {report.unsent}, abandoned {report.abandoned}; {report.duration:.1f} s of "
        f"{report.planned_duration:g} s planned; rate {report.achieved_rate:.1f}/s achieved vs "
        f"{report.planned_rate:.1f}/s planned; lateness p99 {report.lateness_p99 * 1000:.0f} ms\n"
        f"run dir: {run_dir}"
    )
    return 1 if report.failed else 0


def _consume(args: argparse.Namespace) -> int:
    from load import oci_clients
    from load.commands import MessageLog, run_consume

    target_id = _target_id(args)
    try:
        work = WorkModel(seconds=args.work, jitter=args.jitter)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    run_dir = _run_dir(args, "consume")
    run_dir.mkdir(parents=True, exist_ok=True)
    message_log = MessageLog(run_dir / "messages.csv") if args.log_messages else None
    on_processed = message_log.record if message_log is not None else None
    executor = concurrent.futures.ThreadPoolExecutor(
        max_workers=2 * args.consumers + 1, thread_name_prefix="burst-load-consume"
    )
    consumers: list[QueueConsumer | StreamConsumer] = []
    try:
        if args.target == "queue":
            client = oci_clients.queue_client(
                _oci_settings(args, read_timeout=args.long_poll + 10.0), target_id, read_timeout=args.long_poll + 10.0
            )
            for _ in range(args.consumers):
                consumers.append(
                    QueueConsumer(
                        client=client,
                        queue_id=target_id,
                        work=work,
                        channel=args.channel,
                        batch=args.batch,
                        visibility_seconds=args.visibility,
                        long_poll_seconds=args.long_poll,
                        executor=executor,
                        on_processed=on_processed,
                        concurrency=args.concurrency,
                    )
                )
        else:
            client = oci_clients.stream_client(_oci_settings(args), target_id)
            base = args.instance or os.environ.get("HOSTNAME") or socket.gethostname()
            for index in range(args.consumers):
                consumers.append(
                    StreamConsumer(
                        client=client,
                        stream_id=target_id,
                        group=args.group,
                        instance=base if args.consumers == 1 else f"{base}-{index}",
                        work=work,
                        batch=args.batch,
                        start=args.stream_start,
                        executor=executor,
                        on_processed=on_processed,
                        concurrency=args.concurrency,
                    )
                )
    except ValueError as exc:
        executor.shutdown(wait=False)
        raise UsageError(str(exc)) from exc
    progress = _progress()
    progress.message(
        f"burst-load consume: {len(consumers)} consumer(s) on {args.target} {target_id}; run dir {run_dir}"
    )
    started = _started()
    try:
        report: ConsumeReport = asyncio.run(
            run_consume(
                consumers=consumers,
                run_dir=run_dir,
                interval=args.interval,
                progress=progress,
                duration=args.duration,
                max_messages=args.max_messages,
                idle_exit=args.idle_exit,
                message_log=message_log,
            )
        )
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    write_summary(
        run_dir,
        {
            "command": "consume",
            "started_at": started,
            "target": args.target,
            "target_id": target_id,
            "work": work,
            "report": report,
        },
    )
    print(
        f"consume: processed {report.processed} ({report.rate:.1f}/s), released {report.released}, "
        f"ack failures {report.ack_failures}; latency send→done p50 {report.latency_p50:.3f} s, "
        f"p95 {report.latency_p95:.3f} s, p99 {report.latency_p99:.3f} s\n"
        f"run dir: {run_dir}"
    )
    return 0


def _kube_api(args: argparse.Namespace) -> Any:
    from kubernetes import client, config

    mode = args.kube
    if mode == "auto":
        mode = "in-cluster" if os.environ.get("KUBERNETES_SERVICE_HOST") else "kubeconfig"
    try:
        if mode == "in-cluster":
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            return client.ApiClient(configuration)
        return config.new_client_from_config(config_file=args.kubeconfig, context=args.kube_context)  # type: ignore[no-untyped-call]
    except Exception as exc:
        raise ConfigError(
            f"cannot set up Kubernetes access ({mode}): {exc}. Check --kube, --kubeconfig and --kube-context."
        ) from exc


def _observe(args: argparse.Namespace) -> int:
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
    run_dir = _run_dir(args, "observe")
    reads = ClusterReads(
        api=_kube_api(args), namespace=args.namespace, deployments=args.deployment, selector=args.selector
    )
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="burst-load-observe")
    timeline = TimelineWriter(run_dir)
    progress = _progress()

    async def main() -> Any:
        backlog: BacklogReader | None = None
        channel = None
        if args.queue_id:
            client = oci_clients.queue_client(_oci_settings(args), args.queue_id)
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
    started = _started()
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


def _report(args: argparse.Namespace) -> int:
    from load.report import run_report

    return run_report(args.run_dir, out=sys.stdout, err=sys.stderr, png=not args.no_png)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _resolve(args, dict(os.environ))
    except UsageError as exc:
        parser.error(str(exc))
    if getattr(args, "log_level", None):
        logging.basicConfig(
            level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
        )
    try:
        result: int = args.func(args)
    except (UsageError, ProfileError, ConfigError) as exc:
        print(f"burst-load {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, asyncio.CancelledError):
        print(f"burst-load {args.command}: interrupted", file=sys.stderr)
        return 130
    return result
