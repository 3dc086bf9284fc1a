"""KEDA-like load generator, run as its own process: ``python bench/_loadgen.py SPEC.json``.

One grpc.aio channel (KEDA shares one HTTP/2 connection across all ScaledObjects). A *cycle* is what KEDA's
polling loop does per ScaledObject: GetMetricSpec, then GetMetrics for the returned name, then IsActive.

Spec keys:

- ``target`` (host:port), ``objects`` ([{name, namespace, metadata, expect}]), ``summary_path``;
- ``mode``: ``closed`` (``concurrency`` workers back to back: maximum cycles/s), ``open`` (cycles started on a
  fixed schedule, ``rate`` per second, or ``schedule`` [[from_second, rate], ...]; latency counted from the
  intended start, so a slow server cannot hide queueing), ``keda`` (one loop per object, as KEDA's scale loop:
  a cycle, then ``interval`` seconds of sleep; first cycles spread over one interval) or ``idle`` (streams only);
- ``duration``, ``warmup`` (seconds; cycles in the warm-up are not counted), ``timeout`` (per RPC, or null);
- ``streams``: indices into ``objects`` to open a StreamIsActive for, on the same channel; every ``true`` is logged;
- ``record_path``: write every RPC as CSV ``start,latency,object,method,code,value``.

The summary holds cycle and per-RPC latency percentiles, status counts, wrong values against ``expect``, the
process's own CPU use (to tell a saturated client from a saturated server) and stream events.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import grpc

from scaler._proto import externalscaler_pb2 as pb
from scaler._proto import externalscaler_pb2_grpc

_METHODS = ("GetMetricSpec", "GetMetrics", "IsActive")


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered), max(1, math.ceil(q / 100 * len(ordered)))) - 1]

    return {"count": len(ordered), "p50": at(50), "p90": at(90), "p99": at(99), "max": ordered[-1]}


class Tally:
    """What one run measured: cycle and RPC latencies, status codes, wrong answers, stream events, client stalls."""

    def __init__(self, *, record: bool) -> None:
        self.record = record
        self.records: list[tuple[float, float, int, int, str, float]] = []
        self.cycle_latencies: list[float] = []
        self.rpc_latencies: dict[str, list[float]] = {m: [] for m in _METHODS}
        self.codes: Counter[str] = Counter()
        self.problems: Counter[str] = Counter()
        self.examples: list[str] = []
        self.cycles = 0
        self.skipped = 0
        self.stream_events: list[tuple[int, float, bool]] = []
        self.stream_ends: Counter[str] = Counter()
        self.stream_errors: list[list[Any]] = []
        self.client_stalls: list[float] = []

    def problem(self, kind: str, detail: str) -> None:
        self.problems[kind] += 1
        if len(self.examples) < 10:
            self.examples.append(f"{kind}: {detail}")

    def verify(self, name: str, metrics: Any, active: Any, expect: float | None) -> None:
        """One cycle's answers against the expected backlog: one value, int and float agreeing, activity."""
        if metrics is not None:
            if len(metrics.metricValues) != 1:
                self.problem("value count", f"{name}: {len(metrics.metricValues)} values")
            else:
                value = metrics.metricValues[0]
                if value.metricValue != max(0, round(value.metricValueFloat)):
                    self.problem("int/float mismatch", f"{name}: {value.metricValue} vs {value.metricValueFloat}")
                if expect is not None and value.metricValueFloat != expect:
                    self.problem("wrong value", f"{name}: {value.metricValueFloat} != {expect}")
        if active is not None and expect is not None and active.result != (expect > 0):
            self.problem("wrong activity", f"{name}: {active.result} with backlog {expect}")

    def summary(self, measured: float) -> dict[str, Any]:
        """The measured part of the summary; ``measured``: seconds after the warm-up."""
        return {
            "cycles": self.cycles,
            "cycles_per_second": self.cycles / measured,
            "skipped": self.skipped,
            "cycle_latency": _percentiles(self.cycle_latencies),
            "rpc_latency": {m: _percentiles(v) for m, v in self.rpc_latencies.items()},
            "codes": dict(self.codes),
            "problems": dict(self.problems),
            "examples": self.examples,
        }

    def write_records(self, path: str) -> None:
        with Path(path).open("w") as out:
            for rec in self.records:
                out.write("%.6f,%.6f,%d,%d,%s,%r\n" % rec)  # noqa: UP031 - hot path, many lines


