"""The deploy tools built like the lab's components: version stamps as upstream's release builds set them, build
tags, and the generate step that writes the Prometheus Operator's CRDs into the cache beside controller-gen. The Go
toolchain is replaced at the ``run`` seam: what is checked is the commands the build would run, and the cache."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from onebox.lab.build import LAB_SOURCES, BuildError, build_component, component


class FakeGo:
    """Records commands; ``go build -o DIR/`` leaves one empty file per package, a generator leaves ``crds/``."""

    def __init__(self, *, generate_fails: bool = False) -> None:
        self.commands: list[list[str]] = []
        self.generate_fails = generate_fails

    def __call__(self, command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(command)
        if command[:2] == ["go", "build"]:
            out = Path(command[command.index("-o") + 1])
            for package in command[command.index("-o") + 2 :]:
                (out / package.rsplit("/", 1)[-1]).write_text("")
            return subprocess.CompletedProcess(command, 0, "", "")
        if self.generate_fails:
            return subprocess.CompletedProcess(command, 1, "", "no Go files")
        crds = Path(next(a for a in command if a.startswith("output:crd:dir=")).split("=", 1)[1])
        crds.mkdir(parents=True)
        (crds / "monitoring.coreos.com_servicemonitors.yaml").write_text("kind: CustomResourceDefinition\n")
        return subprocess.CompletedProcess(command, 0, "", "")


@pytest.fixture(autouse=True)
def _go_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """build_component asks for `go` on PATH before it runs anything; the fake stands in for it."""
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")


def test_helm_is_stamped_with_its_version_and_the_kubernetes_version_of_its_client_go(tmp_path: Path) -> None:
    go = FakeGo()
    built = build_component(component("helm"), cache=tmp_path, run=go)
    (command,) = go.commands
    flags = command[command.index("-ldflags") + 1]
    assert f"-X helm.sh/helm/v3/internal/version.version={built.version}" in flags
    go_mod = (LAB_SOURCES / "helm" / "go.mod").read_text().splitlines()
    client_go = next(line.split()[1] for line in go_mod if "k8s.io/client-go " in line)
    minor = client_go.split(".")[1]
    for pkg in ("helm.sh/helm/v3/pkg/chartutil", "helm.sh/helm/v3/pkg/lint/rules"):
        assert f"-X {pkg}.k8sVersionMajor=1 -X {pkg}.k8sVersionMinor={minor}" in flags
    assert built.binary("helm").exists()
    assert not built.cached
    assert build_component(component("helm"), cache=tmp_path, run=go).cached
    assert len(go.commands) == 1


def test_promtool_leaves_out_service_discovery_and_carries_the_prometheus_release(tmp_path: Path) -> None:
    go = FakeGo()
    built = build_component(component("promtool"), cache=tmp_path, run=go)
    (command,) = go.commands
    assert command[command.index("-tags") + 1] == "remove_all_sd"
    assert built.version.startswith("v0.3")
    release = f"3.{int(built.version.split('.')[1]) - 300}.{built.version.split('.')[2]}"
    assert f"-X github.com/prometheus/common/version.Version={release}" in command[command.index("-ldflags") + 1]


def test_the_operator_crds_are_generated_into_the_cache_beside_controller_gen(tmp_path: Path) -> None:
    go = FakeGo()
    built = build_component(component("prometheus-operator"), cache=tmp_path, run=go)
    build, generate = go.commands
    assert build[-1] == "sigs.k8s.io/controller-tools/cmd/controller-gen"
    assert generate[0] == str(built.directory.with_name(built.directory.name + ".partial") / "controller-gen")
    assert "paths=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1" in generate
    assert (built.directory / "crds" / "monitoring.coreos.com_servicemonitors.yaml").exists()


def test_a_failed_generation_fails_the_build_and_caches_nothing(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"controller-gen for lab/prometheus-operator failed:\nno Go files"):
        build_component(component("prometheus-operator"), cache=tmp_path, run=FakeGo(generate_fails=True))
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(BuildError, match=r"no component 'helmet' in lab/ \(known: kube, kwok, karpenter, keda, helm"):
        component("helmet")
