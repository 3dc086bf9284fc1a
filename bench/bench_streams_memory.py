"""(4) Streams and memory: 2000 StreamIsActive streams on one connection plus 1000 ScaledObjects.

1000 ScaledObjects with two ``external-push`` triggers each (one on one of 10 queues, one on one of 2 streams of 4
partitions) make KEDA open 2000 StreamIsActive streams on its one connection and poll 2000 triggers. Phases:

- **start**: the scaler alone, no client;
- **idle, push only**: all streams open on empty sources, nothing polled: the cost of the push machinery;
- **idle + KEDA polling**: KEDA's default polling added (every ``--idle-poll`` = 30 s per trigger, own process);
- **burst**: messages land in every queue and stream (every stream must push one ``true``), and the HPA path joins
  the polling (GetMetricSpec + GetMetrics + IsActive every ``--burst-poll`` = 15 s per trigger, a second client);
- **after**: the burst's client gone; streams and polling go on.

RSS (and its peak) and CPU (% of one core) of the scaler process come from /proc; machine-wide CPU is reported too,
since this machine may be shared. Correctness (the exit code): every stream receives exactly one ``true``, none
before the burst and no ``false``; every stream is still open at the end; every RPC answered OK.

    python bench/bench_streams_memory.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from _common import (
    CpuMeter,
    EmulatorProcess,
    MachineMeter,
    ScalerProcess,
    finish_loadgen,
    machine,
    proc_status,
    queue_object,
    queue_ocid,
    run_loadgen,
    stream_object,
    stream_ocid,
    table,
    verdict,
    workdir,
)


def triggers(objects: int, queue_ids: list[str], stream_ids: list[str]) -> list[dict[str, Any]]:
    """Two triggers per ScaledObject: same name and namespace, different metadata (KEDA sends one ref each)."""
    result = []
    for i in range(objects):
        queue_trigger = queue_object(i, queue_ids[i % len(queue_ids)], targetBacklogPerReplica=str(5 + i % 20))
        stream_trigger = stream_object(i, stream_ids[i % len(stream_ids)], targetBacklogPerReplica="10")
        stream_trigger["name"] = queue_trigger["name"]
        stream_trigger["namespace"] = queue_trigger["namespace"]
        result += [queue_trigger, stream_trigger]
    return result


class Sampler:
    """RSS and CPU of the scaler over one phase, with the machine's CPU beside it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.cpu = CpuMeter(pid)
        self.machine = MachineMeter()
        self.rss_max = 0.0

    def sample(self) -> None:
        self.rss_max = max(self.rss_max, proc_status(self.pid)["VmRSS"] / 1024)

    def wait(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.sample()
            time.sleep(min(0.5, max(0.0, end - time.monotonic())))
        self.sample()

    def row(self, phase: str, detail: str) -> list[object]:
        status = proc_status(self.pid)
        return [
            phase,
            detail,
            status["VmRSS"] / 1024,
            self.rss_max,
            status["VmHWM"] / 1024,
            self.cpu.percent(),
            self.machine.percent(),
            status["Threads"],
        ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000, help="ScaledObjects (two triggers, two streams each)")
    parser.add_argument("--queues", type=int, default=10)
    parser.add_argument("--streams", type=int, default=2)
    parser.add_argument("--idle-poll", type=float, default=30.0, help="KEDA pollingInterval (s)")
    parser.add_argument("--burst-poll", type=float, default=15.0, help="HPA path interval during the burst (s)")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds from opening streams to measuring idle")
    parser.add_argument("--idle", type=float, default=30.0, help="idle measurement (s)")
    parser.add_argument("--burst", type=float, default=30.0, help="burst measurement (s)")
    parser.add_argument("--after", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="200 objects (400 streams), short phases")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.objects, args.settle, args.idle, args.burst, args.after = 200, 6.0, 8.0, 10.0, 4.0
        args.idle_poll, args.burst_poll = 10.0, 5.0
    queue_ids = [queue_ocid(i) for i in range(args.queues)]
    stream_ids = [stream_ocid(i) for i in range(args.streams)]
    objects = triggers(args.objects, queue_ids, stream_ids)
    print(
        f"bench_streams_memory: {machine()}; {args.objects} ScaledObjects x 2 triggers = {len(objects)} "
        f"StreamIsActive streams on one connection; polling every {args.idle_poll:g} s, HPA path every "
        f"{args.burst_poll:g} s during the burst"
    )
    rows: list[list[object]] = []
    problems: list[str] = []
    with workdir(args.keep) as path:
        emulator = EmulatorProcess(path, queues=dict.fromkeys(queue_ids, 0), streams={s: (4, 0) for s in stream_ids})
        try:
            scaler = ScalerProcess(path, emulator)
            pid = scaler.proc.pid
            try:
                sampler = Sampler(pid)
                sampler.wait(3.0)
                rows.append(sampler.row("start", "no client"))
                slack = 15.0
                total = args.settle + 2 * args.idle + args.burst + args.after + slack
                holder = {
                    "target": scaler.target,
                    "objects": objects,
                    "mode": "idle",
                    "duration": total,
                    "streams": list(range(len(objects))),
                    "timeout": 10.0,
                }
                holder_proc, holder_out = run_loadgen(holder, path, "streams", wait=False)
                time.sleep(args.settle)
                sampler = Sampler(pid)
                sampler.wait(args.idle)
                rows.append(sampler.row("idle, push only", f"{len(objects)} streams open, no polling"))

                poll_duration = 2 * args.idle + args.burst + args.after + slack
                keda = {**holder, "mode": "keda", "interval": args.idle_poll, "duration": poll_duration, "streams": []}
                keda_proc, keda_out = run_loadgen(keda, path, "keda", wait=False)
                time.sleep(args.idle)  # the first polls of every trigger parse its metadata: not idle yet
                sampler = Sampler(pid)
                sampler.wait(args.idle)
                rows.append(sampler.row("idle + KEDA polling", f"+ polls every {args.idle_poll:g} s per trigger"))

                burst_started = time.monotonic()
                hpa = {**keda, "interval": args.burst_poll, "duration": args.burst}
                hpa_proc, hpa_out = run_loadgen(hpa, path, "hpa", wait=False)
                sampler = Sampler(pid)
                client = emulator.queue_client()
                for qid in queue_ids:
                    emulator.put(client, qid, 50)
                for sid in stream_ids:
                    emulator.put_stream(sid, 200)
                sampler.wait(args.burst)
                rows.append(sampler.row("burst", f"messages land; + HPA path every {args.burst_poll:g} s"))
                hpa_summary = finish_loadgen(hpa_proc, hpa_out, timeout=args.burst + 60)

                sampler = Sampler(pid)
                sampler.wait(args.after)
                rows.append(sampler.row("after", "HPA client gone; streams and polling go on"))
                keda_summary = finish_loadgen(keda_proc, keda_out, timeout=total + 60)
                holder_summary = finish_loadgen(holder_proc, holder_out, timeout=total + 60)
            finally:
                scaler.close()
        finally:
            emulator.close()

    trues: dict[int, list[float]] = {}
    for index, at, result in holder_summary["stream_events"]:
        if not result:
            problems.append(f"stream {index} received `false`")
        else:
            trues.setdefault(index, []).append(at)
    for index in range(len(objects)):
        got = trues.get(index, [])
        if len(got) != 1:
            problems.append(f"stream {index} received {len(got)} `true`, expected exactly one")
        elif got[0] < burst_started:
            problems.append(f"stream {index} received `true` before any message was put")
    ends = holder_summary["stream_ends"]
    if ends.get("open at end", 0) != len(objects):
        problems.append(f"streams did not all stay open: {ends}")
    for name, summary in (("polling", keda_summary), ("HPA path", hpa_summary)):
        bad = {c: n for c, n in summary["codes"].items() if c != "OK"}
        if bad or summary["problems"]:
            problems.append(f"{name}: non-OK {bad}, problems {summary['problems']}")
    push_delays = sorted(at[0] - burst_started for at in trues.values() if at)
    print()
    print(
        table(
            [
                "phase",
                "load",
                "RSS MB",
                "RSS max MB",
                "RSS peak (VmHWM) MB",
                "scaler CPU %",
                "machine CPU % (of 200)",
                "threads",
            ],
            rows,
        )
    )
    print()
    print(f"streams at the end: {ends}")
    if push_delays:
        print(
            f"burst: {len(push_delays)} of {len(objects)} streams pushed `true`; the last "
            f"{push_delays[-1]:.2f} s after the first put (puts took a moment themselves)"
        )
    for name, summary in (("polling", keda_summary), ("HPA path", hpa_summary)):
        lat = summary["cycle_latency"]
        print(
            f"{name}: {summary['cycles']} cycles, p50 {lat.get('p50', 0) * 1000:.1f} ms, "
            f"p99 {lat.get('p99', 0) * 1000:.1f} ms, max {lat.get('max', 0) * 1000:.1f} ms"
        )
    peak = max(float(str(r[4])) for r in rows)
    print(f"target RSS <= 200 MB: peak {peak:.0f} MB, {'met' if peak <= 200 else 'MISSED'}")
    for row in rows[1:3]:
        cpu = float(str(row[5]))
        print(f"target idle CPU <= 5 % of a core ({row[0]}): {cpu:.1f} %, {'met' if cpu <= 5 else 'MISSED'}")
    return verdict(True, problems)


if __name__ == "__main__":
    sys.exit(main())
