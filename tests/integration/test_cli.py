"""The console scripts as real subprocesses: emulator + `burst-scaler serve` + SIGTERM, `--version`, burst-load."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from scaler._proto import externalscaler_pb2 as pb
from tests.conftest import stub_for

QUEUE_ID = "ocid1.queue.oc1.iad.amaaaaaaclitestqueue"
BIN = Path(sys.executable).parent


def _read_line(stream: IO[str], pattern: str, deadline: float) -> re.Match[str]:
    seen = []
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    raise AssertionError(f"{pattern!r} not printed; got:\n{''.join(seen)}")


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps(
            {"queues": [{"displayName": "cli", "id": QUEUE_ID, "messages": [{"content": f"m{i}"} for i in range(7)]}]}
        )
    )
    config = tmp_path / "oci" / "config"
    proc = subprocess.Popen(
        [
            str(BIN / "burst-scaler"),
            "emulator",
            "--address",
            "127.0.0.1:0",
            "--write-config",
            str(config),
            "--seed",
            str(seed),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = _read_line(proc.stdout, r"emulator listening on (http://127\.0\.0\.1:\d+)", time.monotonic() + 20)[1]
        yield url, config
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        if proc.stdout:
            proc.stdout.close()


def _start_serve(url: str, config: Path) -> tuple[subprocess.Popen[str], dict[str, object], int]:
    """Start `burst-scaler serve` on an ephemeral port; return it with its logged configuration and port."""
    env = {**os.environ, "BURST_SCALER_MAX_STALENESS": "30", "BURST_SCALER_GRACE": "2"}
    proc = subprocess.Popen(
        [
            str(BIN / "burst-scaler"),
            "serve",
            "--address",
            "127.0.0.1:0",
            "--metrics-address",
            "off",
            "--oci-config",
            str(config),
            "--oci-endpoint",
            url,
            "--kube",
            "off",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 20
    effective = json.loads(_read_line(proc.stderr, r"starting with (\{.*\})", deadline)[1])
    port = int(_read_line(proc.stderr, r"serving externalscaler\.ExternalScaler on port (\d+)", deadline)[1])
    return proc, effective, port


async def test_serve_answers_keda_and_stops_cleanly_on_sigterm(emulator_process: tuple[str, Path]) -> None:
    url, config = emulator_process
    proc, effective, port = await asyncio.to_thread(_start_serve, url, config)
    try:
        assert effective["max_staleness_seconds"] == 30.0  # from the environment
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            checked = await health.Check(health_pb2.HealthCheckRequest())
            assert checked.status == health_pb2.HealthCheckResponse.SERVING
            ref = pb.ScaledObjectRef(
                name="c", namespace="n", scalerMetadata={"source": "oci-queue", "queueId": QUEUE_ID}
            )
            (value,) = (await stub_for(channel).GetMetrics(pb.GetMetricsRequest(scaledObjectRef=ref))).metricValues
            assert value.metricValue == 7
            stream = stub_for(channel).StreamIsActive(ref)
            assert (await stream.read()).result is True
            proc.send_signal(signal.SIGTERM)
            assert await stream.read() is grpc.aio.EOF  # type: ignore[attr-defined]  # grpc-stubs omit grpc.aio.EOF
        assert await asyncio.to_thread(proc.wait, 10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def test_serve_refuses_bad_configuration_with_a_clear_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            str(BIN / "burst-scaler"),
            "serve",
            "--address",
            "127.0.0.1:0",
            "--metrics-address",
            "off",
            "--oci-config",
            str(tmp_path / "missing"),
            "--kube",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "cannot set up OCI auth mode 'config'" in result.stderr
    result = subprocess.run(
        [str(BIN / "burst-scaler"), "serve", "--tls-cert", "x.pem"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "--tls-cert and --tls-key must be given together" in result.stderr


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BURST_SCALER_", "BURST_LOAD_"))}
    return {**env, **extra}


def test_environment_of_another_command_is_never_read() -> None:
    """A bad value for a serve-only flag must not break metadata-table (it used to fail with an error about serve)."""
    result = subprocess.run(
        [str(BIN / "burst-scaler"), "metadata-table"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=_clean_env(BURST_SCALER_MAX_STALENESS="abc", BURST_SCALER_KUBE="nowhere"),
    )
    assert result.returncode == 0, result.stderr
    assert "| `source` |" in result.stdout
    assert "serve" not in result.stderr


def test_bad_environment_for_the_running_command_names_the_variable() -> None:
    result = subprocess.run(
        [str(BIN / "burst-scaler"), "serve", "--kube", "off"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=_clean_env(BURST_SCALER_MAX_STALENESS="abc", BURST_SCALER_OCI_AUTH="password"),
    )
    assert result.returncode == 2
    assert result.stderr.startswith("burst-scaler: error: environment variable ")
    assert (
        "environment variable BURST_SCALER_MAX_STALENESS='abc' is invalid for --max-staleness: "
        "could not convert string to float: 'abc'"
    ) in result.stderr
    assert "environment variable BURST_SCALER_OCI_AUTH='password' is invalid for --oci-auth: expected one of " in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    result = subprocess.run(
        [str(BIN / "burst-scaler"), "check", "-f", "-"],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=_clean_env(BURST_SCALER_OUTPUT="yaml"),
    )
    assert result.returncode == 2
    assert "environment variable BURST_SCALER_OUTPUT='yaml' is invalid for --output: expected one of human, json" in (
        result.stderr
    )
    load = subprocess.run(
        [str(BIN / "burst-load"), "consume", "--queue-id", "q"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=_clean_env(BURST_LOAD_BATCH="many", BURST_LOAD_PEAK="not read by consume"),
    )
    assert load.returncode == 2
    assert "environment variable BURST_LOAD_BATCH='many' is invalid for --batch" in load.stderr
    assert "BURST_LOAD_PEAK" not in load.stderr


def test_version_and_burst_load_help() -> None:
    version = subprocess.run([str(BIN / "burst-scaler"), "--version"], capture_output=True, text=True, check=True)
    assert re.fullmatch(r"burst-scaler \S+\n", version.stdout)
    load = subprocess.run([str(BIN / "burst-load"), "--help"], capture_output=True, text=True, check=True)
    assert "usage: burst-load" in load.stdout


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(BIN / "burst-scaler"), "demo", "--time-scale", "0.6", "--out", str(tmp_path / "report")],
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lost 0," in result.stdout
    assert "demo finished: nothing lost, every tier back to zero" in result.stdout
    assert (tmp_path / "report" / "summary.json").exists()
