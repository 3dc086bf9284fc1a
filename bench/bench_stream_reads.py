"""(9) Streaming reads: what counting a consumer group's lag costs in bytes and calls, before and after issue 13.

*Before* is the pre-issue-13 reader, kept here as ``full_count_read`` with exactly its calls: per refresh, GetGroup,
then per partition a fresh CreateCursor after the committed offset and up to 8 GetMessages of up to 10,000 messages,
until an empty page or the read cap. *After* is the scaler's ``OciStreamingSource`` with its default reading
settings: it remembers the offsets it has seen, so it reads the backlog once (a cold read paced by its 1 MiB/s per
partition budget) and then only what arrives. Both run in this process against the OCI emulator in its own process,
through the official SDK; the emulator counts every call and the message payload (decoded keys and values) of every
GetMessages. Refreshes are one per second: *after* runs on a manual clock advanced 1 s per refresh (its budget
refills as in real time, without waiting for it); *before* does not depend on time.

Set-up: 4 partitions, a consumer group that committed nothing, ``uncommittedOffset: earliest``, and a read cap
(target 1000 x maxReplicas 200 + 1) above every backlog, so that the whole lag counts, as in the issue's set-up.
The emulator's 5 GET/s throttle is off so that *before* can finish (it needs up to 9 GetMessages per partition per
refresh here, which OCI would refuse beyond 5).

Correctness (the exit code): every count equals the number of messages put. Targets (printed, not checked): a
steady refresh with no arrivals reads no payload; with arrivals, bytes read per second <= 1.2 x arriving bytes.

    python bench/bench_stream_reads.py [--full] [--quick] [--case 100000x64]

``--full`` adds the 100k x 64 KB case (6.4 GB held by the emulator; *before* then reads it all on every refresh,
so it is measured over one refresh). ``--quick`` runs only the 1k cases and one arrival rate.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import oci
from _common import EmulatorProcess, machine, stream_ocid, table, verdict, workdir

from oci_emulator import partition_for_key
from scaler.metadata import StreamRef, parse_metadata
from scaler.settings import OciSettings
from scaler.sources.oci_auth import load_credentials
from scaler.sources.oci_streaming import OciStreamingSource

PARTITIONS = 4
GROUP = "bench"
KIB = 1024
MB = 1_000_000
STREAM = stream_ocid(0)
READS = ("GetGroup", "CreateCursor", "GetStreamMessages")


class Clock:
    """The manual clock of the *after* reader."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Cost:
    payload: int
    calls: dict[str, int]
    seconds: float

    def per(self, refreshes: int) -> tuple[float, float, float]:
        """(payload MB, calls, wall seconds) per refresh."""
        return self.payload / MB / refreshes, sum(self.calls.values()) / refreshes, self.seconds / refreshes


class Meter:
    """The emulator's counters over its control endpoint; ``cost`` measures what one block of calls read."""

    def __init__(self, emulator: EmulatorProcess) -> None:
        self._url = f"{emulator.url}/_emulator"

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self._url}{path}", timeout=30) as response:
            return json.loads(response.read())

    def snapshot(self) -> tuple[int, dict[str, int]]:
        payload = self._get("/bytes")["bytes"].get("GetStreamMessages", {}).get("payload", 0)
        counts = self._get("/counters")["counters"]
        return payload, {op: counts.get(op, 0) for op in READS}

    def throttle(self, enabled: bool) -> None:
        body = json.dumps({"enabled": enabled}).encode()
        request = urllib.request.Request(f"{self._url}/stream-throttle", data=body, method="PUT")
        request.add_header("Content-Type", "application/json")
        urllib.request.urlopen(request, timeout=10).close()


def measure(meter: Meter, block: Any) -> tuple[Any, Cost]:
    payload, calls = meter.snapshot()
    started = time.monotonic()
    result = block()
    seconds = time.monotonic() - started
    payload_after, calls_after = meter.snapshot()
    delta = {op: calls_after[op] - calls[op] for op in READS}
    return result, Cost(payload_after - payload, delta, seconds)


def even_keys() -> list[bytes]:
    """One key per partition, so that message ``i`` lands in partition ``i % 4``: arrivals spread evenly and no
    partition is written faster than OCI's 1 MB/s per partition allows at the rates measured here."""
    keys: dict[int, bytes] = {}
    for i in range(10_000):
        keys.setdefault(partition_for_key(f"key-{i}".encode(), PARTITIONS), f"key-{i}".encode())
        if len(keys) == PARTITIONS:
            return [keys[p] for p in range(PARTITIONS)]
    raise RuntimeError("no key found for some partition")


