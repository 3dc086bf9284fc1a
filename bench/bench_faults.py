"""(5) Faults under load: 429 bursts, 5xx, 2 s latency and connection resets on GetStats, one after the other.

The load of bench_rpc.py (KEDA-like cycles at ``--rate`` per second over 1000 ScaledObjects on 10 queues, from a
separate process, every RPC recorded) runs throughout. For each fault: ``--baseline`` seconds clean, then the fault
for ``--seconds`` (60 by default, as the issue asks), then ``--recovery`` seconds clean. The backlog changes while
the scaler cannot see it: a few messages are put into every queue when the fault starts and again the moment it
clears, so "recovered" means "answers the backlog put after the fault", and a stale answer is recognisable.

The scaler runs with ``--max-staleness`` (default: half the fault, so the UNAVAILABLE phase shows), ``--cache-ttl 1``
and ``--rpc-deadline 1``. Faults hit only GetStats (the bench's own PutMessages pass).

Correctness (the exit code), per fault:

- every RPC answers within ``--answer-bound`` (1 s; KEDA's HPA path allows about 3 s in all);
- no GetMetrics value 0 and no IsActive ``false`` (every queue always holds messages), and every value is one the
  queue really had (the current or an older backlog, never an invented one);
- only OK or UNAVAILABLE; UNAVAILABLE only once the last good value can be older than the staleness bound
  (not before fault start + staleness - TTL - 0.5 s); no OK answer whose value had been out of date (the queue had
  moved past it) for longer than the bound + 0.5 s, since the read behind it must be older still;
- after the fault clears, every queue answers its post-fault backlog (within ``--recovery`` seconds).

Recovery time (clear → post-fault backlog answered, worst queue) is reported against one refresh (the target),
not checked.

    python bench/bench_faults.py                     # 4 faults x (5 + 60 + 10) s, staleness 30 s: ~5 min
    python bench/bench_faults.py --seconds 20        # shorter faults, staleness 10 s
    python bench/bench_faults.py --quick             # 8 s faults, staleness 4 s
"""

from __future__ import annotations

import argparse
import bisect
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from _common import (
    CpuMeter,
    EmulatorProcess,
    MachineMeter,
    ScalerProcess,
    finish_loadgen,
    machine,
    percentile,
    queue_object,
    queue_ocid,
    rss_mb,
    run_loadgen,
    table,
    verdict,
    workdir,
)

GET_METRICS, IS_ACTIVE = 1, 2
PUT_AT_START, PUT_AT_CLEAR = 3, 2


@dataclass
class Fault:
    name: str
    rule: dict[str, Any]
    burst_on: float | None = None
    """429 bursts: seconds on, then ``burst_off`` seconds off, repeated for the fault's duration."""
    burst_off: float = 0.0
    started: float = 0.0
    cleared: float = 0.0
    cleared_put: dict[int, float] = field(default_factory=dict)
    """Queue → when its post-fault put completed."""


@dataclass
class Backlogs:
    """Every backlog each queue has had, with the time the put that made it started (values may show from then)."""

    history: dict[int, list[tuple[float, int]]]

    def allowed(self, queue: int, at: float) -> set[int]:
        return {value for since, value in self.history[queue] if since <= at}

    def latest(self, queue: int) -> int:
        return self.history[queue][-1][1]


def faults() -> list[Fault]:
    ops = ["GetStats"]
    return [
        Fault("429 bursts (2 s on / 1 s off)", {"status": 429, "operations": ops}, burst_on=2.0, burst_off=1.0),
        Fault("5xx (503)", {"status": 503, "operations": ops}),
        Fault("2 s latency", {"latency_seconds": 2.0, "operations": ops}),
        Fault("connection resets", {"reset_connection": True, "operations": ops}),
    ]


def drive(
    emulator: EmulatorProcess,
    fault: Fault,
    seconds: float,
    put: Callable[[int], dict[int, float]],
    stop: threading.Event,
) -> None:
    """Apply one fault for ``seconds``: continuously, or as bursts. The backlog moves once the fault is on, and
    again at each burst's end, so catching up with a change is observable in the answers."""
    end = time.monotonic() + seconds
    emulator.inject(**fault.rule)
    put(PUT_AT_START)
    if fault.burst_on is None:
        stop.wait(max(0.0, end - time.monotonic()))
        return
    while True:
        stop.wait(min(fault.burst_on, max(0.0, end - time.monotonic())))
        emulator.clear_faults()
        if stop.is_set() or time.monotonic() >= end:
            return
        put(1)
        stop.wait(min(fault.burst_off, max(0.0, end - time.monotonic())))
        if stop.is_set() or time.monotonic() >= end:
            return
        emulator.inject(**fault.rule)


