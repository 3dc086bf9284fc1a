"""burst-load's producer: sustained messages/s into the OCI emulator on this machine, and schedule accuracy below it.

The emulator runs in its own process on 127.0.0.1 (``burst-scaler emulator``), the producer in this one, with the
real SDK signing every request. Per target (Queue, then Streaming), two runs:

- **saturation**: a constant profile far above what one producer can send, ``--max-messages`` in all: the producer
  falls behind at once and catches up in full batches (Queue 20 per PutMessages, Streaming up to 500 / 1 MiB), so
  ``sent / elapsed`` is its sustained rate with ``--concurrency`` calls in flight;
- **on schedule**: an open-loop constant profile at half that rate for ``--seconds``: achieved vs planned rate and
  how late sends left (lateness p50 / p99).

Correctness (the exit code): every planned message accepted, none failed, and the emulator holds exactly the
messages sent (Queue GetStats; Streaming read back with plain cursors). Rates are printed, never judged.

    python bench/bench_producer.py                    # 15000 messages per saturation run, 5 s on schedule
    python bench/bench_producer.py --quick
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import oci
from _common import EmulatorProcess, machine, queue_ocid, stream_ocid, table, verdict, workdir

from load.produce import ProduceReport, QueueProducer, StreamProducer
from load.profiles import ConstantProfile
from load.traffic import Mix, SizeDistribution

QUEUE_ID = queue_ocid(900)
STREAM_ID = stream_ocid(900)
PARTITIONS = 4
SATURATION_RATE = 100_000.0
"""Far above what a Python producer sends: the saturation run is always behind its schedule."""


def clients(emulator: EmulatorProcess) -> tuple[Any, Any]:
    config = oci.config.from_file(str(emulator.config_path))
    kwargs = {
        "service_endpoint": emulator.url,
        "retry_strategy": oci.retry.NoneRetryStrategy(),
        "circuit_breaker_strategy": oci.circuit_breaker.NoCircuitBreakerStrategy(),
    }
    return oci.queue.QueueClient(config, **kwargs), oci.streaming.StreamClient(config, **kwargs)


async def produce(target: str, client: Any, rate: float, seconds: float, args: argparse.Namespace) -> ProduceReport:
    profile = ConstantProfile(level=rate, duration=seconds)
    common: dict[str, Any] = {
        "profile": profile,
        "mix": Mix(heavy_fraction=0.2),
        "sizes": SizeDistribution(median=args.size),
        "concurrency": args.concurrency,
        "seed": 1,
    }
    producer = (
        QueueProducer(client=client, queue_id=QUEUE_ID, **common)
        if target == "queue"
        else StreamProducer(client=client, stream_id=STREAM_ID, **common)
    )
    stop = asyncio.Event()
    limit = asyncio.get_running_loop().call_later(args.max_seconds, stop.set)  # bounded whatever the machine
    try:
        return await producer.run(stop)
    finally:
        limit.cancel()


def stored_in_stream(client: Any) -> int:
    """Messages in the stream, read back per partition with plain cursors (5 GETs/s per partition at most)."""
    total = 0
    for partition in range(PARTITIONS):
        details = oci.streaming.models.CreateCursorDetails(partition=str(partition), type="TRIM_HORIZON")
        cursor = client.create_cursor(STREAM_ID, details).data.value
        while True:
            time.sleep(0.21)
            response = client.get_messages(STREAM_ID, cursor, limit=10_000)
            if not response.data:
                break
            total += len(response.data)
            cursor = response.headers["opc-next-cursor"]
    return total


def row(target: str, run: str, report: ProduceReport) -> list[object]:
    sent_per_call = report.sent / report.calls if report.calls else 0.0
    return [
        target, run, report.planned, report.sent, round(report.duration, 2), round(report.achieved_rate),
        round(report.planned_rate), round(sent_per_call, 1), round(report.lateness_p50 * 1000, 1),
        round(report.lateness_p99 * 1000, 1), report.throttled,
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--max-messages", type=int, default=15_000, help="messages per saturation run")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the on-schedule run")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="hard stop for any one run")
    parser.add_argument("--concurrency", type=int, default=4, help="PutMessages calls in flight")
    parser.add_argument("--size", type=int, default=256, help="message size in bytes")
    parser.add_argument("--targets", default="queue,stream", help="comma-separated: queue, stream")
    parser.add_argument("--quick", action="store_true", help="3000 messages, 2 s on schedule")
    args = parser.parse_args()
    if args.quick:
        args.max_messages, args.seconds = 3000, 2.0
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    print(f"burst-load producer benchmark: {machine()}; concurrency {args.concurrency}, {args.size} B messages")
    problems: list[str] = []
    rows: list[list[object]] = []
    with workdir() as path:
        emulator = EmulatorProcess(path, queues={QUEUE_ID: 0}, streams={STREAM_ID: (PARTITIONS, 0)})
        try:
            queue_client, stream_client = clients(emulator)
            for target in targets:
                client = queue_client if target == "queue" else stream_client
                saturation = asyncio.run(
                    produce(target, client, SATURATION_RATE, args.max_messages / SATURATION_RATE, args)
                )
                sustained = saturation.sent / saturation.duration if saturation.duration else 0.0
                steady = asyncio.run(produce(target, client, max(1.0, round(sustained / 2)), args.seconds, args))
                rows += [row(target, "saturation", saturation), row(target, "on schedule (½)", steady)]
                for name, report in (("saturation", saturation), ("on schedule", steady)):
                    if report.sent != report.planned or report.failed:
                        problems.append(
                            f"{target} {name}: planned {report.planned}, sent {report.sent}, failed {report.failed}, "
                            f"unsent {report.unsent} (stopped after --max-seconds: {report.stopped})"
                        )
                expected = saturation.sent + steady.sent
                stored = (
                    queue_client.get_stats(QUEUE_ID).data.queue.visible_messages
                    if target == "queue"
                    else stored_in_stream(stream_client)
                )
                if stored != expected:
                    problems.append(f"{target}: the emulator holds {stored} messages, the producer reported {expected}")
                print(f"  {target}: sustained {sustained:,.0f} msgs/s")
        finally:
            emulator.close()
    print()
    print(
        table(
            [
                "target",
                "run",
                "planned",
                "sent",
                "seconds",
                "sent/s",
                "planned/s",
                "msgs/call",
                "late p50 ms",
                "late p99 ms",
                "429s",
            ],
            rows,
        )
    )
    print()
    return verdict(True, problems)


if __name__ == "__main__":
    raise SystemExit(main())
