"""The scaler and Oracle's CLI install into one environment: asked of pip's own resolver, not reasoned about.

People who run the scaler's tools usually have Oracle's CLI installed, and oci-cli pins the oci SDK exactly and
caps certifi and PyYAML. A floor of ours that excludes what it allows (kubernetes>=37 once needed certifi>=2026)
makes ``pip install oke-burst-scaler oci-cli`` fail with ResolutionImpossible. The test resolves this checkout
together with the newest oci-cli on the package index, as a dry run (nothing is installed), and reads pip's report.
It needs the package index, as the image build does.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
BUDGET_SECONDS = 240.0


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=BUDGET_SECONDS, check=False
    )
    assert result.returncode == 0, f"pip {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


def newest_oci_cli() -> str:
    listed = _pip("index", "versions", "oci-cli").stdout
    match = re.search(r"^oci-cli \(([^)]+)\)", listed, flags=re.MULTILINE)
    assert match, listed
    return match.group(1)


@pytest.mark.timeout(BUDGET_SECONDS * 2)
def test_the_scaler_resolves_beside_the_newest_oci_cli(tmp_path: Path) -> None:
    cli = newest_oci_cli()
    report = tmp_path / "report.json"
    _pip("install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report), str(ROOT), f"oci-cli=={cli}")

    installed = {
        canonicalize_name(item["metadata"]["name"]): Version(item["metadata"]["version"])
        for item in json.loads(report.read_text())["install"]
    }
    assert installed[canonicalize_name("oci-cli")] == Version(cli)
    assert canonicalize_name("oke-burst-scaler") in installed
    # every floor of ours holds in the shared environment (pip would not lie, but a renamed package would slip by)
    for line in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in installed, f"{name} missing from the resolution"
        assert requirement.specifier.contains(installed[name]), f"{name} {installed[name]} breaks {requirement}"


def test_matplotlib_stays_out_of_the_scaler_and_its_image() -> None:
    """The picture's library comes with the demo extra only: the image installs the bare wheel."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = {canonicalize_name(Requirement(line).name) for line in project["dependencies"]}
    demo = {canonicalize_name(Requirement(line).name) for line in project["optional-dependencies"]["demo"]}
    assert "matplotlib" in demo
    assert "matplotlib" not in base
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = re.findall(r"pip install [^\n]*", dockerfile)
    assert installs, "the Dockerfile installs the wheel with pip"
    assert all("[" not in line and "matplotlib" not in line for line in installs), installs