def put_all(
    emulator: EmulatorProcess, client: Any, queue_ids: list[str], count: int, *, backlogs: Backlogs
) -> dict[int, float]:
    done: dict[int, float] = {}
    for q, qid in enumerate(queue_ids):
        started = time.monotonic()
        backlogs.history[q].append((started, backlogs.latest(q) + count))
        emulator.put(client, qid, count)
        done[q] = time.monotonic()
    return done


@dataclass
class Verdict:
    rows: list[list[object]]
    problems: list[str]


def analyse(
    records: list[tuple[float, float, int, int, str, float]],
    fault_list: list[Fault],
    backlogs: Backlogs,
    args: argparse.Namespace,
    queues: int,
) -> Verdict:
    problems: list[str] = []
    rows: list[list[object]] = []
    starts = [r[0] for r in records]
    bound, ttl, staleness = args.answer_bound, 1.0, args.max_staleness
    for fault in fault_list:
        window_end = fault.cleared + args.recovery
        lo = bisect.bisect_left(starts, fault.started - args.baseline)
        hi = bisect.bisect_left(starts, window_end)
        window = records[lo:hi]
        latencies = [r[1] for r in window]
        codes: dict[str, int] = defaultdict(int)
        slow = zero = wrong = early_unavailable = too_old = 0
        out_of_date_max = 0.0
        first_unavailable: float | None = None
        recovered: dict[int, float] = {}
        unavailable_after_recovery = 0
        for started, latency, index, method, code, value in window:
            q = index % queues
            answered = started + latency
            codes[code] += 1
            if latency > bound:
                slow += 1
                if slow <= 3:
                    problems.append(f"{fault.name}: an RPC took {latency:.3f} s (> {bound:g} s)")
            if code == "UNAVAILABLE":
                if first_unavailable is None:
                    first_unavailable = answered
                if answered < fault.started + staleness - ttl - 0.5:
                    early_unavailable += 1
                if q in recovered and started > recovered[q]:
                    unavailable_after_recovery += 1
                continue
            if code != "OK":
                continue
            if method == GET_METRICS:
                if value == 0:
                    zero += 1
                    continue
                if value != round(value) or round(value) not in backlogs.allowed(q, answered):
                    wrong += 1
                    if wrong <= 3:
                        problems.append(f"{fault.name}: queue {q} answered {value:g}, never its backlog")
                    continue
                # The read behind this value predates the first put that moved the queue past it.
                newer = [since for since, backlog in backlogs.history[q] if backlog > value and since <= answered]
                out_of_date = answered - min(newer) if newer else 0.0
                out_of_date_max = max(out_of_date_max, out_of_date)
                if out_of_date > staleness + 0.5:
                    too_old += 1
                post = fault.cleared_put.get(q)
                if post is not None and q not in recovered and started >= post and value == _after(backlogs, q, post):
                    recovered[q] = answered
            elif method == IS_ACTIVE and value == 0:
                zero += 1
        others = {c: n for c, n in codes.items() if c not in {"OK", "UNAVAILABLE"}}
        if others:
            problems.append(f"{fault.name}: unexpected status codes {others}")
        if zero:
            problems.append(f"{fault.name}: {zero} answers reported 0 / inactive for a non-empty queue")
        if early_unavailable:
            problems.append(f"{fault.name}: {early_unavailable} UNAVAILABLE before the staleness bound")
        if too_old:
            problems.append(f"{fault.name}: {too_old} OK answers served a value older than the staleness bound")
        if unavailable_after_recovery:
            problems.append(f"{fault.name}: {unavailable_after_recovery} UNAVAILABLE after the queue had recovered")
        missing = sorted(set(range(queues)) - set(recovered))
        if missing:
            problems.append(f"{fault.name}: queues {missing} never answered their post-fault backlog")
        if slow > 3:
            problems.append(f"{fault.name}: {slow} RPCs over {bound:g} s in all")
        recovery = max((recovered[q] - fault.cleared_put[q] for q in recovered), default=float("nan"))
        rows.append(
            [
                fault.name,
                len(window),
                percentile(latencies, 50) * 1000,
                percentile(latencies, 99) * 1000,
                max(latencies, default=float("nan")) * 1000,
                codes.get("UNAVAILABLE", 0),
                f"{first_unavailable - fault.started:.1f}" if first_unavailable is not None else "never",
                zero + wrong,
                out_of_date_max,
                recovery,
            ]
        )
    return Verdict(rows, problems)


