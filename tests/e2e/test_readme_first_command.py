"""The README's first command, run as written in a clean checkout, draws timeline.png.

A person's first contact with the project is that one line: a fresh virtual environment, an install, the demo. The
picture is what they look at, so the test runs the line exactly as the README spells it, in a copy of the checkout
with no virtual environment of ours on the PATH, shortened only by the demo's own ``--time-scale`` flag, and looks
for the PNG where the demo says it wrote it.

Installing from the package index takes minutes on this machine (pip's HTTP cache does not help against it), so the
install reads a local wheelhouse instead (``PIP_NO_INDEX`` + ``PIP_FIND_LINKS``): filled from the index once per
set of requirements (keyed on pyproject's dependencies, the demo extra, the build requirements and the Python
version) in a cache outside the repository. Bytecode is left for Python to write when a module is first imported
(``PIP_NO_COMPILE``): the SDKs hold thousands of modules the demo never loads. The command line is not touched.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUDGET_SECONDS = 900.0
"""Filling the wheelhouse (first run only, from the index) + venv + install + the demo."""
SHORTEN = " --time-scale 0.5"
"""The demo's own flag: the same story at half the durations (about 30 s instead of a minute)."""
WHEELHOUSE_ROOT = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "oke-burst-scaler" / "wheelhouse"
_NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.pyc", "*.egg-info", "build", "dist", "burst-reports", ".*_cache", ".hypothesis"
)


def first_command() -> str:
    """The command under ``# 1.`` in the README's Quick start block, verbatim."""
    text = (ROOT / "README.md").read_text()
    match = re.search(r"^## Quick start.*?^```bash\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    assert match, "README.md has no Quick start bash block"
    lines = match.group(1).splitlines()
    marker = next(i for i, line in enumerate(lines) if line.startswith("# 1."))
    return lines[marker + 1].strip()


def _requirements_key() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = {
        "dependencies": project["project"]["dependencies"],
        "demo": project["project"]["optional-dependencies"]["demo"],
        "build": project["build-system"]["requires"],
        "python": list(sys.version_info[:2]),
        "platform": sys.platform,
    }
    return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()[:16]


def _run(command: list[str], deadline: float, *, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        pytest.fail(f"over the {BUDGET_SECONDS:.0f} s budget before {command[:4]}")
    result = subprocess.run(command, capture_output=True, text=True, timeout=remaining, env=env, cwd=cwd, check=False)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One filler at a time: other checkouts on this machine may run the same test."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def wheelhouse(source: Path, deadline: float, env: dict[str, str]) -> Path:
    """Wheels for everything ``pip install '.[demo]'`` and its build need, filled from the index on first use."""
    house = WHEELHOUSE_ROOT / _requirements_key()
    with _locked(WHEELHOUSE_ROOT):
        if (house / "complete").exists():
            return house
        shutil.rmtree(house, ignore_errors=True)
        pip = [sys.executable, "-m", "pip"]
        build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
        _run([*pip, "wheel", "--quiet", "--wheel-dir", str(house), f"{source}[demo]"], deadline, env=env, cwd=source)
        _run([*pip, "download", "--quiet", "--dest", str(house), *build], deadline, env=env, cwd=source)
        for ours in house.glob("oke_burst_scaler-*.whl"):
            ours.unlink()  # the command builds the checkout itself; a stale copy here must never stand in for it
        (house / "complete").write_text("")
    return house


def _clean_env() -> dict[str, str]:
    """The caller's environment without our virtual environment: ``python3`` must be the machine's."""
    ours = str(Path(sys.prefix) / "bin")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env = {k: v for k, v in env.items() if not k.startswith("BURST_SCALER_")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != ours)
    return env


@pytest.mark.timeout(BUDGET_SECONDS + 60)
def test_the_readme_first_command_draws_timeline_png(tmp_path: Path) -> None:
    deadline = time.monotonic() + BUDGET_SECONDS
    command = first_command()
    assert command.endswith("burst-scaler demo"), command
    checkout = tmp_path / "oke-burst-scaler"
    shutil.copytree(ROOT, checkout, ignore=_NOT_COPIED)
    env = _clean_env()
    house = wheelhouse(checkout, deadline, env)
    offline = {**env, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(house), "PIP_NO_COMPILE": "1"}

    result = _run(["bash", "-c", command + SHORTEN], deadline, env=offline, cwd=checkout)

    assert "demo finished: nothing lost" in result.stdout, result.stdout[-3000:]
    (picture,) = (checkout / "burst-reports").glob("*-demo/timeline.png")
    assert picture.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert picture.stat().st_size > 20_000, "a picture with three panels and their legends, not an empty canvas"
    assert (picture.parent / "summary.json").exists()
    assert "timeline.png" in result.stdout
    assert "no timeline.png" not in result.stdout
