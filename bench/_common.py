"""Shared plumbing for the benchmarks: subprocesses, process statistics, KEDA-like ScaledObjects, percentiles.

Every measurement that matters runs in its own process: the OCI emulator (``burst-scaler emulator``), the scaler
(``burst-scaler serve``), the bare reference servicer (``bench/bare_servicer.py``) and the load generator
(``bench/_loadgen.py``), so a client never steals the event loop of the server it measures. Everything binds to
127.0.0.1 with port 0; every wait below is bounded.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import oci

BENCH_DIR = Path(__file__).resolve().parent
PYTHON = sys.executable
GROUP = "bench"
"""Consumer group the Streaming ScaledObjects read (never created: nothing committed, so `earliest` lag = all)."""


def queue_ocid(index: int) -> str:
    return f"ocid1.queue.oc1.iad.benchqueue{index:04d}"


def stream_ocid(index: int) -> str:
    return f"ocid1.stream.oc1.iad.benchstream{index:04d}"


# --------------------------------------------------------------------------------------------- processes


def _wait_for_line(
    path: Path, pattern: re.Pattern[str], proc: subprocess.Popen[bytes], timeout: float
) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace") if path.exists() else ""
        match = pattern.search(text)
        if match:
            return match
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode} before ready:\n{text[-2000:]}")
        time.sleep(0.05)
    raise RuntimeError(f"{proc.args!r} not ready within {timeout}s; output so far:\n{path.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class EmulatorProcess:
    """``burst-scaler emulator`` as a subprocess, seeded with queues and streams, driven over /_emulator."""

    def __init__(
        self,
        workdir: Path,
        *,
        queues: dict[str, int],
        streams: dict[str, tuple[int, int]],
        ready_timeout: float = 30.0,
    ) -> None:
        """``queues``: OCID → messages; ``streams``: OCID → (partitions, messages); seeding tens of thousands of
        queues takes the emulator a minute or more, hence ``ready_timeout``."""
        seed = {
            "queues": [
                {"displayName": f"q{i}", "id": qid, "messages": [{"content": f"m{n}"} for n in range(count)]}
                for i, (qid, count) in enumerate(queues.items())
            ],
            "streams": [
                {
                    "name": f"s{i}",
                    "id": sid,
                    "partitions": partitions,
                    "messages": [{"key": f"key-{n % 97}", "value": f"event {n}"} for n in range(count)],
                }
                for i, (sid, (partitions, count)) in enumerate(streams.items())
            ],
        }
        self.workdir = workdir
        self.config_path = workdir / "oci" / "config"
        seed_path = workdir / "seed.json"
        seed_path.write_text(json.dumps(seed))
        self.log_path = workdir / "emulator.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                *(PYTHON, "-m", "oci_emulator", "--address", "127.0.0.1:0"),
                *("--write-config", str(self.config_path), "--seed", str(seed_path)),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            match = _wait_for_line(self.log_path, re.compile(r"emulator listening on (\S+)"), self.proc, ready_timeout)
            self.url: str = match.group(1)
            _wait_for_line(self.log_path, re.compile(r"emulator compartment"), self.proc, 10)
        except BaseException:
            self.close()
            raise

    def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}/_emulator{path}", data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            payload = response.read()
        return json.loads(payload) if payload else None

    def counters(self) -> dict[str, int]:
        counts: dict[str, int] = self._control("GET", "/counters")["counters"]
        return counts

    def reset_counters(self) -> None:
        self._control("POST", "/counters/reset")

    def inject(self, **rule: Any) -> None:
        self._control("PUT", "/faults", rule)

    def clear_faults(self) -> None:
        self._control("DELETE", "/faults")

    def queue_client(self) -> Any:
        config = oci.config.from_file(str(self.config_path))
        return oci.queue.QueueClient(config, service_endpoint=self.url, retry_strategy=oci.retry.NoneRetryStrategy())

    def put(self, client: Any, queue_id: str, count: int) -> None:
        models = oci.queue.models
        for first in range(0, count, 20):
            entries = [models.PutMessagesDetailsEntry(content=f"p{i}") for i in range(first, min(first + 20, count))]
            client.put_messages(queue_id, models.PutMessagesDetails(messages=entries))

    def put_stream(self, stream_id: str, count: int) -> None:
        """Put ``count`` keyed messages into a stream (keys and values base64-encoded, as the REST API expects)."""
        config = oci.config.from_file(str(self.config_path))
        client = oci.streaming.StreamClient(
            config, service_endpoint=self.url, retry_strategy=oci.retry.NoneRetryStrategy()
        )
        models = oci.streaming.models
        for first in range(0, count, 100):
            entries = [
                models.PutMessagesDetailsEntry(
                    key=base64.b64encode(f"key-{i % 97}".encode()).decode(),
                    value=base64.b64encode(f"event {i}".encode()).decode(),
                )
                for i in range(first, min(first + 100, count))
            ]
            client.put_messages(stream_id, models.PutMessagesDetails(messages=entries))

    def close(self) -> None:
        _stop(self.proc)
        self._log.close()


class ScalerProcess:
    """``burst-scaler serve`` against an emulator; the port is read from its start-up log line."""

    def __init__(self, workdir: Path, emulator: EmulatorProcess, extra: Sequence[str] = ()) -> None:
        self.log_path = workdir / "scaler.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                *(PYTHON, "-m", "scaler", "serve"),
                *("--address", "127.0.0.1:0", "--metrics-address", "off"),
                *("--kube", "off", "--oci-config", str(emulator.config_path), "--oci-endpoint", emulator.url),
                *("--log-level", "INFO", *extra),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            pattern = re.compile(r"serving externalscaler\.ExternalScaler on port (\d+)")
            self.port = int(_wait_for_line(self.log_path, pattern, self.proc, 30).group(1))
        except BaseException:
            self.close()
            raise
        self.target = f"127.0.0.1:{self.port}"

    def close(self) -> None:
        _stop(self.proc)
        self._log.close()

    def log_lines(self, needle: str) -> int:
        return sum(needle in line for line in self.log_path.read_text(errors="replace").splitlines())


class BareProcess:
    """bench/bare_servicer.py: the same proto served by a constant-returning grpc.aio servicer."""

    def __init__(self, workdir: Path) -> None:
        self.log_path = workdir / "bare.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [PYTHON, str(BENCH_DIR / "bare_servicer.py")], stdout=self._log, stderr=subprocess.STDOUT
        )
        try:
            self.port = int(_wait_for_line(self.log_path, re.compile(r"bare servicer on port (\d+)"), self.proc, 30)[1])
        except BaseException:
            self.close()
            raise
        self.target = f"127.0.0.1:{self.port}"

    def close(self) -> None:
        _stop(self.proc)
        self._log.close()


@contextmanager
def workdir(keep: bool = False) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="burst-bench-"))
    try:
        yield path
    finally:
        if keep:
            print(f"(work files kept in {path})")
        else:
            shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------------------------- load generator


def run_loadgen(spec: dict[str, Any], workdir_path: Path, name: str, *, wait: bool = True) -> Any:
    """Run bench/_loadgen.py in its own process with ``spec``; returns its JSON summary (or the Popen)."""
    spec_path = workdir_path / f"{name}.spec.json"
    out_path = workdir_path / f"{name}.out.json"
    spec = {**spec, "summary_path": str(out_path)}
    spec_path.write_text(json.dumps(spec))
    proc = subprocess.Popen([PYTHON, str(BENCH_DIR / "_loadgen.py"), str(spec_path)])
    if not wait:
        return proc, out_path
    return finish_loadgen(proc, out_path, timeout=float(spec.get("duration", 60)) + 120)


def finish_loadgen(proc: subprocess.Popen[bytes], out_path: Path, timeout: float) -> Any:
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        raise RuntimeError("load generator did not finish in time") from None
    if code != 0:
        raise RuntimeError(f"load generator failed with exit code {code}")
    return json.loads(out_path.read_text())


def queue_object(index: int, queue_id: str, *, expect: float | None = None, **extra: str) -> dict[str, Any]:
    """A ScaledObjectRef (as JSON) of a KEDA external-push trigger on an OCI Queue."""
    metadata = {"scalerAddress": "burst-scaler.keda:6000", "source": "oci-queue", "queueId": queue_id, **extra}
    return {"name": f"consumer-{index:05d}", "namespace": f"team-{index % 7}", "metadata": metadata, "expect": expect}


def stream_object(index: int, stream_id: str, *, expect: float | None = None, **extra: str) -> dict[str, Any]:
    metadata = {
        "scalerAddress": "burst-scaler.keda:6000",
        "source": "oci-streaming",
        "streamId": stream_id,
        "groupName": GROUP,
        "uncommittedOffset": "earliest",
        "allowIdleConsumers": "true",
        **extra,
    }
    return {"name": f"streamer-{index:05d}", "namespace": f"team-{index % 7}", "metadata": metadata, "expect": expect}


# --------------------------------------------------------------------------------------------- /proc


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (from /proc/<pid>/stat; psutil is not installed here)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM in kB and Threads from /proc/<pid>/status."""
    result: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmRSS", "VmHWM", "Threads"}:
            result[key] = int(value.split()[0])
    return result