class LoadGen:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.refs = [
            pb.ScaledObjectRef(name=o["name"], namespace=o["namespace"], scalerMetadata=o["metadata"])
            for o in spec["objects"]
        ]
        self.expect: list[float | None] = [o.get("expect") for o in spec["objects"]]
        self.timeout: float | None = spec.get("timeout")
        self.tally = Tally(record=spec.get("record_path") is not None)
        self.counting_from = 0.0
        self._next = itertools.count()

    async def _call(self, index: int, method: int, call: Any, request: Any) -> tuple[Any, str, float]:
        started = time.monotonic()
        try:
            response = await call(request, timeout=self.timeout)
            code = "OK"
        except grpc.aio.AioRpcError as exc:
            response, code = None, exc.code().name
        latency = time.monotonic() - started
        if started >= self.counting_from:
            self.tally.codes[code] += 1
            self.tally.rpc_latencies[_METHODS[method]].append(latency)
        value = math.nan
        if response is not None and method == 1:
            value = response.metricValues[0].metricValueFloat if len(response.metricValues) == 1 else math.nan
        elif response is not None and method == 2:
            value = 1.0 if response.result else 0.0
        if self.tally.record:
            self.tally.records.append((started, latency, index, method, code, value))
        return response, code, latency

    async def cycle(self, stub: Any, index: int, intended: float) -> None:
        ref = self.refs[index]
        spec, code, _ = await self._call(index, 0, stub.GetMetricSpec, ref)
        if spec is None:
            self.tally.problem(f"GetMetricSpec {code}", ref.name)
            return
        if len(spec.metricSpecs) != 1:
            self.tally.problem("spec count", f"{ref.name}: {len(spec.metricSpecs)}")
            return
        name = spec.metricSpecs[0].metricName
        metrics, code, _ = await self._call(
            index, 1, stub.GetMetrics, pb.GetMetricsRequest(scaledObjectRef=ref, metricName=name)
        )
        active, code2, _ = await self._call(index, 2, stub.IsActive, ref)
        done = time.monotonic()
        self.tally.verify(ref.name, metrics, active, self.expect[index])
        if intended >= self.counting_from:
            self.tally.cycles += 1
            self.tally.cycle_latencies.append(done - intended)
        del code, code2

    async def closed(self, stub: Any, end: float) -> None:
        async def worker() -> None:
            while time.monotonic() < end:
                index = next(self._next) % len(self.refs)
                await self.cycle(stub, index, time.monotonic())

        await asyncio.gather(*(worker() for _ in range(int(self.spec.get("concurrency", 16)))))

    async def open(self, stub: Any, start: float, end: float) -> None:
        schedule: list[list[float]] = self.spec.get("schedule") or [[0.0, float(self.spec["rate"])]]
        max_outstanding = int(self.spec.get("max_outstanding", 5000))
        outstanding: set[asyncio.Task[None]] = set()
        intended = start
        while intended < end:
            now = time.monotonic()
            if intended > now:
                await asyncio.sleep(intended - now)
            if len(outstanding) >= max_outstanding:
                self.tally.skipped += 1
            else:
                index = next(self._next) % len(self.refs)
                task = asyncio.create_task(self.cycle(stub, index, intended))
                outstanding.add(task)
                task.add_done_callback(outstanding.discard)
            rate = next(r for t, r in reversed(schedule) if intended - start >= t)
            intended += 1.0 / rate
        if outstanding:
            await asyncio.wait(outstanding, timeout=(self.timeout or 10.0) * 3 + 5)

    async def keda(self, stub: Any, start: float, end: float) -> None:
        interval = float(self.spec["interval"])
        count = len(self.refs)

        async def loop(index: int) -> None:
            await asyncio.sleep(max(0.0, start + interval * index / count - time.monotonic()))
            while (now := time.monotonic()) < end:
                await self.cycle(stub, index, now)
                await asyncio.sleep(interval)

        await asyncio.gather(*(loop(i) for i in range(count)))

    async def run(self) -> dict[str, Any]:
        duration = float(self.spec["duration"])
        warmup = float(self.spec.get("warmup", 0.0))
        cpu0, wall0 = time.process_time(), time.monotonic()
        async with grpc.aio.insecure_channel(self.spec["target"]) as channel:
            stub = externalscaler_pb2_grpc.ExternalScalerStub(channel)  # type: ignore[no-untyped-call]
            await channel.channel_ready()
            start = time.monotonic()
            end = start + duration
            self.counting_from = start + warmup
            # Startup objects (protobuf, grpc) move out of the collector's way: fewer, shorter client GC pauses.
            gc.collect()
            gc.freeze()
            watcher = asyncio.create_task(watch_stalls(end, self.tally))
            stream_tasks = [
                asyncio.create_task(watch_stream(stub, self.refs[i], i, end, self.tally))
                for i in self.spec.get("streams", [])
            ]
            streams_open_at = time.monotonic()
            mode = self.spec.get("mode", "closed")
            if mode == "closed":
                await self.closed(stub, end)
            elif mode == "open":
                await self.open(stub, start, end)
            elif mode == "keda":
                await self.keda(stub, start, end)
            else:
                await asyncio.sleep(max(0.0, end - time.monotonic()))
            await asyncio.gather(*stream_tasks)
            await watcher
        wall = time.monotonic() - wall0
        measured = max(duration - warmup, 1e-9)
        summary: dict[str, Any] = {
            "start": start,
            "end": end,
            "streams_open_at": streams_open_at,
            **self.tally.summary(measured),
            "client_cpu_percent": 100.0 * (time.process_time() - cpu0) / wall,
            "client_stalls": _percentiles(self.tally.client_stalls),
            "stream_events": self.tally.stream_events,
            "stream_ends": dict(self.tally.stream_ends),
            "stream_errors": self.tally.stream_errors,
        }
        return summary

    def write_records(self) -> None:
        if self.tally.record:
            self.tally.write_records(self.spec["record_path"])


