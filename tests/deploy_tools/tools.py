"""The real helm and promtool, as ``burst-scaler lab build helm promtool`` builds them from lab/helm and
lab/promtool, and what these tests share: the chart rendered by ``helm template`` with its default and its full
values (deploy/helm/oke-burst-scaler/ci/full-values.yaml), cached because every test reads the same renders.

These tests are a command of their own (``python -m pytest -q tests/deploy_tools``, after the build) because the
tools need Go to build; .ci/run builds them first. A tool that is not built is a failure that says how to build it.
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]

from onebox.lab.build import component, output_dir
from tests.deploy.manifests import DEPLOY, Obj

CHART = DEPLOY / "helm" / "oke-burst-scaler"
FULL_VALUES = CHART / "ci" / "full-values.yaml"
RELEASE = "burst-scaler"
"""The release name deploy/README.md uses: object names are then exactly deploy/base's."""
NAMESPACE = "keda"


def tool(name: str) -> Path:
    binary = output_dir(component(name)) / name
    if not binary.exists():
        pytest.fail(f"{name} is not built: run `burst-scaler lab build helm promtool` (needs Go 1.26) first")
    return binary


def run(name: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(tool(name)), *args], capture_output=True, text=True, timeout=120, cwd=cwd, check=False)


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return run("helm", *args)


@cache
def _template(values: str, release: str, namespace: str, sets: tuple[str, ...]) -> str:
    args = ["template", release, str(CHART), "--namespace", namespace]
    if values:
        args += ["--values", values]
    for item in sets:
        args += ["--set", item]
    result = helm(*args)
    if result.returncode != 0:
        pytest.fail(f"helm {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def template(
    values: Path | None = None, *, release: str = RELEASE, namespace: str = NAMESPACE, sets: tuple[str, ...] = ()
) -> list[Obj]:
    """A fresh parse of ``helm template`` (tests may mutate what they get)."""
    text = _template(str(values) if values else "", release, namespace, sets)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def kinds(objects: list[Obj]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for obj in objects:
        found.setdefault(obj["kind"], []).append(obj["metadata"]["name"])
    return found
