"""`burst-scaler lab build`: build the lab's real components from the Go modules pinned in lab/, once.

Each component family is its own Go module (lab/kube, lab/keda, lab/kwok, lab/karpenter) because their Kubernetes
library versions clash. The deploy tools CI runs on deploy/ (helm for the chart, promtool for the alert rules) are
built the same way from lab/helm and lab/promtool, and the Prometheus Operator's CRDs are generated from
lab/prometheus-operator, but only on request (``burst-scaler lab build helm promtool prometheus-operator``): the
lab itself never needs them.

Binaries land in ``$XDG_CACHE_HOME/oke-burst-lab/<module>-<version>-<hash>/``, where the hash covers the module's
go.mod, go.sum and Go files: a changed pin builds anew, an unchanged one costs nothing. The build never edits
go.mod/go.sum (``-mod=readonly``), so what runs is exactly what is committed.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

LAB_SOURCES = Path(__file__).resolve().parents[2] / "lab"
"""The committed Go modules; present in a source checkout (the lab is a development tool, not part of the wheel)."""


class BuildError(RuntimeError):
    """A component could not be built; the message carries go's own error output."""


@dataclass(frozen=True)
class Component:
    """One Go module of lab/ and the binaries built from it."""

    module: str
    """Directory under lab/."""
    upstream: str
    """The module path whose version names the build (the one ``require``d in go.mod)."""
    packages: Mapping[str, str]
    """Binary name → Go package path to build."""
    tags: tuple[str, ...] = ()
    """Go build tags, as the upstream documents them for trimming what the binary links."""
    generate: tuple[str, ...] = ()
    """After the build: one of the built binaries and its arguments (``{out}`` is the output directory), run in the
    module's directory; what it writes is cached with the binaries."""

    def ldflags(self, version: str, *, sources: Path | None = None) -> str:
        """Version stamps as each upstream's own release build sets them (so /version and logs are truthful)."""
        flags = ["-s", "-w"]
        if self.module == "kube":
            major, minor = version.lstrip("v").split(".")[:2]
            stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
                flags += [f"-X {pkg}.gitVersion={version}", f"-X {pkg}.gitMajor={major}", f"-X {pkg}.gitMinor={minor}"]
            flags += ["-X k8s.io/component-base/version.gitTreeState=clean"]
            flags += [f"-X k8s.io/component-base/version.buildDate={stamp}"]
        elif self.module == "keda":
            flags += [f"-X github.com/kedacore/keda/v2/version.Version={version.lstrip('v')}"]
        elif self.module == "karpenter":
            flags += [f"-X sigs.k8s.io/karpenter/pkg/operator.Version={version}"]
        elif self.module == "helm":
            flags += _helm_ldflags(version, sources or LAB_SOURCES)
        elif self.module == "promtool":
            flags += [f"-X github.com/prometheus/common/version.Version={_prometheus_release(version)}"]
        return " ".join(flags)


def _helm_ldflags(version: str, sources: Path) -> list[str]:
    """helm's Makefile stamps its version and the Kubernetes version its client-go speaks (major + 1, minor): that
    is the default ``.Capabilities.KubeVersion`` of ``helm template`` and the version ``helm lint`` checks API
    deprecations against. Unstamped, both say v1.20."""
    client_go = _required(sources / "helm" / "go.mod", "k8s.io/client-go")
    major, minor = client_go.lstrip("v").split(".")[:2]
    flags = [
        f"-X helm.sh/helm/v3/internal/version.version={version}",
        "-X helm.sh/helm/v3/internal/version.gitTreeState=clean",
    ]
    for pkg in ("helm.sh/helm/v3/pkg/lint/rules", "helm.sh/helm/v3/pkg/chartutil"):
        flags += [f"-X {pkg}.k8sVersionMajor={int(major) + 1}", f"-X {pkg}.k8sVersionMinor={minor}"]
    return flags


def _prometheus_release(module_version: str) -> str:
    """Prometheus publishes release 3.Y.Z as Go module v0.3YY.Z (v0.316.0 is 3.16.0)."""
    minor, patch = module_version.lstrip("v").split(".")[1:3]
    return f"{int(minor) // 100}.{int(minor) % 100}.{patch}"


COMPONENTS = (
    Component(
        module="kube",
        upstream="k8s.io/kubernetes",
        packages={
            "etcd": "./cmd/etcd",
            "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
            "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
            "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
        },
    ),
    Component(module="kwok", upstream="sigs.k8s.io/kwok", packages={"kwok": "sigs.k8s.io/kwok/cmd/kwok"}),
    Component(
        module="karpenter",
        upstream="sigs.k8s.io/karpenter",
        packages={"karpenter-kwok": "sigs.k8s.io/karpenter/kwok"},
    ),
    Component(
        module="keda",
        upstream="github.com/kedacore/keda/v2",
        packages={
            "keda-operator": "github.com/kedacore/keda/v2/cmd/operator",
            "keda-adapter": "github.com/kedacore/keda/v2/cmd/adapter",
        },
    ),
)
"""What ``lab build`` and ``lab up`` build: the lab's cluster."""

