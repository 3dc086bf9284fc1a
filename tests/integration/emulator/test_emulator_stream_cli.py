"""``python -m oci_emulator`` with seeded streams and ``--stream-throttle off``, as a real subprocess."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import oci
from oci.streaming.models import CreateCursorDetails

QUIET = {
    "retry_strategy": oci.retry.NoneRetryStrategy(),
    "circuit_breaker_strategy": oci.circuit_breaker.NoCircuitBreakerStrategy(),
}
STREAM_ID = "ocid1.stream.oc1.iad.seeded"


def test_seeded_streams_are_served_and_the_throttle_flag_is_honoured(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    messages = [{"key": f"k{i}", "value": f"v{i}"} for i in range(5)]
    seed.write_text(json.dumps({"streams": [{"name": "seeded", "id": STREAM_ID, "messages": messages}]}))
    config_path = tmp_path / "config"
    command = [sys.executable, "-m", "oci_emulator", "--address", "127.0.0.1:0", "--write-config", str(config_path)]
    command += ["--seed", str(seed), "--stream-throttle", "off", "--log-level", "WARNING"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("emulator listening on http://"), (first, process.stderr and process.stderr.read())
        url = first.removeprefix("emulator listening on ")
        process.stdout.readline()  # config
        compartment_id = process.stdout.readline().strip().removeprefix("emulator compartment ")
        config = oci.config.from_file(str(config_path))
        admin = oci.streaming.StreamAdminClient(config, service_endpoint=url, **QUIET)
        client = oci.streaming.StreamClient(config, service_endpoint=url, **QUIET)
        try:
            (summary,) = admin.list_streams(compartment_id=compartment_id).data
            assert (summary.id, summary.name, summary.partitions, summary.messages_endpoint) == (
                STREAM_ID,
                "seeded",
                1,
                url,
            )
            details = CreateCursorDetails(partition="0", type="TRIM_HORIZON")
            cursor = client.create_cursor(STREAM_ID, details).data.value
            for _ in range(8):  # more than 5 per second: no 429 with the throttle off
                assert len(client.get_messages(STREAM_ID, cursor).data) == 5
        finally:
            admin.base_client.session.close()
            client.base_client.session.close()
        with urllib.request.urlopen(f"{url}/_emulator/stream-throttle", timeout=5) as response:
            assert json.loads(response.read()) == {"enabled": False}

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
