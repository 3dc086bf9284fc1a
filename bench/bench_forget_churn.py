"""(7) Churn: 40,000 distinct ScaledObjects over a scaler's life, each asking once, with --forget-after short.

Clusters with preview environments create and delete ScaledObjects all day; KEDA asks about each for a while and
then never again. Here every churned ScaledObject has its own queue and asks one KEDA poll cycle (GetMetricSpec,
GetMetrics, IsActive) before it is gone, while ``--live`` ScaledObjects keep polling every ``--poll`` seconds.
Phases, on the real scaler process (``burst-scaler serve``) against the emulator, both in their own processes:

- **warm**: the live objects alone, polled for a while: the baseline series on /metrics and RSS;
- **churn**: ``--objects`` new ScaledObjects at up to ``--rate`` per second (bounded concurrency);
- **settled**: ``--forget-after`` plus one sweep later, the live objects still polling.

The same run is repeated with ``--forget-after 600`` (the default; nothing is forgotten within the run) beside
it, unless ``--no-compare``. Correctness (the exit code): every RPC answered OK, and every live object still has
its six series at the end. Targets printed beside the figures: after the churn, the series on /metrics equal the
baseline (the live objects' plus a constant), and RSS grew by at most 20 MB.

    python bench/bench_forget_churn.py [--quick] [--objects N] [--forget-after S] [--no-compare]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import grpc
from _common import EmulatorProcess, ScalerProcess, machine, proc_status, queue_object, table, verdict, workdir
from prometheus_client.parser import text_string_to_metric_families

from scaler._proto import externalscaler_pb2 as pb
from scaler._proto import externalscaler_pb2_grpc

SERIES_PER_OBJECT = 6
"""backlog, desired replicas, value age, value timestamp, DLQ and scaledobject info of a queue trigger."""
RSS_TARGET_MB = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def churn_queue(index: int) -> str:
    return f"ocid1.queue.oc1.iad.churnqueue{index:06d}"


def live_queue(index: int) -> str:
    return f"ocid1.queue.oc1.iad.livequeue{index:04d}"


@dataclass
class Scrape:
    total: int
    per_object: Counter[str]

    @classmethod
    def of(cls, port: int) -> Scrape:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60) as response:
            text = response.read().decode()
        total, per_object = 0, Counter[str]()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                total += 1
                named = sample.labels.get("scaledobject")
                if named is not None:
                    per_object[f"{sample.labels.get('namespace')}/{named}"] += 1
        return cls(total, per_object)


@dataclass
class Client:
    """KEDA's side: one channel, one poll cycle per ask; status codes counted."""

    stub: Any
    codes: Counter[str] = field(default_factory=Counter)

    async def ask(self, obj: dict[str, Any]) -> None:
        ref = pb.ScaledObjectRef(name=obj["name"], namespace=obj["namespace"], scalerMetadata=obj["metadata"])
        try:
            spec = await self.stub.GetMetricSpec(ref, timeout=30)
            name = spec.metricSpecs[0].metricName
            await self.stub.GetMetrics(pb.GetMetricsRequest(scaledObjectRef=ref, metricName=name), timeout=30)
            await self.stub.IsActive(ref, timeout=30)
            self.codes["OK"] += 3
        except grpc.aio.AioRpcError as error:
            self.codes[error.code().name] += 1


async def poll_live(client: Client, live: list[dict[str, Any]], interval: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        started = time.monotonic()
        await asyncio.gather(*(client.ask(obj) for obj in live))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, interval - (time.monotonic() - started)))


async def churn(client: Client, objects: int, rate: float, concurrency: int, deadline: float) -> float:
    """Ask once for each new object, at up to ``rate`` per second; returns the rate achieved."""
    gate = asyncio.Semaphore(concurrency)
    started = time.monotonic()

    async def one(index: int) -> None:
        try:
            await client.ask(queue_object(index, churn_queue(index)) | {"namespace": f"preview-{index}"})
        finally:
            gate.release()

    tasks = []
    for index in range(objects):
        if time.monotonic() > deadline:
            raise RuntimeError(f"churn not done by its deadline after {index} objects")
        await asyncio.sleep(max(0.0, started + index / rate - time.monotonic()))
        await gate.acquire()
        tasks.append(asyncio.create_task(one(index)))
    await asyncio.gather(*tasks)
    return objects / (time.monotonic() - started)


