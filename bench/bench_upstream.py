"""(2) Upstream economy: OCI calls per refresh interval against the naive one-read-per-RPC count.

1000 ScaledObjects spread over 10 queues and 2 streams (4 partitions each) are polled like KEDA's scale loop
(GetMetricSpec + GetMetrics + IsActive, then ``--interval`` seconds of sleep, per object) while each keeps a
StreamIsActive open, as ``external-push`` triggers do. The emulator counts every call that reaches it.

A *read* is one refresh of a source: GetStats for a queue, GetGroup for a stream (a stream read also costs one
CreateCursor and one or more GetMessages per partition: the raw counts are reported too). The naive count is one
read per GetMetrics or IsActive answered.

Correctness (the exit code): reads per refresh interval at most the number of distinct sources (12), every RPC OK
with the right value. ``--vary-stream-targets`` additionally runs the same fleet with different
``targetBacklogPerReplica`` on the Streaming objects, which changes their read cap (reported, not checked).

    python bench/bench_upstream.py [--seconds 30] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from _common import (
    CpuMeter,
    EmulatorProcess,
    MachineMeter,
    ScalerProcess,
    finish_loadgen,
    machine,
    queue_object,
    queue_ocid,
    run_loadgen,
    stream_object,
    stream_ocid,
    table,
    verdict,
    workdir,
)

PARTITIONS = 4
STREAM_MESSAGES = 200
READ_OPS = {"GetStats", "GetGroup"}


def fleet(objects: int, queues: dict[str, int], streams: list[str], vary_stream_targets: bool) -> list[dict[str, Any]]:
    queue_ids = list(queues)
    sources = len(queue_ids) + len(streams)
    fleet: list[dict[str, Any]] = []
    for i in range(objects):
        slot = i % sources
        if slot < len(queue_ids):
            qid = queue_ids[slot]
            fleet.append(queue_object(i, qid, expect=float(queues[qid]), targetBacklogPerReplica=str(5 + i % 20)))
        else:
            target = str(10 + i % 5) if vary_stream_targets else "10"
            sid = streams[slot - len(queue_ids)]
            fleet.append(stream_object(i, sid, expect=float(STREAM_MESSAGES), targetBacklogPerReplica=target))
    return fleet


def run_fleet(
    path: Path, emulator: EmulatorProcess, objects: list[dict[str, Any]], args: argparse.Namespace, name: str
) -> dict[str, Any]:
    scaler = ScalerProcess(path, emulator, ["--cache-ttl", str(args.interval), "--push-interval", str(args.interval)])
    try:
        spec = {
            "target": scaler.target,
            "objects": objects,
            "mode": "keda",
            "interval": args.interval,
            "duration": args.warmup + args.seconds + 1.0,
            "warmup": args.warmup,
            "timeout": 10.0,
            "streams": list(range(len(objects))) if args.push else [],
            "record_path": str(path / f"{name}.records.csv"),
        }
        proc, out = run_loadgen(spec, path, name, wait=False)
        time.sleep(args.warmup + 0.5)
        emulator.reset_counters()
        cpu, machine_cpu = CpuMeter(scaler.proc.pid), MachineMeter()
        window_start = time.monotonic()
        windows: list[int] = []
        previous = 0
        while time.monotonic() < window_start + args.seconds:
            time.sleep(max(0.0, window_start + (len(windows) + 1) * args.interval - time.monotonic()))
            reads = sum(n for op, n in emulator.counters().items() if op in READ_OPS)
            windows.append(reads - previous)
            previous = reads
        window_end = time.monotonic()
        counts = emulator.counters()
        server_cpu, machine_busy = cpu.percent(), machine_cpu.percent()
        summary = finish_loadgen(proc, out, timeout=args.seconds + 120)
    finally:
        scaler.close()
    value_rpcs = {"queue": 0, "stream": 0}
    is_stream = [o["metadata"]["source"] == "oci-streaming" for o in objects]
    for line in (path / f"{name}.records.csv").read_text().splitlines():
        started, _, index, method, _code, _ = line.split(",")
        if method != "0" and window_start <= float(started) < window_end:
            value_rpcs["stream" if is_stream[int(index)] else "queue"] += 1
    intervals = (window_end - window_start) / args.interval
    return {
        "counts": counts,
        "windows": windows,
        "intervals": intervals,
        "value_rpcs": value_rpcs,
        "summary": summary,
        "server_cpu": server_cpu,
        "machine_busy": machine_busy,
    }


def report(name: str, result: dict[str, Any], sources: int) -> tuple[list[list[object]], float]:
    counts, intervals = result["counts"], result["intervals"]
    per = {op: n / intervals for op, n in counts.items()}
    reads = per.get("GetStats", 0.0) + per.get("GetGroup", 0.0)
    stream_raw = per.get("GetGroup", 0.0) + per.get("CreateCursor", 0.0) + per.get("GetStreamMessages", 0.0)
    raw_per_stream_read = stream_raw / per["GetGroup"] if per.get("GetGroup") else 0.0
    naive_queue = result["value_rpcs"]["queue"] / intervals
    naive_stream = result["value_rpcs"]["stream"] / intervals
    naive_raw = naive_queue + naive_stream * raw_per_stream_read
    raw = sum(per.values())
    rows: list[list[object]] = [
        [name, "reads (GetStats + GetGroup)", reads, naive_queue + naive_stream, f"{sources} (one per source)"],
        [name, "  GetStats", per.get("GetStats", 0.0), naive_queue, "10"],
        [name, "  GetGroup", per.get("GetGroup", 0.0), naive_stream, "2"],
        [name, "  CreateCursor", per.get("CreateCursor", 0.0), "", ""],
        [name, "  GetStreamMessages", per.get("GetStreamMessages", 0.0), "", ""],
        [name, "raw calls, all operations", raw, naive_raw, ""],
        [name, "max reads in one interval window", float(max(result["windows"])), "", ""],
    ]
    return rows, reads


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--queues", type=int, default=10)
    parser.add_argument("--streams", type=int, default=2)
    parser.add_argument("--interval", type=float, default=1.0, help="KEDA pollingInterval = scaler refresh (s)")
    parser.add_argument("--seconds", type=float, default=30.0, help="counting window")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--no-push", dest="push", action="store_false", help="no StreamIsActive streams")
    parser.add_argument("--vary-stream-targets", action="store_true", help="also run with varied Streaming targets")
    parser.add_argument("--quick", action="store_true", help="200 objects, 8 s window")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.objects, args.seconds, args.warmup = 200, 8.0, 3.0

    queues = {queue_ocid(i): 5 + 7 * i for i in range(args.queues)}
    streams = [stream_ocid(i) for i in range(args.streams)]
    sources = args.queues + args.streams
    print(
        f"bench_upstream: {machine()}; {args.objects} ScaledObjects on {args.queues} queues and {args.streams} "
        f"streams x {PARTITIONS} partitions, polled every {args.interval:g} s"
        f"{' with one StreamIsActive each' if args.push else ''}; window {args.seconds:g} s"
    )
    problems: list[str] = []
    rows: list[list[object]] = []
    extra: list[str] = []
    with workdir(args.keep) as path:
        emulator = EmulatorProcess(path, queues=queues, streams={sid: (PARTITIONS, STREAM_MESSAGES) for sid in streams})
        try:
            runs = [("uniform", False)] + ([("varied stream targets", True)] if args.vary_stream_targets else [])
            for name, vary in runs:
                objects = fleet(args.objects, queues, streams, vary)
                result = run_fleet(path, emulator, objects, args, name.replace(" ", "-"))
                new_rows, reads = report(name, result, sources)
                rows.extend(new_rows)
                summary = result["summary"]
                bad = {c: n for c, n in summary["codes"].items() if c != "OK"}
                extra.append(
                    f"{name}: {summary['cycles']} cycles ({summary['cycles_per_second']:.0f}/s offered by "
                    f"{args.objects} loops), cycle p50 {summary['cycle_latency']['p50'] * 1000:.1f} ms "
                    f"p99 {summary['cycle_latency']['p99'] * 1000:.1f} ms, scaler CPU {result['server_cpu']:.0f} %, "
                    f"machine busy {result['machine_busy']:.0f} % of 200 %, streams ended {summary['stream_ends']}, "
                    f"non-OK {bad or 'none'}, problems {summary['problems'] or 'none'}"
                )
                if not vary:
                    if reads > sources:
                        problems.append(f"{reads:.2f} reads per interval > {sources} distinct sources")
                    if bad or summary["problems"]:
                        problems.append(f"{name}: non-OK {bad}, problems {summary['problems']}")
                        problems.extend(summary["examples"])
                    if summary["cycles"] == 0:
                        problems.append("no cycle completed")
        finally:
            emulator.close()
    print()
    print(table(["fleet", "per refresh interval", "measured", "naive (1 read per RPC)", "target"], rows))
    print()
    for line in extra:
        print(line)
    return verdict(True, problems)


if __name__ == "__main__":
    sys.exit(main())
