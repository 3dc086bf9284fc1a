"""One lab for the whole tests/lab session, started and stopped through the CLI operators use.

`lab up` builds what the cache lacks first (a cold build takes a long while; .ci/run runs `lab build` as its own
step before these tests). The teardown checks `lab down`'s promise: no process, network namespace or directory
of the lab is left behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from onebox.lab import netns
from onebox.lab.layout import NETNS_PREFIX, STATE_POINTER
from tests.lab.support import Lab

BIN = Path(sys.executable).parent


def _cli(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "burst-scaler"), "lab", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    started = _cli("up", timeout=3600)
    assert started.returncode == 0, f"lab up failed:\n{started.stdout[-3000:]}\n{started.stderr[-6000:]}"
    status = _cli("status", "--json", timeout=60)
    assert status.returncode == 0, status.stdout + status.stderr
    state = json.loads(status.stdout)
    directory = Path(state["directory"])
    pids = [int(line.split()[0]) for line in _pids(directory)]
    try:
        yield Lab.from_status(state)
    finally:
        stopped = _cli("down", timeout=300)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert not directory.exists(), f"lab down left {directory}"
        assert not STATE_POINTER.exists()
        assert netns.owned(NETNS_PREFIX) == [], "lab down left a network namespace"
        leftovers = [pid for pid in pids if Path(f"/proc/{pid}").exists() and not _zombie(pid)]
        assert leftovers == [], f"lab down left processes {leftovers}"


def _pids(directory: Path) -> list[str]:
    state = json.loads((directory / "state.json").read_text())
    return [f"{proc['pid']} {proc['name']}" for proc in state["procs"]]


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.fixture(autouse=True)
def _own_namespaces(lab: Lab) -> Iterator[None]:
    """Each test's namespaces (named lab-*) go when it ends, so its pods stop holding node capacity or consumers."""
    yield
    namespaces = lab.get("namespaces")["items"]
    names = [n["metadata"]["name"] for n in namespaces if n["metadata"]["name"].startswith("lab-")]
    if names:
        lab.kubectl("delete", "namespace", "--wait=false", *names)
