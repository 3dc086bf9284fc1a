"""`burst-load` as real subprocesses against the OCI emulator (and a local Kubernetes API server).

The SIGTERM test is the pod-shutdown guarantee: a consumer killed gracefully while working on heavy messages leaves
every message either processed-and-deleted or visible again in the queue, checked with GetStats and GetMessages.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import oci
import pytest

from load.messages import Envelope
from load.runs import TimelineWriter, write_summary
from oci_emulator import Emulator
from tests.integration.conftest import StartEmulator
from tests.support.kube_api import FakeKubeApi

BIN = Path(sys.executable).parent


@pytest.fixture
def emulator(start_emulator: StartEmulator, tmp_path: Path) -> tuple[Emulator, Path]:
    emu = start_emulator()
    return emu, emu.write_config(tmp_path / "oci" / "config")


def burst_load(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "burst-load"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )


def oci_flags(emu: Emulator, config: Path) -> list[str]:
    return ["--oci-config", str(config), "--oci-endpoint", emu.url]


def queue_client(emu: Emulator) -> Any:
    return oci.queue.QueueClient(emu.oci_config, service_endpoint=emu.url)


def summary(run_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    return data


def test_produce_spike_to_a_queue(emulator: tuple[Emulator, Path], tmp_path: Path) -> None:
    emu, config = emulator
    queue_id = emu.create_queue("orders")
    run_dir = tmp_path / "run"
    result = burst_load(
        "produce",
        "--target",
        "queue",
        *oci_flags(emu, config),
        "--queue-id",
        queue_id,
        "--profile",
        "spike",
        "--baseline",
        "5",
        "--peak",
        "100",
        "--start",
        "0.5",
        "--length",
        "1",
        "--duration",
        "2",
        "--interval",
        "0.5",
        "--out",
        str(run_dir),
    )
    assert result.returncode == 0, result.stderr
    report = summary(run_dir)["report"]
    assert report["planned"] == report["sent"] == 5 * 1 + 100 * 1
    assert (report["failed"], report["unsent"]) == (0, 0)
    assert "planned 105, sent 105" in result.stdout
    assert "t=" in result.stdout  # not a terminal: plain progress lines
    stats = queue_client(emu).get_stats(queue_id).data.queue
    assert stats.visible_messages == 105
    with (run_dir / "timeline.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 3
    assert int(rows[-1]["sent"]) == 105


def test_sigterm_mid_batch_loses_nothing(emulator: tuple[Emulator, Path], tmp_path: Path) -> None:
    emu, config = emulator
    queue_id = emu.create_queue("orders", visibility_in_seconds=60)
    client = queue_client(emu)
    models = oci.queue.models
    entries = [
        models.PutMessagesDetailsEntry(content=Envelope(seq, time.time(), "heavy").encode()) for seq in range(12)
    ]
    client.put_messages(queue_id, models.PutMessagesDetails(messages=entries))
    run_dir = tmp_path / "consume"
    env = {  # configured through the environment, as a Deployment would
        "BURST_LOAD_QUEUE_ID": queue_id,
        "BURST_LOAD_OCI_CONFIG": str(config),
        "BURST_LOAD_OCI_ENDPOINT": emu.url,
        "BURST_LOAD_WORK": "heavy=0.5,light=0.01",
        "BURST_LOAD_BATCH": "6",
        "BURST_LOAD_LONG_POLL": "1",
        "BURST_LOAD_LOG_MESSAGES": "true",
        "BURST_LOAD_OUT": str(run_dir),
    }
    proc = subprocess.Popen(
        [str(BIN / "burst-load"), "consume"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while client.get_stats(queue_id).data.queue.in_flight_messages < 6 and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        time.sleep(0.7)  # one message done, the second in progress
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    report = summary(run_dir)["report"]
    assert report["processed"] >= 1
    assert report["released"] >= 1
    assert report["processed"] + report["released"] == 6
    with (run_dir / "messages.csv").open() as handle:
        processed = [int(row["seq"]) for row in csv.DictReader(handle)]
    assert len(processed) == report["processed"]

    stats = client.get_stats(queue_id).data.queue
    assert stats.in_flight_messages == 0  # released at once, not after the 60 s visibility timeout
    assert stats.visible_messages == 12 - len(processed)
    remaining: list[int] = []
    while True:
        batch = client.get_messages(queue_id, limit=20, timeout_in_seconds=0).data.messages
        if not batch:
            break
        remaining += [Envelope.decode(m.content).seq for m in batch]
    assert sorted(processed + remaining) == list(range(12))  # every message: processed once, or back in the queue


def test_stream_produce_then_consume(emulator: tuple[Emulator, Path], tmp_path: Path) -> None:
    emu, config = emulator
    stream_id = emu.create_stream("events", partitions=2)
    produced = burst_load(
        "produce",
        "--target",
        "stream",
        "--stream-id",
        stream_id,
        *oci_flags(emu, config),
        "--profile",
        "constant",
        "--rate",
        "100",
        "--duration",
        "0.6",
        "--out",
        str(tmp_path / "p"),
    )
    assert produced.returncode == 0, produced.stderr
    assert summary(tmp_path / "p")["report"]["sent"] == 60
    consumed = burst_load(
        "consume",
        "--target",
        "stream",
        "--stream-id",
        stream_id,
        *oci_flags(emu, config),
        "--group",
        "cli",
        "--consumers",
        "2",
        "--batch",
        "50",
        "--work",
        "heavy=0.001,light=0",
        "--max-messages",
        "60",
        "--duration",
        "20",
        "--out",
        str(tmp_path / "c"),
        "--log-messages",
    )
    assert consumed.returncode == 0, consumed.stderr
    assert summary(tmp_path / "c")["report"]["processed"] == 60
    with (tmp_path / "c" / "messages.csv").open() as handle:
        assert sorted(int(row["seq"]) for row in csv.DictReader(handle)) == list(range(60))


def test_observe_with_queue_backlog(emulator: tuple[Emulator, Path], tmp_path: Path) -> None:
    emu, config = emulator
    queue_id = emu.create_queue("orders")
    queue_client(emu).put_messages(
        queue_id, oci.queue.models.PutMessagesDetails(messages=[oci.queue.models.PutMessagesDetailsEntry(content="x")])
    )
    objects = [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "vn-1", "labels": {"type": "virtual-node"}}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "orders", "namespace": "shop"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "orders"}}},
            "status": {"readyReplicas": 1},
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "orders-1", "namespace": "shop", "labels": {"app": "orders"}},
            "spec": {"nodeName": "vn-1"},
            "status": {"phase": "Running"},
        },
    ]
    with FakeKubeApi(objects) as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        result = burst_load(
            "observe",
            "--kube",
            "kubeconfig",
            "--kubeconfig",
            str(kubeconfig),
            "--namespace",
            "shop",
            "--deployment",
            "orders",
            "--queue-id",
            queue_id,
            *oci_flags(emu, config),
            "--duration",
            "0.6",
            "--interval",
            "0.2",
            "--out",
            str(tmp_path / "o"),
        )
    assert result.returncode == 0, result.stderr
    report = summary(tmp_path / "o")["report"]
    assert report["samples"] >= 3
    assert report["peak_pods"] == {"virtual": 1, "managed": 0, "pending": 0}
    assert report["peak_backlog"] == 1
    assert report["nodeclaims_created"] is None
    with (tmp_path / "o" / "timeline.csv").open() as handle:
        row = next(csv.DictReader(handle))
    assert (row["replicas_orders"], row["pods_virtual"], row["backlog"]) == ("1", "1", "1")


def test_report_without_matplotlib_writes_the_text_summary(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    timeline = TimelineWriter(run_dir)
    for t, backlog in ((0, 0), (1, 50), (2, 10)):
        timeline.write({"t": t, "backlog": backlog, "replicas_orders": t, "pods_pending": 1})
    timeline.close()
    write_summary(run_dir, {"command": "observe", "report": {"samples": 3}})
    blocker = tmp_path / "no-matplotlib" / "matplotlib"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('matplotlib blocked for this test')\n")
    result = burst_load("report", str(run_dir), env={"PYTHONPATH": str(blocker.parent)})
    assert result.returncode == 0, result.stderr
    assert "matplotlib is not installed" in result.stderr
    assert "pip install 'oke-burst-scaler[report]'" in result.stderr
    assert (run_dir / "summary.txt").is_file()
    assert "report.samples" in result.stdout
    assert not (run_dir / "timeline.png").exists()


def test_usage_errors_name_the_fix(tmp_path: Path) -> None:
    result = burst_load("produce", "--target", "queue", "--out", str(tmp_path / "x"))
    assert result.returncode == 2
    assert "--target queue needs --queue-id (or BURST_LOAD_QUEUE_ID)" in result.stderr