KEYS = even_keys()


def produce(client: Any, count: int, size: int, first: int = 0) -> None:
    per_request = max(1, min(900, (900 * KIB) // size))
    models = oci.streaming.models
    for low in range(first, first + count, per_request):
        entries = [
            models.PutMessagesDetailsEntry(
                key=base64.b64encode(KEYS[i % PARTITIONS]).decode(),
                value=base64.b64encode(f"event {i}".encode().ljust(size, b".")).decode(),
            )
            for i in range(low, min(low + per_request, first + count))
        ]
        result = client.put_messages(STREAM, models.PutMessagesDetails(messages=entries)).data
        if result.failures:
            raise RuntimeError(f"{result.failures} messages were not stored")


def full_count_read(client: Any, ref: StreamRef) -> int:
    """The pre-issue-13 Streaming read, call for call: the whole lag, read again on every refresh."""
    models = oci.streaming.models
    try:
        reservations = client.get_group(ref.stream_id, ref.group_name).data.reservations or []
    except oci.exceptions.ServiceError as exc:
        if exc.status != 404:
            raise
        reservations = []
    committed = {r.partition: r.committed_offset for r in reservations}
    total = 0
    for partition in (str(p) for p in range(PARTITIONS)):
        offset = committed.get(partition)
        kind = "TRIM_HORIZON" if offset is None else "AFTER_OFFSET"
        details = models.CreateCursorDetails(partition=partition, type=kind, offset=offset)
        cursor = client.create_cursor(ref.stream_id, details).data.value
        count = 0
        for _ in range(8):
            if count >= ref.read_cap:
                break
            response = client.get_messages(ref.stream_id, cursor, limit=min(10_000, ref.read_cap - count))
            if not response.data:
                break
            count += len(response.data)
            cursor = response.headers["opc-next-cursor"]
        total += count
    return total


@dataclass
class Readers:
    client: Any
    source: OciStreamingSource
    clock: Clock
    ref: StreamRef

    def after(self) -> tuple[int, bool]:
        """One refresh of the scaler's source, a second after the previous one: (lag, exact everywhere)."""
        self.clock.now += 1.0
        lag = self.source.read(self.ref)
        return lag.backlog(exclude_persistent=False), not any(p.capped for p in lag.partitions)


def readers_for(emulator: EmulatorProcess) -> Readers:
    config = oci.config.from_file(str(emulator.config_path))
    quiet = {"retry_strategy": oci.retry.NoneRetryStrategy(), "timeout": (10, 600)}
    client = oci.streaming.StreamClient(config, service_endpoint=emulator.url, **quiet)
    clock = Clock()
    settings = OciSettings(config_file=emulator.config_path, endpoint=emulator.url, read_timeout_seconds=600)
    source = OciStreamingSource(settings=settings, credentials=load_credentials(settings), clock=clock)
    meta = {
        "source": "oci-streaming",
        "streamId": STREAM,
        "groupName": GROUP,
        "uncommittedOffset": "earliest",
        "targetBacklogPerReplica": "1000",
        "maxReplicas": "200",
    }
    ref = parse_metadata(meta).config.ref
    assert isinstance(ref, StreamRef)
    return Readers(client, source, clock, ref)


def backlog_case(path: Path, messages: int, size: int, problems: list[str]) -> list[object]:
    """One row: the backlog's cost per refresh before, and after (its one cold read, then a steady refresh)."""
    emulator = EmulatorProcess(path, queues={}, streams={STREAM: (PARTITIONS, 0)})
    try:
        meter = Meter(emulator)
        meter.throttle(False)
        readers = readers_for(emulator)
        produce(readers.client, messages, size)
        refreshes = 3 if messages * size <= 100 * MB else 1
        client, ref = readers.client, readers.ref
        counts, before = measure(meter, lambda: [full_count_read(client, ref) for _ in range(refreshes)])
        if counts != [messages] * refreshes:
            problems.append(f"{messages} x {size}: before counted {counts}")

        def cold() -> int:
            for second in range(1, 100_000):  # bounded: the cold read ends within backlog / budget seconds
                lag, exact = readers.after()
                if exact and lag == messages:
                    return second
            raise RuntimeError("the cold read never finished")

        seconds, cold_cost = measure(meter, cold)
        lags, steady = measure(meter, lambda: [readers.after()[0] for _ in range(5)])
        if lags != [messages] * 5:
            problems.append(f"{messages} x {size}: after counted {lags}")
        b_mb, b_calls, b_s = before.per(refreshes)
        s_mb, s_calls, s_s = steady.per(5)
        return [
            f"{messages:,} x {size // KIB} KB",
            b_mb,
            b_calls,
            b_s,
            cold_cost.payload / MB,
            seconds,
            s_mb,
            s_calls,
            s_s * 1000,
        ]
    finally:
        emulator.close()


def arrival_case(path: Path, backlog: int, size: int, rate: int, seconds: int, problems: list[str]) -> list[object]:
    """Bytes read per second while ``rate`` messages of ``size`` arrive per second on top of ``backlog``."""
    emulator = EmulatorProcess(path, queues={}, streams={STREAM: (PARTITIONS, 0)})
    try:
        meter = Meter(emulator)
        meter.throttle(False)
        readers = readers_for(emulator)
        produce(readers.client, backlog, size)
        for _ in range(100_000):  # bounded: the cold read, not measured here
            lag, exact = readers.after()
            if exact and lag == backlog:
                break
        arrived = before_bytes = after_bytes = after_calls = 0
        total = backlog
        for _ in range(seconds):
            put_before = _put_payload(meter)
            produce(readers.client, rate, size, first=total)
            arrived += _put_payload(meter) - put_before
            total += rate
            count, cost = measure(meter, lambda: full_count_read(readers.client, readers.ref))
            before_bytes += cost.payload
            (lag, _), cost = measure(meter, readers.after)
            after_bytes += cost.payload
            after_calls += sum(cost.calls.values())
            if count != total or lag != total:
                problems.append(f"arrivals {rate}/s x {size}: before {count}, after {lag}, put {total}")
        ratio = after_bytes / arrived if arrived else float("nan")
        met = "-" if not arrived else ("met" if after_bytes <= 1.2 * arrived else "MISSED")
        return [
            f"{backlog:,} x {size // KIB} KB",
            rate,
            arrived / seconds / MB,
            before_bytes / seconds / MB,
            after_bytes / seconds / MB,
            after_calls / seconds,
            ratio,
            met,
        ]
    finally:
        emulator.close()


def _put_payload(meter: Meter) -> int:
    payload: int = meter._get("/bytes")["bytes"].get("PutStreamMessages", {}).get("payload", 0)
    return payload


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="add the 100k x 64 KB case (6.4 GB in the emulator)")
    parser.add_argument("--quick", action="store_true", help="only the 1k cases and one arrival rate")
    parser.add_argument(
        "--case", action="append", default=[], metavar="MESSAGESxKB", help="only this backlog (e.g. 100000x64)"
    )
    args = parser.parse_args()
    sizes = [1 * KIB, 64 * KIB]
    backlogs = [1_000] if args.quick else [1_000, 10_000, 100_000]
    cases = [(n, s) for s in sizes for n in backlogs if args.full or n * s < 1_000 * MB]
    arrivals = [(10_000, KIB, r) for r in ([100] if args.quick else [0, 10, 100, 1000])]
    arrivals += [] if args.quick else [(1_000, 64 * KIB, r) for r in (1, 10, 50)]  # 50/s: 0.82 MB/s a partition
    if args.case:
        cases = [(int(n), int(kb) * KIB) for n, _, kb in (c.partition("x") for c in args.case)]
        arrivals = []
    problems: list[str] = []
    print(f"machine: {machine()}; {PARTITIONS} partitions, one refresh per second, payload in MB (10^6 bytes)")
    rows = []
    with workdir() as path:
        for messages, size in cases:
            rows.append(backlog_case(path, messages, size, problems))
            print(f"  measured {rows[-1][0]}", flush=True)
        headers = [
            "backlog",
            "before MB/refresh",
            "before calls/refresh",
            "before s/refresh",
            "after cold read MB (once)",
            "cold read refreshes",
            "after MB/refresh",
            "after calls/refresh",
            "after ms/refresh",
        ]
        print(table(headers, rows))
        if not args.full and not args.case:
            print("(100k x 64 KB not run: it needs --full, 6.4 GB of emulator memory and minutes per before-refresh)")
        rows = [arrival_case(path, b, s, r, 10, problems) for b, s, r in arrivals]
        if not rows:
            return verdict(True, problems)
        headers = ["backlog", "arrivals msg/s", "arriving MB/s", "before MB/s", "after MB/s", "after calls/s"]
        headers += ["after/arriving", "<=1.2"]
        print(table(headers, rows))
    return verdict(True, problems)


if __name__ == "__main__":
    sys.exit(main())
