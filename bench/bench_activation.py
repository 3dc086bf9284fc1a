"""(3) Activation latency: first message put → ``true`` on StreamIsActive, over ``--trials`` empty queues.

Each trial owns one empty queue and one ScaledObject whose StreamIsActive stream is held open by the load generator
process (one connection, as KEDA). After every stream has seen its empty queue, the benchmark puts one message into
one queue at a time, at random moments (so puts land at random phases of the scaler's refresh loops), and times the
put's start against the ``true`` the load generator received. Both processes read the same system-wide monotonic
clock.

``--poll-interval S`` also runs KEDA's polling loop (GetMetricSpec + GetMetrics + IsActive every S s) on the same
objects: polls refresh the shared cache at other phases than the push loop, which may hand the push loop a value up
to one TTL old (reported as a second row).

Correctness (the exit code): every stream receives exactly one ``true``, never before its put, and no ``false``.
Target (reported): p95 ≤ refresh interval + 0.5 s.

    python bench/bench_activation.py [--trials 50] [--poll-interval 1] [--quick]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

from _common import (
    EmulatorProcess,
    ScalerProcess,
    finish_loadgen,
    machine,
    percentile,
    queue_object,
    queue_ocid,
    run_loadgen,
    table,
    verdict,
    workdir,
)

SETTLE_SECONDS = 3.0


def run_trials(
    path: Path, emulator: EmulatorProcess, queue_ids: list[str], args: argparse.Namespace, poll: float | None, name: str
) -> tuple[list[float], list[str]]:
    problems: list[str] = []
    scaler = ScalerProcess(path, emulator, ["--push-interval", str(args.refresh), "--cache-ttl", str(args.refresh)])
    try:
        objects = [queue_object(i, qid) for i, qid in enumerate(queue_ids)]
        rng = random.Random(args.seed)
        gaps = [rng.uniform(args.min_gap, args.max_gap) for _ in queue_ids]
        tail = max(3.0, 2 * args.refresh + 1.0)
        duration = SETTLE_SECONDS + sum(gaps) + tail
        spec: dict[str, Any] = {
            "target": scaler.target,
            "objects": objects,
            "mode": "keda" if poll else "idle",
            "interval": poll or 1.0,
            "duration": duration,
            "streams": list(range(len(objects))),
            "timeout": 10.0,
        }
        proc, out = run_loadgen(spec, path, name, wait=False)
        time.sleep(SETTLE_SECONDS)
        client = emulator.queue_client()
        put_at: list[float] = []
        for qid, gap in zip(queue_ids, gaps, strict=True):
            time.sleep(gap)
            put_at.append(time.monotonic())
            emulator.put(client, qid, 1)
        summary = finish_loadgen(proc, out, timeout=duration + 60)
    finally:
        scaler.close()
    events: dict[int, list[tuple[float, bool]]] = {}
    for index, at, result in summary["stream_events"]:
        events.setdefault(index, []).append((at, result))
    latencies: list[float] = []
    for index, put in enumerate(put_at):
        got = events.get(index, [])
        trues = [at for at, result in got if result]
        falses = [at for at, result in got if not result]
        if falses:
            problems.append(f"{name} trial {index}: {len(falses)} `false` pushed (never expected)")
        if any(at < put for at in trues):
            problems.append(f"{name} trial {index}: `true` before the first message was put")
        if len(trues) != 1:
            problems.append(f"{name} trial {index}: {len(trues)} `true` received, expected exactly one")
        after = [at - put for at in trues if at >= put]
        if not after:
            problems.append(f"{name} trial {index}: no `true` after the put (waited at least {tail:g} s)")
        else:
            latencies.append(after[0])
    bad = {c: n for c, n in summary["codes"].items() if c != "OK"}
    if bad or summary["problems"]:
        problems.append(f"{name}: polling answered {bad} with problems {summary['problems']}")
    return latencies, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--refresh", type=float, default=1.0, help="scaler --push-interval and --cache-ttl (s)")
    parser.add_argument("--poll-interval", type=float, default=1.0, help="second run with KEDA polling; 0: skip")
    parser.add_argument("--min-gap", type=float, default=0.3, help="seconds between puts, at least")
    parser.add_argument("--max-gap", type=float, default=1.3, help="seconds between puts, at most")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="10 trials, push only")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.poll_interval = 10, 0.0
    target = args.refresh + 0.5
    print(
        f"bench_activation: {machine()}; {args.trials} trials, scaler refresh {args.refresh:g} s "
        f"(push interval = cache TTL); target p95 <= {target:g} s (KEDA's default poll: 30 s)"
    )
    rows: list[list[object]] = []
    problems: list[str] = []
    runs: list[tuple[str, float | None]] = [("StreamIsActive only", None)]
    if args.poll_interval > 0:
        runs.append((f"+ KEDA polling every {args.poll_interval:g} s", args.poll_interval))
    with workdir(args.keep) as path:
        queue_ids = [queue_ocid(i) for i in range(args.trials * len(runs))]
        emulator = EmulatorProcess(path, queues=dict.fromkeys(queue_ids, 0), streams={})
        try:
            for n, (name, poll) in enumerate(runs):
                ids = queue_ids[n * args.trials : (n + 1) * args.trials]
                latencies, found = run_trials(path, emulator, ids, args, poll, f"run{n}")
                problems.extend(found)
                p95 = percentile(latencies, 95)
                rows.append(
                    [
                        name,
                        len(latencies),
                        percentile(latencies, 50),
                        p95,
                        max(latencies, default=float("nan")),
                        "met" if p95 <= target else "MISSED",
                    ]
                )
        finally:
            emulator.close()
    print()
    print(table(["run", "trials", "p50 s", "p95 s", "max s", f"p95 <= {target:g} s"], rows))
    return verdict(True, problems)


if __name__ == "__main__":
    sys.exit(main())