def _after(backlogs: Backlogs, queue: int, at: float) -> int:
    """The backlog the queue had once the put completing at ``at`` was done (the newest started before it)."""
    return max(value for since, value in backlogs.history[queue] if since <= at)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="duration of each fault")
    parser.add_argument("--max-staleness", type=float, default=None, help="scaler bound (default: half a fault)")
    parser.add_argument("--baseline", type=float, default=5.0)
    parser.add_argument("--recovery", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=200.0, help="KEDA-like cycles per second")
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--queues", type=int, default=10)
    parser.add_argument("--answer-bound", type=float, default=1.0, help="longest acceptable RPC answer (s)")
    parser.add_argument("--only", default=None, help="run only faults whose name contains this text")
    parser.add_argument("--quick", action="store_true", help="8 s faults, 4 s staleness, 100 cycles/s")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.baseline, args.recovery, args.rate = 8.0, 3.0, 5.0, 100.0
    if args.max_staleness is None:
        args.max_staleness = args.seconds / 2
    fault_list = [f for f in faults() if args.only is None or args.only in f.name]
    queue_ids = [queue_ocid(i) for i in range(args.queues)]
    backlogs = Backlogs({q: [(0.0, 20 + 7 * q)] for q in range(args.queues)})
    objects = [queue_object(i, queue_ids[i % args.queues]) for i in range(args.objects)]
    print(
        f"bench_faults: {machine()}; {args.objects} ScaledObjects on {args.queues} queues, {args.rate:g} cycles/s; "
        f"faults of {args.seconds:g} s on GetStats; scaler --max-staleness {args.max_staleness:g} --cache-ttl 1 "
        "--rpc-deadline 1"
    )
    warmup = 5.0
    per_fault = args.baseline + args.seconds + args.recovery
    duration = warmup + per_fault * len(fault_list) + 2.0
    with workdir(args.keep) as path:
        emulator = EmulatorProcess(path, queues={qid: 20 + 7 * q for q, qid in enumerate(queue_ids)}, streams={})
        try:
            scaler = ScalerProcess(
                path,
                emulator,
                ["--max-staleness", str(args.max_staleness), "--cache-ttl", "1", "--rpc-deadline", "1"],
            )
            try:
                record_path = path / "records.csv"
                spec = {
                    "target": scaler.target,
                    "objects": objects,
                    "mode": "open",
                    "rate": args.rate,
                    "duration": duration,
                    "timeout": 10.0,
                    "record_path": str(record_path),
                }
                proc, out = run_loadgen(spec, path, "faults", wait=False)
                client = emulator.queue_client()
                cpu, machine_cpu = CpuMeter(scaler.proc.pid), MachineMeter()
                time.sleep(warmup)
                rss_before = rss_mb(scaler.proc.pid)
                stop = threading.Event()
                for fault in fault_list:
                    time.sleep(args.baseline)
                    print(f"  {fault.name}: {args.seconds:g} s", flush=True)
                    fault.started = time.monotonic()
                    driver = threading.Thread(
                        target=drive,
                        args=(
                            emulator,
                            fault,
                            args.seconds,
                            partial(put_all, emulator, client, queue_ids, backlogs=backlogs),
                            stop,
                        ),
                    )
                    driver.start()
                    driver.join()
                    emulator.clear_faults()
                    fault.cleared = time.monotonic()
                    fault.cleared_put = put_all(emulator, client, queue_ids, PUT_AT_CLEAR, backlogs=backlogs)
                    time.sleep(args.recovery)
                rss_after = rss_mb(scaler.proc.pid)
                server_cpu, machine_busy = cpu.percent(), machine_cpu.percent()
                summary = finish_loadgen(proc, out, timeout=duration + 120)
                alive = scaler.proc.poll() is None
            finally:
                scaler.close()
        finally:
            emulator.close()
        records = _read_records(record_path)
    result = analyse(records, fault_list, backlogs, args, args.queues)
    if not alive:
        result.problems.append("the scaler process died")
    print()
    print(
        table(
            [
                "fault",
                "RPCs",
                "p50 ms",
                "p99 ms",
                "max ms",
                "UNAVAILABLE",
                "first UNAVAILABLE after (s)",
                "zero/wrong",
                "max out of date s",
                "recovery s",
            ],
            result.rows,
        )
    )
    print()
    worst = max((float(str(r[9])) for r in result.rows), default=float("nan"))
    print(
        f"windows: {args.baseline:g} s before + {args.seconds:g} s fault + {args.recovery:g} s after; staleness bound "
        f"{args.max_staleness:g} s; cycles {summary['cycles']} ({summary['cycles_per_second']:.0f}/s), "
        f"skipped by an overloaded client {summary['skipped']}"
    )
    print(
        f"scaler RSS {rss_before:.0f} MB before the faults, {rss_after:.0f} MB after; scaler CPU {server_cpu:.0f} %, "
        f"machine {machine_busy:.0f} % of 200 %"
    )
    print(f"target recovery within one refresh (1 s): worst {worst:.2f} s, {'met' if worst <= 1.0 else 'MISSED'}")
    return verdict(True, result.problems)


def _read_records(path: Path) -> list[tuple[float, float, int, int, str, float]]:
    records = []
    for line in path.read_text().splitlines():
        started, latency, index, method, code, value = line.split(",")
        records.append((float(started), float(latency), int(index), int(method), code, float(value)))
    records.sort()
    return records


if __name__ == "__main__":
    sys.exit(main())
