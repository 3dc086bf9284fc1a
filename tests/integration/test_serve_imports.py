"""`burst-scaler serve` loads the product and nothing of the emulator, the load generator or the local world.

The scaler's image runs `burst-scaler serve`; every module it imports is start-up time and attack surface. The test
runs the real console script with Python's import-time log on and reads what was imported.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

BIN = Path(sys.executable).parent
FORBIDDEN = ("oci_emulator", "load", "onebox.harness", "onebox.demo", "onebox.lab", "matplotlib")


def _oci_config(directory: Path) -> Path:
    """An API-key OCI config; serve only loads it (nothing here calls OCI)."""
    key = directory / "key.pem"
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    config = directory / "config"
    config.write_text(
        "[DEFAULT]\nuser=ocid1.user.oc1..test\nfingerprint=00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff\n"
        f"tenancy=ocid1.tenancy.oc1..test\nregion=us-ashburn-1\nkey_file={key}\n"
    )
    return config


def test_serve_imports_no_emulator_load_harness_demo_or_lab_module(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BURST_SCALER_")}
    env["PYTHONPROFILEIMPORTTIME"] = "1"
    env["BURST_SCALER_OCI_CONFIG"] = str(_oci_config(tmp_path))
    log = tmp_path / "stderr.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [
                str(BIN / "burst-scaler"),
                "serve",
                "--address",
                "127.0.0.1:0",
                "--metrics-address",
                "off",
                "--kube",
                "off",
            ],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
        )
        try:
            deadline = time.monotonic() + 30
            while "serving externalscaler.ExternalScaler" not in log.read_text():
                assert process.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
    imported = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", log.read_text(), flags=re.MULTILINE))
    assert "scaler.server" in imported, "the import log was read"
    loaded = sorted(m for m in imported if m in FORBIDDEN or m.startswith(tuple(f"{f}." for f in FORBIDDEN)))
    assert loaded == [], f"serve imported {loaded}"
