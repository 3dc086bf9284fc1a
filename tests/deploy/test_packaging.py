"""The container image, without a Docker engine: the Dockerfile's shape, and what it does, done here for real.

The image build is two steps: build one wheel from exactly the files the Dockerfile COPYs, then install that wheel
(dependencies from the package index) into a clean Python and run the console scripts. The last test does both
steps in a fresh virtual environment, so a missing package file, module or entry point fails here and not in a
cluster. It needs the package index, as the image build does.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
BUDGET_SECONDS = 300.0
"""Wheel build + clean install + smoke runs, all together (the first run downloads the dependencies)."""

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: orders, namespace: shop}
spec:
  template:
    spec:
      nodeSelector: {type: virtual-node}
      tolerations: [{key: virtual-kubelet.io/provider, operator: Exists, effect: NoSchedule}]
      containers:
        - name: consumer
          image: oke-burst-scaler:0.1.0
          resources: {requests: {cpu: "1", memory: 1Gi}, limits: {cpu: "1", memory: 1Gi}}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: orders, namespace: shop}
spec:
  scaleTargetRef: {name: orders}
  triggers:
    - type: external-push
      metadata:
        scalerAddress: burst-scaler-headless.keda.svc.cluster.local:6000
        source: oci-queue
        queueId: ocid1.queue.oc1.iad.amaaaaaapackagingtest
        tier: virtual
"""


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending = f"{pending} {line}" if pending else line
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        logical.append(pending)
        pending = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in logical]


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def build_copies() -> list[str]:
    """Source paths the build stage COPYs from the context (not from another stage)."""
    sources: list[str] = []
    for name, args in stages()[0]:
        if name == "COPY" and "--from" not in args:
            sources += args.split()[:-1]
    return sources


def excluded_by_dockerignore(path: str) -> bool:
    """Docker's rule for the patterns used here: the last matching pattern wins; '!' re-includes."""
    excluded = False
    for raw in DOCKERIGNORE.read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path.rstrip("/"), pattern):
            excluded = not negate
    return excluded


def test_dockerfile_builds_a_wheel_then_installs_it_into_a_slim_non_root_runtime() -> None:
    (default_image,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE.read_text(), flags=re.MULTILINE)
    assert re.fullmatch(r"python:3\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", default_image)
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minor = int(re.findall(r"python:3\.(\d+)", default_image)[0])
    assert requires == ">=3.11"
    assert minor >= 11
    build, runtime = stages()
    assert build[0] == ("FROM", "${PYTHON_IMAGE} AS build")
    assert runtime[0] == ("FROM", "${PYTHON_IMAGE} AS runtime")
    build_runs = " ".join(args for name, args in build if name == "RUN")
    runtime_runs = " ".join(args for name, args in runtime if name == "RUN")
    assert "pip wheel --no-deps" in build_runs
    assert "--mount=type=bind,from=build" in runtime_runs
    assert "pip install --no-cache-dir /wheels/" in runtime_runs
    assert not re.search(r"apt-get|gcc|build-essential", runtime_runs), "no compilers in the runtime image"
    assert not any(name == "COPY" for name, _ in runtime), "the runtime stage copies no source and no wheel layer"
    (user,) = [args for name, args in runtime if name == "USER"]
    uid = user.split(":")[0]
    assert uid.isdigit(), "numeric user, so Kubernetes runAsNonRoot can verify it"
    assert int(uid) != 0
    directives = dict(runtime)
    assert json.loads(directives["ENTRYPOINT"]) == ["burst-scaler"]
    assert json.loads(directives["CMD"]) == ["serve"]
    assert set(directives["EXPOSE"].split()) == {"6000", "8080"}


def test_dockerignore_admits_exactly_what_the_build_copies() -> None:
    copies = build_copies()
    assert {"pyproject.toml", "README.md", "scaler/", "load/"} <= set(copies)
    for source in copies:
        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
        assert not excluded_by_dockerignore(source), f"COPY {source}: excluded by .dockerignore"
    for unwanted in (".git", ".venv", "tests", "deploy", ".hypothesis", "oke_burst_scaler.egg-info"):
        assert excluded_by_dockerignore(unwanted), f"{unwanted} would be sent to the Docker build context"


def _run(
    command: list[str], deadline: float, *, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        pytest.fail(f"packaging exceeded its {BUDGET_SECONDS:.0f} s budget before {command[:3]}")
    result = subprocess.run(command, capture_output=True, text=True, timeout=remaining, env=env, cwd=cwd, check=False)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.mark.timeout(BUDGET_SECONDS + 60)
def test_wheel_installs_into_a_clean_venv_and_runs_both_console_scripts(tmp_path: Path) -> None:
    deadline = time.monotonic() + BUDGET_SECONDS
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "KUBECONFIG")}
    env = {k: v for k, v in env.items() if not k.startswith("BURST_SCALER_")}

    # Build stage: the build context is only what the Dockerfile COPYs.
    context = tmp_path / "src"
    context.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for source in build_copies():
        origin = ROOT / source
        if origin.is_dir():
            shutil.copytree(origin, context / source, ignore=ignore)
        else:
            shutil.copy2(origin, context / source)
    wheels = tmp_path / "wheels"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(wheels), str(context)], deadline, env=env
    )
    (wheel,) = wheels.glob("oke_burst_scaler-*.whl")
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert wheel.name.startswith(f"oke_burst_scaler-{version}-")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert {"scaler/cli.py", "scaler/_proto/externalscaler_pb2.py", "load/cli.py"} <= names
    assert "burst-scaler = onebox.cli:main" in entry_points
    assert "burst-load = load.cli:main" in entry_points

    # Runtime stage: a clean interpreter, the wheel and its dependencies, nothing from this checkout.
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], deadline, env=env)
    bin_dir = venv / "bin"
    _run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)], deadline, env=env, cwd=tmp_path)

    installed = _run(
        [str(bin_dir / "python"), "-c", "import scaler, load; print(scaler.__file__); print(load.__file__)"],
        deadline,
        env=env,
        cwd=tmp_path,
    )
    for path in installed.stdout.split():
        assert Path(path).is_relative_to(venv), f"imported from outside the clean venv: {path}"
    scaler_version = _run([str(bin_dir / "burst-scaler"), "--version"], deadline, env=env, cwd=tmp_path)
    assert version in scaler_version.stdout + scaler_version.stderr
    load_help = _run([str(bin_dir / "burst-load"), "--help"], deadline, env=env, cwd=tmp_path)
    assert "usage: burst-load" in load_help.stdout
    serve_help = _run([str(bin_dir / "burst-scaler"), "serve", "--help"], deadline, env=env, cwd=tmp_path)
    assert "BURST_SCALER_OCI_AUTH" in serve_help.stdout
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(MANIFEST)
    checked = _run([str(bin_dir / "burst-scaler"), "check", "-f", str(manifest)], deadline, env=env, cwd=tmp_path)
    assert "no placement problems" in checked.stdout