async def watch_stream(stub: Any, ref: Any, index: int, end: float, tally: Tally) -> None:
    """One StreamIsActive for the run: every ``true`` logged, how it ended counted."""
    call = stub.StreamIsActive(ref)
    try:
        async with asyncio.timeout(max(0.0, end - time.monotonic())):
            async for response in call:
                tally.stream_events.append((index, time.monotonic(), bool(response.result)))
        tally.stream_ends["OK"] += 1
    except TimeoutError:
        call.cancel()
        tally.stream_ends["open at end"] += 1
    except grpc.aio.AioRpcError as exc:
        # Our own cancellation at the end of the run may surface as CANCELLED rather than as the timeout.
        ours = exc.code() is grpc.StatusCode.CANCELLED and time.monotonic() >= end - 0.05
        tally.stream_ends["open at end" if ours else exc.code().name] += 1
        if not ours and len(tally.stream_errors) < 20:
            tally.stream_errors.append([index, time.monotonic(), exc.code().name, exc.details() or ""])


async def watch_stalls(end: float, tally: Tally) -> None:
    """The client's own event-loop stalls over 5 ms: noise this process adds to every latency it measures."""
    while (now := time.monotonic()) < end:
        await asyncio.sleep(0.002)
        lag = time.monotonic() - now - 0.002
        if lag > 0.005:
            tally.client_stalls.append(lag)


def main() -> int:
    spec = json.loads(Path(sys.argv[1]).read_text())
    loadgen = LoadGen(spec)
    summary = asyncio.run(loadgen.run())
    loadgen.write_records()
    Path(spec["summary_path"]).write_text(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
