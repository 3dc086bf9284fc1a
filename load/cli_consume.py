"""`burst-load consume`: its flags and its handler (build the consumers on one client and pool; run; report)."""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import socket
from collections.abc import Callable

from load import cli_common as common
from load.cli_common import UsageError, count, non_negative, positive
from load.consume import ConsumeReport, Processed, WorkModel
from load.consume_queue import QueueConsumer
from load.consume_stream import StreamConsumer
from load.messages import HEAVY, LIGHT
from load.runs import write_summary
from scaler.flags import EnvFlags, add_oci_flags, oci_settings_from

HELP = "reference consumer: process, acknowledge, report latency; graceful on SIGTERM"


def work_seconds(text: str) -> dict[str, float]:
    """``heavy=0.2,light=0.02`` → {"heavy": 0.2, "light": 0.02}."""
    seconds: dict[str, float] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise argparse.ArgumentTypeError(f"expected CLASS=SECONDS pairs, got {item!r}")
        seconds[name.strip()] = non_negative(value)
    return seconds


def add_arguments(flags: EnvFlags) -> None:
    common.add_target(flags)
    add_oci_flags(flags)
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
    flags.add("--consumers", default=1, type=count, help="consumer loops in this process")
    flags.add("--batch", default=10, type=count, help="messages per GetMessages (Queue 1..32)")
    flags.add("--concurrency", default=1, type=count, help="messages of a batch worked on at once, per consumer")
    flags.add("--work", default=f"{HEAVY}=0.2,{LIGHT}=0.02", type=work_seconds, help="simulated work seconds per class")
    flags.add("--jitter", default=0.0, type=non_negative, help="vary work time by ± this fraction")
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
    flags.add("--duration", default=None, type=positive, help="stop after this many seconds")
    flags.add("--max-messages", default=None, type=count, help="stop once this many messages are processed")
    flags.add("--idle-exit", default=None, type=positive, help="stop after this many seconds without a message")
    flags.switch("--log-messages", help="also write messages.csv (one row per processed message) to the run dir")


def _consumers(
    args: argparse.Namespace,
    target_id: str,
    work: WorkModel,
    executor: concurrent.futures.Executor,
    on_processed: Callable[[Processed], None] | None,
) -> list[QueueConsumer | StreamConsumer]:
    from load import oci_clients

    consumers: list[QueueConsumer | StreamConsumer] = []
    if args.target == "queue":
        read_timeout = args.long_poll + 10.0
        settings = oci_settings_from(args, read_timeout_seconds=read_timeout)
        client = oci_clients.queue_client(settings, target_id, read_timeout=read_timeout)
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
        return consumers
    client = oci_clients.stream_client(oci_settings_from(args, read_timeout_seconds=10.0), target_id)
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
    return consumers


def run(args: argparse.Namespace) -> int:
    from load.commands import MessageLog, run_consume

    target_id = common.target_id(args)
    try:
        work = WorkModel(seconds=args.work, jitter=args.jitter)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    run_dir = common.run_dir(args, "consume")
    run_dir.mkdir(parents=True, exist_ok=True)
    message_log = MessageLog(run_dir / "messages.csv") if args.log_messages else None
    on_processed = message_log.record if message_log is not None else None
    executor = concurrent.futures.ThreadPoolExecutor(
        max_workers=2 * args.consumers + 1, thread_name_prefix="burst-load-consume"
    )
    try:
        consumers = _consumers(args, target_id, work, executor, on_processed)
    except ValueError as exc:
        executor.shutdown(wait=False)
        raise UsageError(str(exc)) from exc
    progress = common.progress()
    progress.message(
        f"burst-load consume: {len(consumers)} consumer(s) on {args.target} {target_id}; run dir {run_dir}"
    )
    started = common.started()
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