async def run(args: argparse.Namespace, forget_after: float, emulator: EmulatorProcess, path: Any) -> dict[str, Any]:
    port = free_port()
    # --rpc-deadline 5: this measures series and memory, not latency; on a shared 2-core box the first read of a
    # brand-new queue (GetQueue + GetStats) can take longer than the default 1 s, which answers UNAVAILABLE
    extra = ("--forget-after", str(forget_after), "--metrics-address", f"127.0.0.1:{port}", "--rpc-deadline", "5")
    scaler = ScalerProcess(path, emulator, extra)
    live = [queue_object(i, live_queue(i)) for i in range(args.live)]
    result: dict[str, Any] = {"forget_after": forget_after}
    try:
        async with grpc.aio.insecure_channel(scaler.target) as channel:
            stub = externalscaler_pb2_grpc.ExternalScalerStub(channel)  # type: ignore[no-untyped-call]
            client, churning_client = Client(stub), Client(stub)
            stop = asyncio.Event()
            poller = asyncio.create_task(poll_live(client, live, args.poll, stop))
            await asyncio.sleep(args.warm)
            result["warm"] = (Scrape.of(port), proc_status(scaler.proc.pid)["VmRSS"] / 1024)
            peak = 0.0
            deadline = time.monotonic() + args.objects / 20 + 600
            churning = asyncio.create_task(churn(churning_client, args.objects, args.rate, args.concurrency, deadline))
            while not churning.done():
                peak = max(peak, proc_status(scaler.proc.pid)["VmRSS"] / 1024)
                await asyncio.wait({churning}, timeout=0.5)
            result["rate"] = churning.result()
            result["churned"] = (Scrape.of(port), proc_status(scaler.proc.pid)["VmRSS"] / 1024)
            # past --forget-after and one sweep (half of it); a run that forgets nothing within itself needs no wait
            await asyncio.sleep((forget_after * 1.5 if forget_after <= 60 else 0.0) + 2 * args.poll)
            result["settled"] = (Scrape.of(port), proc_status(scaler.proc.pid)["VmRSS"] / 1024)
            result["peak"] = max(peak, result["settled"][1])
            stop.set()
            await poller
            result["codes"] = {"live": client.codes, "churned": churning_client.codes}
    finally:
        scaler.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=40_000, help="distinct ScaledObjects that ask once each")
    parser.add_argument("--live", type=int, default=100, help="ScaledObjects that keep asking")
    parser.add_argument("--poll", type=float, default=2.0, help="seconds between polls of each live object")
    parser.add_argument("--rate", type=float, default=400.0, help="new ScaledObjects per second, at most")
    parser.add_argument("--concurrency", type=int, default=64, help="churned objects asking at once, at most")
    parser.add_argument("--forget-after", type=float, default=5.0)
    parser.add_argument("--warm", type=float, default=10.0, help="seconds of live polling before the baseline")
    parser.add_argument("--no-compare", action="store_true", help="skip the run with the default --forget-after")
    parser.add_argument("--quick", action="store_true", help="4,000 objects, 20 live")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.objects, args.live, args.warm = 4_000, 20, 5.0
    print(
        f"bench_forget_churn: {machine()}; {args.objects:,} distinct ScaledObjects (one queue each) asking once, "
        f"{args.live} live ones polled every {args.poll:g} s; --forget-after {args.forget_after:g}"
    )
    runs = [args.forget_after] if args.no_compare else [args.forget_after, 600.0]
    queues = dict.fromkeys([live_queue(i) for i in range(args.live)], 3)
    queues.update(dict.fromkeys([churn_queue(i) for i in range(args.objects)], 0))
    results = []
    problems: list[str] = []
    with workdir(args.keep) as path:
        emulator = EmulatorProcess(path, queues=queues, streams={}, ready_timeout=60 + len(queues) / 200)
        try:
            for forget_after in runs:
                results.append(asyncio.run(run(args, forget_after, emulator, path)))
        finally:
            emulator.close()

    rows = []
    live_names = {f"{o['namespace']}/{o['name']}" for o in (queue_object(i, "") for i in range(args.live))}
    for result in results:
        warm, warm_rss = result["warm"]
        settled, settled_rss = result["settled"]
        for phase, (scrape, rss) in (
            ("warm", result["warm"]),
            ("churned", result["churned"]),
            ("settled", (settled, settled_rss)),
        ):
            rows.append(
                [
                    f"{result['forget_after']:g}",
                    phase,
                    scrape.total,
                    sum(scrape.per_object.values()),
                    len(scrape.per_object),
                    rss,
                    rss - warm_rss,
                ]
            )
        for who, codes in result["codes"].items():
            bad = {code: n for code, n in codes.items() if code != "OK"}
            if bad:
                problems.append(f"--forget-after {result['forget_after']:g}: non-OK answers to {who} objects {bad}")
        missing = {name for name in live_names if settled.per_object.get(name) != SERIES_PER_OBJECT}
        if missing:
            problems.append(f"--forget-after {result['forget_after']:g}: live objects without their series: {missing}")
        result["summary"] = (warm, settled, warm_rss, settled_rss)
    print()
    print(
        table(
            [
                "--forget-after",
                "phase",
                "series",
                "series naming an object",
                "objects named",
                "RSS MB",
                "RSS growth MB",
            ],
            rows,
        )
    )
    print()
    for result in results:
        print(
            f"--forget-after {result['forget_after']:g}: churn at {result['rate']:.0f} objects/s; peak RSS "
            f"{result['peak']:.0f} MB; answers: "
            + "; ".join(f"{who} {dict(codes)}" for who, codes in result["codes"].items())
        )
    warm, settled, warm_rss, settled_rss = results[0]["summary"]
    back = settled.total == warm.total and settled.per_object == warm.per_object
    print(
        f"target series back to the live objects' plus a constant: {warm.total:,} before, {settled.total:,} after, "
        f"{'met' if back else 'MISSED'}"
    )
    growth = settled_rss - warm_rss
    print(
        f"target RSS growth <= {RSS_TARGET_MB:g} MB: {growth:+.1f} MB, {'met' if growth <= RSS_TARGET_MB else 'MISSED'}"
    )
    return verdict(True, problems)


if __name__ == "__main__":
    sys.exit(main())
