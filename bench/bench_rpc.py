"""(1) RPC path: KEDA-like poll cycles against the scaler, next to a bare constant servicer, in one run.

A cycle is GetMetricSpec + GetMetrics + IsActive for one ScaledObject; 1000 distinct ScaledObjects (distinct names,
namespaces and metadata) watch 10 queues of the OCI emulator, so after the first refresh every answer comes from the
refresh cache. The load generator is a separate process on one shared connection, like KEDA. Two measurements per
server, alternated over ``--rounds`` so drift hits both alike:

- **closed loop**: ``--concurrency`` cycles in flight back to back: the most cycles/s the server sustains;
- **open loop**: ``--rate`` cycles/s on a fixed schedule: latency counted from each cycle's intended start.

Correctness (the exit code): every RPC OK, exactly one value, int/float consistent, each value equal to its queue's
backlog and IsActive true (every queue holds messages). Timing targets are reported, never fail the run.

    python bench/bench_rpc.py            # 1000 objects, 10 queues, 3 x 10 s closed + 20 s open per server
    python bench/bench_rpc.py --quick
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

from _common import (
    BareProcess,
    CpuMeter,
    EmulatorProcess,
    MachineMeter,
    ScalerProcess,
    machine,
    queue_object,
    queue_ocid,
    run_loadgen,
    table,
    verdict,
    workdir,
)


def backlog_of_queue(index: int) -> int:
    return 5 + 7 * index


def measure(target: str, pid: int, objects: list[dict[str, Any]], spec: dict[str, Any], path: Path, name: str) -> Any:
    meter, machine_meter = CpuMeter(pid), MachineMeter()
    summary = run_loadgen({"target": target, "objects": objects, **spec}, path, name)
    summary["server_cpu_percent"] = meter.percent()
    summary["machine_cpu_percent"] = machine_meter.percent()
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--queues", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0, help="closed-loop measurement per round")
    parser.add_argument("--open-seconds", type=float, default=20.0, help="open-loop measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--quick", action="store_true", help="1 round of 4 s closed, 6 s open")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, specs)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.open_seconds = 1, 4.0, 6.0

    queues = {queue_ocid(i): backlog_of_queue(i) for i in range(args.queues)}
    queue_ids = list(queues)
    # Distinct ScaledObjects: own name and namespace, and metadata differing in target and activation as in real
    # fleets; every one resolves to one of the 10 queues, so the cache holds 10 sources.
    objects = [
        queue_object(
            i,
            queue_ids[i % args.queues],
            expect=float(queues[queue_ids[i % args.queues]]),
            targetBacklogPerReplica=str(5 + i % 20),
        )
        for i in range(args.objects)
    ]
    print(f"bench_rpc: {machine()}; {args.objects} ScaledObjects on {args.queues} queues")
    problems: list[str] = []
    results: dict[tuple[str, str], list[Any]] = {}
    with workdir(args.keep) as path:
        emulator = EmulatorProcess(path, queues=queues, streams={})
        try:
            scaler = ScalerProcess(path, emulator)
            bare = BareProcess(path)
            try:
                servers: dict[str, ScalerProcess | BareProcess] = {"scaler": scaler, "bare": bare}
                # The bare servicer answers a constant: check its answers' shape, not their value.
                served = {"scaler": objects, "bare": [{**o, "expect": None} for o in objects]}
                closed = {"mode": "closed", "concurrency": args.concurrency, "timeout": 10.0}
                for round_ in range(args.rounds):
                    order = ["bare", "scaler"] if round_ % 2 == 0 else ["scaler", "bare"]
                    for name in order:
                        server = servers[name]
                        spec = {**closed, "duration": args.seconds + args.warmup, "warmup": args.warmup}
                        summary = measure(
                            server.target, server.proc.pid, served[name], spec, path, f"closed-{name}-{round_}"
                        )
                        results.setdefault((name, "closed"), []).append(summary)
                        print(f"  round {round_ + 1} closed {name}: {summary['cycles_per_second']:.0f} cycles/s")
                for name in ("bare", "scaler"):
                    server = servers[name]
                    spec = {
                        "mode": "open",
                        "rate": args.rate,
                        "duration": args.open_seconds + args.warmup,
                        "warmup": args.warmup,
                        "timeout": 10.0,
                    }
                    summary = measure(server.target, server.proc.pid, served[name], spec, path, f"open-{name}")
                    results[(name, "open")] = [summary]
                    print(f"  open {name}: {summary['cycles_per_second']:.0f} cycles/s")
                reads = emulator.counters().get("GetStats", 0)
            finally:
                scaler.close()
                bare.close()
        finally:
            emulator.close()

    rows = []
    for (name, mode), runs in results.items():
        for summary in runs:
            codes = summary["codes"]
            bad = sum(n for code, n in codes.items() if code != "OK")
            wrong = sum(summary["problems"].values())
            if name == "scaler" and (bad or wrong):
                problems.append(f"{mode} run: non-OK codes {codes}, problems {summary['problems']}")
                problems.extend(summary["examples"])
            if name == "bare" and bad:
                problems.append(f"bare servicer {mode}: non-OK codes {codes}")
            lat = summary["cycle_latency"]
            rows.append(
                [
                    name,
                    f"{mode} c={args.concurrency}" if mode == "closed" else f"open {args.rate:g}/s",
                    summary["cycles_per_second"],
                    lat["p50"] * 1000,
                    lat["p99"] * 1000,
                    lat["max"] * 1000,
                    summary["server_cpu_percent"],
                    summary["client_cpu_percent"],
                    summary["machine_cpu_percent"],
                    bad + wrong,
                ]
            )
    print()
    print(
        table(
            [
                "server",
                "load",
                "cycles/s",
                "p50 ms",
                "p99 ms",
                "max ms",
                "server CPU %",
                "client CPU %",
                "machine CPU % (of 200)",
                "errors",
            ],
            rows,
        )
    )
    scaler_rate = statistics.median(s["cycles_per_second"] for s in results[("scaler", "closed")])
    bare_rate = statistics.median(s["cycles_per_second"] for s in results[("bare", "closed")])
    ratio = scaler_rate / bare_rate
    open_p99 = results[("scaler", "open")][0]["cycle_latency"]["p99"] * 1000
    print()
    print(f"closed-loop median: scaler {scaler_rate:.0f} cycles/s, bare {bare_rate:.0f} cycles/s, ratio {ratio:.0%}")
    print(f"target ratio >= 60 %: {'met' if ratio >= 0.6 else 'MISSED'}")
    print(f"target p99 < 10 ms at {args.rate:g} cycles/s: {open_p99:.2f} ms, {'met' if open_p99 < 10 else 'MISSED'}")
    print(f"upstream GetStats during the whole run: {reads} (cache: one per queue per refresh)")
    return verdict(True, problems)


if __name__ == "__main__":
    sys.exit(main())
