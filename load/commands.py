"""The long-running part of each burst-load command: run the worker, sample it, stop it cleanly on a signal.

The CLI builds the producer, consumers or observer; these functions drive them inside one event loop, write one
timeline row and one progress update per interval, and turn SIGINT/SIGTERM into the graceful ``stop`` event (a
second signal cancels outright). They return the report; the CLI writes the summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from load.consume import ConsumeReport, Processed
from load.consume_queue import QueueConsumer
from load.consume_stream import StreamConsumer
from load.live import Progress
from load.observe import ClusterObserver
from load.observe_model import TIERS, ObserveReport, Sample
from load.produce import ProduceReport, QueueProducer, StreamProducer
from load.runs import TimelineWriter
from load.stats import LatencyHistogram


def install_stop_signals(stop: asyncio.Event, main: asyncio.Task[Any] | None = None) -> Callable[[], None]:
    """First SIGINT/SIGTERM sets ``stop`` (graceful); a second one cancels ``main``. Returns an uninstaller."""
    loop = asyncio.get_running_loop()
    received: list[int] = []

    def handle(signum: int) -> None:
        received.append(signum)
        if len(received) == 1:
            stop.set()
        elif main is not None:
            main.cancel()

    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on the main thread, or no such signal
            loop.add_signal_handler(signum, handle, signum)
            installed.append(signum)

    def uninstall() -> None:
        for signum in installed:
            loop.remove_signal_handler(signum)

    return uninstall


def _f(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}"


async def run_produce(
    *,
    producer: QueueProducer | StreamProducer,
    planned: int,
    run_dir: Path,
    interval: float,
    progress: Progress,
    stop: asyncio.Event | None = None,
) -> ProduceReport:
    stop = stop or asyncio.Event()
    task = asyncio.create_task(producer.run(stop))
    uninstall = install_stop_signals(stop, task)
    timeline = TimelineWriter(run_dir)
    last_t, last_due, last_sent = 0.0, 0, 0
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=interval)
            p = producer.progress()
            span = max(p.elapsed - last_t, 1e-9)
            planned_rate, sent_rate = (p.due - last_due) / span, (p.sent - last_sent) / span
            last_t, last_due, last_sent = p.elapsed, p.due, p.sent
            timeline.write(
                {
                    "t": round(p.elapsed, 3),
                    "due": p.due,
                    "sent": p.sent,
                    "planned_rate": planned_rate,
                    "sent_rate": sent_rate,
                    "throttled": p.throttled,
                    "failed": p.failed,
                    "errors": p.errors,
                    "in_flight": p.in_flight,
                    "lateness_p99": p.lateness_p99,
                }
            )
            progress.show(
                title=f"burst-load produce → {producer.target}   {_f(p.elapsed)} s",
                header=["", "due", "sent", "planned/s", "sent/s", "throttled", "failed", "in flight", "late p99"],
                rows=[
                    [
                        "total",
                        f"{p.due}/{planned}",
                        str(p.sent),
                        _f(planned_rate),
                        _f(sent_rate),
                        str(p.throttled),
                        str(p.failed),
                        str(p.in_flight),
                        f"{p.lateness_p99 * 1000:.0f} ms",
                    ]
                ],
                line=f"t={_f(p.elapsed)}s due={p.due}/{planned} sent={p.sent} planned/s={_f(planned_rate)} "
                f"sent/s={_f(sent_rate)} throttled={p.throttled} failed={p.failed} in_flight={p.in_flight}",
            )
        return task.result()
    finally:
        uninstall()
        timeline.close()
        if not task.done():
            task.cancel()


class MessageLog:
    """``messages.csv``: one row per processed message (seq, class, sent_at, done_at, deliveries)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = path.open("w", newline="")
        self._writer = csv.writer(self._handle)
        self._writer.writerow(["seq", "class", "sent_at", "done_at", "deliveries"])

    def record(self, message: Processed) -> None:
        self._writer.writerow(
            [message.seq, message.cls, f"{message.sent_at:.6f}", f"{message.done_at:.6f}", message.deliveries]
        )

    def flush(self) -> None:
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