def rss_mb(pid: int) -> float:
    return proc_status(pid)["VmRSS"] / 1024


class CpuMeter:
    """CPU share of one core used by a process over a wall-clock window."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._cpu = cpu_seconds(pid)
        self._wall = time.monotonic()

    def percent(self) -> float:
        cpu, wall = cpu_seconds(self.pid), time.monotonic()
        return 100.0 * (cpu - self._cpu) / max(wall - self._wall, 1e-9)


class MachineMeter:
    """Whole-machine CPU busy (% of one core, so up to 100 x cores) over a window, from /proc/stat.

    The benchmark machine may be shared: whatever the machine spent beyond our own processes is reported beside
    every figure, so a noisy run is visible as such.
    """

    def __init__(self) -> None:
        self._busy, self._wall = self._read(), time.monotonic()

    @staticmethod
    def _read() -> float:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + fields[4]
        return (sum(fields[:8]) - idle) / CLOCK_TICKS

    def percent(self) -> float:
        busy, wall = self._read(), time.monotonic()
        return 100.0 * (busy - self._busy) / max(wall - self._wall, 1e-9)


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


# --------------------------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no data."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table (also readable on a terminal)."""
    cells = [[str(h) for h in headers], *[[_fmt(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.3g}" if abs(value) < 10 else f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.1f}"
    return str(value)


def verdict(ok: bool, problems: Sequence[str]) -> int:
    """Print the final correctness line; the exit code depends on correctness only, never on timing."""
    for problem in problems[:20]:
        print(f"  problem: {problem}")
    if len(problems) > 20:
        print(f"  ... and {len(problems) - 20} more")
    print("PASS" if ok and not problems else "FAIL")
    return 0 if ok and not problems else 1


def machine() -> str:
    return f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
