"""``python -m oci_emulator`` as a real subprocess: config file, seed, SDK calls, SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import oci

QUIET = {
    "retry_strategy": oci.retry.NoneRetryStrategy(),
    "circuit_breaker_strategy": oci.circuit_breaker.NoCircuitBreakerStrategy(),
}


def test_subprocess_writes_a_working_config_and_stops_on_sigterm(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps(
            {
                "queues": [
                    {
                        "displayName": "seeded",
                        "id": "ocid1.queue.oc1.iad.seeded",
                        "messages": [{"content": "a"}, {"content": "b", "channelId": "c1"}],
                    }
                ]
            }
        )
    )
    config_path = tmp_path / "tmp" / "config"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oci_emulator",
            "--address",
            "127.0.0.1:0",
            "--write-config",
            str(config_path),
            "--seed",
            str(seed),
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("emulator listening on http://127.0.0.1:"), first
        url = first.removeprefix("emulator listening on ")
        assert process.stdout.readline().strip() == f"emulator config {config_path} profile DEFAULT"
        compartment_id = process.stdout.readline().strip().removeprefix("emulator compartment ")

        config = oci.config.from_file(str(config_path))
        admin = oci.queue.QueueAdminClient(config, service_endpoint=url, **QUIET)
        data = oci.queue.QueueClient(config, service_endpoint=url, **QUIET)
        try:
            (summary,) = admin.list_queues(compartment_id=compartment_id).data.items
            assert (summary.id, summary.display_name, summary.messages_endpoint) == (
                "ocid1.queue.oc1.iad.seeded",
                "seeded",
                url,
            )
            assert data.get_stats(summary.id).data.queue.visible_messages == 2
            assert data.list_channels(summary.id).data.items == ["c1"]
        finally:
            admin.base_client.session.close()
            data.base_client.session.close()

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_bad_seed_exits_2_with_the_problems(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"queues": [{"retentionInSeconds": 1}]}))

    result = subprocess.run(
        [sys.executable, "-m", "oci_emulator", "--address", "127.0.0.1:0", "--seed", str(seed)],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 2
    assert "queues[0].displayName is required" in result.stderr
    assert "queues[0].retentionInSeconds must be between 10 and 604800, got 1" in result.stderr