async def run_consume(
    *,
    consumers: Sequence[QueueConsumer | StreamConsumer],
    run_dir: Path,
    interval: float,
    progress: Progress,
    duration: float | None = None,
    max_messages: int | None = None,
    idle_exit: float | None = None,
    message_log: MessageLog | None = None,
    stop: asyncio.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ConsumeReport:
    """Run the consumers until a signal, ``duration``, ``max_messages`` processed, or ``idle_exit`` s idle."""
    stop = stop or asyncio.Event()
    started = clock()
    tasks = [asyncio.create_task(consumer.run(stop)) for consumer in consumers]
    main = asyncio.current_task()
    uninstall = install_stop_signals(stop, main)
    timeline = TimelineWriter(run_dir)
    last_t, last_processed, last_received, idle_since = 0.0, 0, 0, started
    try:
        while not all(task.done() for task in tasks):
            wait = interval if duration is None or stop.is_set() else min(interval, started + duration - clock())
            await asyncio.wait(tasks, timeout=max(wait, 0.0))
            now = clock()
            reports = [consumer.report() for consumer in consumers]
            processed = sum(r.processed for r in reports)
            received = sum(r.received for r in reports)
            pooled = _pooled(consumers)
            span = max(now - started - last_t, 1e-9)
            rate = (processed - last_processed) / span
            if received != last_received:
                idle_since = now
            last_t, last_processed, last_received = now - started, processed, received
            timeline.write(
                {
                    "t": round(now - started, 3),
                    "received": received,
                    "processed": processed,
                    "processed_rate": rate,
                    "released": sum(r.released for r in reports),
                    "latency_p50": pooled.percentile(0.5),
                    "latency_p99": pooled.percentile(0.99),
                    "throttled": sum(r.throttled for r in reports),
                    "errors": sum(r.errors for r in reports),
                }
            )
            if message_log is not None:
                message_log.flush()
            progress.show(
                title=f"burst-load consume ({len(consumers)} consumer{'s' * (len(consumers) > 1)})   "
                f"{_f(now - started)} s",
                header=["", "received", "processed", "per s", "released", "p50", "p99", "throttled"],
                rows=[
                    [
                        "total",
                        str(received),
                        str(processed),
                        _f(rate),
                        str(sum(r.released for r in reports)),
                        f"{pooled.percentile(0.5):.2f} s",
                        f"{pooled.percentile(0.99):.2f} s",
                        str(sum(r.throttled for r in reports)),
                    ]
                ],
                line=f"t={_f(now - started)}s received={received} processed={processed} per_s={_f(rate)} "
                f"p50={pooled.percentile(0.5):.3f}s p99={pooled.percentile(0.99):.3f}s",
            )
            if duration is not None and now - started >= duration:
                stop.set()
            if max_messages is not None and processed >= max_messages:
                stop.set()
            if idle_exit is not None and now - idle_since >= idle_exit:
                stop.set()
        results = [task.result() for task in tasks]
    finally:
        uninstall()
        timeline.close()
        for task in tasks:
            task.cancel()
        if message_log is not None:
            message_log.close()
    return ConsumeReport.merge(results, _pooled(consumers), clock() - started)


def _pooled(consumers: Sequence[QueueConsumer | StreamConsumer]) -> LatencyHistogram:
    pooled = LatencyHistogram()
    for consumer in consumers:
        pooled.merge(consumer.latencies)
    return pooled


def observe_progress(progress: Progress, timeline: TimelineWriter) -> Callable[[Sample], None]:
    """The observer's per-sample callback: a timeline row and a progress update."""

    def on_sample(sample: Sample) -> None:
        timeline.write(sample.row())
        s = sample.state
        rows = [
            [
                name,
                str(s.replicas[name]),
                str(s.ready[name]),
                *(str(s.pods_by_deployment.get(name, {}).get(tier, 0)) for tier in TIERS),
            ]
            for name in sorted(s.replicas)
        ]
        rows.append(["total", str(s.replicas_total), str(sum(s.ready.values())), *(str(s.pods[t]) for t in TIERS)])
        backlog = "-" if sample.backlog is None else f"{sample.backlog:g}"
        claims = "-" if s.nodeclaims is None else str(len(s.nodeclaims))
        replicas = " ".join(f"{n}={s.replicas[n]}/{s.ready[n]}" for n in sorted(s.replicas))
        progress.show(
            title=f"burst-load observe   t={_f(sample.t)} s   backlog={backlog}   nodes={len(s.nodes)} "
            f"(+{sample.nodes_added}, virtual {len(s.virtual_nodes)})   nodeclaims={claims}",
            header=["deployment", "desired", "ready", "virtual", "managed", "pending"],
            rows=rows,
            line=f"t={_f(sample.t)}s backlog={backlog} replicas {replicas} pods virtual={s.pods['virtual']} "
            f"managed={s.pods['managed']} pending={s.pods['pending']} nodes={len(s.nodes)}(+{sample.nodes_added}) "
            f"nodeclaims={claims}",
        )

    return on_sample


async def run_observe(*, observer: ClusterObserver, stop: asyncio.Event | None = None) -> ObserveReport:
    stop = stop or asyncio.Event()
    uninstall = install_stop_signals(stop, asyncio.current_task())
    try:
        return await observer.run(stop)
    finally:
        uninstall()