TOOLS = (
    Component(module="helm", upstream="helm.sh/helm/v3", packages={"helm": "helm.sh/helm/v3/cmd/helm"}),
    Component(
        module="promtool",
        upstream="github.com/prometheus/prometheus",
        packages={"promtool": "github.com/prometheus/prometheus/cmd/promtool"},
        # promtool links every service-discovery plugin by default (cloud SDKs, most of its build time);
        # `test rules` and `check rules` use none of them.
        tags=("remove_all_sd",),
    ),
    Component(
        module="prometheus-operator",
        upstream="github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring",
        packages={"controller-gen": "sigs.k8s.io/controller-tools/cmd/controller-gen"},
        # The ServiceMonitor and PrometheusRule CRDs, generated from the operator's published API types the way
        # upstream generates its CRD files (its repository's module, which holds those files, is not served).
        generate=(
            "controller-gen",
            "crd:crdVersions=v1",
            "paths=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1",
            "output:crd:dir={out}/crds",
        ),
    ),
)
"""Built only when named (``lab build helm promtool prometheus-operator``): tools and CRDs that CI checks deploy/
with, not parts of the lab."""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "oke-burst-lab"


def go_env() -> dict[str, str]:
    """Go as upstream releases build these binaries: static, no VCS stamping, never rewriting our go.mod."""
    env = dict(os.environ)
    env.update(GOTOOLCHAIN="local", CGO_ENABLED="0", GOFLAGS="-mod=readonly -buildvcs=false -trimpath")
    return env


def _required(go_mod: Path, module: str) -> str:
    text = go_mod.read_text()
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)}\s+(v\S+)", text, flags=re.MULTILINE)
    if match is None:
        raise BuildError(f"{go_mod.parent.name}/go.mod does not require {module}")
    return match.group(1)


def required_version(component: Component, sources: Path = LAB_SOURCES) -> str:
    return _required(sources / component.module / "go.mod", component.upstream)


def _fingerprint(module_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted([module_dir / "go.mod", module_dir / "go.sum", *module_dir.rglob("*.go")]):
        digest.update(path.relative_to(module_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Built:
    """Where a component's binaries are, and what building them cost (0 when the cache already had them)."""

    component: Component
    version: str
    directory: Path
    build_seconds: float
    cached: bool

    def binary(self, name: str) -> Path:
        return self.directory / name


def output_dir(component: Component, *, sources: Path = LAB_SOURCES, cache: Path | None = None) -> Path:
    version = required_version(component, sources)
    root = cache or cache_root()
    return root / f"{component.module}-{version}-{_fingerprint(sources / component.module)}"


def build_component(
    component: Component,
    *,
    sources: Path = LAB_SOURCES,
    cache: Path | None = None,
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
) -> Built:
    version = required_version(component, sources)
    target = output_dir(component, sources=sources, cache=cache)
    stamp = target / "build.json"
    if stamp.exists() and all((target / name).exists() for name in component.packages):
        recorded = json.loads(stamp.read_text())
        return Built(component, version, target, float(recorded["seconds"]), cached=True)
    if shutil.which("go") is None:
        raise BuildError("the lab needs Go (1.26 or newer) on PATH to build its components")
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    started = time.monotonic()
    tags = ["-tags", ",".join(component.tags)] if component.tags else []
    flags = component.ldflags(version, sources=sources)
    command = ["go", "build", *tags, "-ldflags", flags, "-o", f"{staging}/", *component.packages.values()]
    result = run(command, cwd=sources / component.module, env=go_env(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise BuildError(f"building {component.upstream} {version} failed:\n{result.stderr[-4000:]}")
    for name, package in component.packages.items():
        produced = staging / package.rstrip("/").rsplit("/", 1)[-1]
        if produced != staging / name:
            produced.rename(staging / name)
    if component.generate:
        binary, *args = component.generate
        command = [str(staging / binary), *(a.replace("{out}", str(staging)) for a in args)]
        result = run(command, cwd=sources / component.module, env=go_env(), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise BuildError(f"{binary} for lab/{component.module} failed:\n{result.stderr[-4000:]}")
    seconds = time.monotonic() - started
    built_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    (staging / "build.json").write_text(json.dumps({"version": version, "seconds": round(seconds, 1), "at": built_at}))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return Built(component, version, target, seconds, cached=False)


def build_all(
    *,
    report: Callable[[str], None] = print,
    sources: Path = LAB_SOURCES,
    components: tuple[Component, ...] = COMPONENTS,
) -> dict[str, Built]:
    """Build what is missing, reporting each component's version and build time; returns built binaries by module."""
    if not (sources / "kube" / "go.mod").exists():
        raise BuildError(f"no lab Go modules at {sources}: `lab build` runs from a source checkout of the project")
    done: dict[str, Built] = {}
    for component in components:
        built = build_component(component, sources=sources)
        how = "cached" if built.cached else "built"
        report(
            f"{component.upstream:32} {built.version:9} {how} ({built.build_seconds:.0f} s to build) {built.directory}"
        )
        done[component.module] = built
    return done


def module_dir(component: Component, *, sources: Path = LAB_SOURCES) -> Path:
    """The downloaded upstream module (CRDs, stage files and the like are read from there, never copied)."""
    result = subprocess.run(
        ["go", "list", "-m", "-json", component.upstream],
        cwd=sources / component.module,
        env=go_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BuildError(f"go list -m {component.upstream} failed: {result.stderr.strip()}")
    return Path(json.loads(result.stdout)["Dir"])


def component(module: str) -> Component:
    found = [c for c in (*COMPONENTS, *TOOLS) if c.module == module]
    if not found:
        known = ", ".join(c.module for c in (*COMPONENTS, *TOOLS))
        raise BuildError(f"no component {module!r} in lab/ (known: {known})")
    return found[0]
