"""`lab up`, `lab down`, `lab status`: bring the whole lab up in dependency order, and take it all away again.

Order matters because each component needs the previous one: etcd → API server → controllers, scheduler and KWOK
(nodes) → the namespace relay → CRDs and API registration → the emulator and the scaler (as its ServiceAccount)
→ KEDA and Karpenter → the consumer supervisor → deploy/examples. State is saved after every start, so `lab down`
cleans up after a half-finished `up` as well as after a finished one.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from onebox.lab import components as c
from onebox.lab import kubectl, netns, objects, procs, waits
from onebox.lab.build import build_all, component, module_dir
from onebox.lab.components import Launch, Options
from onebox.lab.layout import (
    EXAMPLES_NAMESPACE,
    NETNS_PREFIX,
    SCALER_HOSTS,
    STATE_POINTER,
    Layout,
    Proc,
    load,
    save,
)
from onebox.lab.pki import Authority, service_account_keys, write_kubeconfig


class LabError(RuntimeError):
    """The lab cannot do what was asked (already running, not running, missing tool)."""


def _pki(layout: Layout) -> None:
    pki = layout.path("pki")
    pki.mkdir()
    ca = Authority(pki, "ca")
    ca.issue(
        pki,
        "apiserver",
        common_name="kube-apiserver",
        dns=("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"),
        ips=("127.0.0.1", "10.96.0.1"),
        server=True,
    )
    admin = ca.issue(pki, "admin", common_name="lab-admin", organization="system:masters", client=True)
    front = Authority(pki, "front-proxy-ca")
    front.issue(pki, "front-proxy-client", common_name="front-proxy-client", client=True)
    service_account_keys(pki)
    keda = layout.path("keda-certs")
    keda.mkdir()
    Authority(keda, "ca").issue(
        keda, "tls", common_name="localhost", dns=("localhost",), ips=("127.0.0.1",), server=True, client=True
    )
    write_kubeconfig(
        layout.admin_kubeconfig, server=layout.apiserver_url, ca=pki / "ca.crt", user="lab-admin", client=admin
    )


class _Starter:
    """Starts processes and records each at once, so a failure half-way leaves nothing `down` cannot find."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.procs: list[Proc] = []

    def start(self, launch: Launch) -> Proc:
        command = [*netns.exec_prefix(self.layout.netns), *launch.command] if launch.in_netns else launch.command
        proc = procs.spawn(launch.name, command, logs=self.layout.path("logs"), env=launch.env)
        self.procs.append(proc)
        save(self.layout, self.procs, ready=False)
        return proc


def _condition(obj: dict[str, Any], kind: str) -> bool:
    return any(
        cond.get("type") == kind and cond.get("status") == "True"
        for cond in (obj.get("status") or {}).get("conditions") or []
    )


def _get(layout: Layout, args: list[str]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(kubectl.run(layout.admin_kubeconfig, [*args, "-o", "json"]))
    return document


def _all_true(layout: Layout, args: list[str], kind: str, minimum: int = 1) -> Callable[[], bool]:
    def check() -> bool:
        document = _get(layout, args)
        items = document.get("items", [document])
        return len(items) >= minimum and all(_condition(item, kind) for item in items)

    return check


def up(*, options: Options | None = None, examples: bool = True, report: Callable[[str], None] = print) -> Layout:
    """Start the lab and return once every component is ready (raises LabNotReady, after cleaning up, if not)."""
    running = load()
    if running is not None and any(procs.alive(p) for p in running[1]):
        raise LabError(f"a lab is already running from {running[0].directory}; run `burst-scaler lab down` first")
    if running is not None:
        down(report=lambda _: None)
    options = options or Options()
    bins = build_all(report=report)
    started = time.monotonic()
    layout = Layout.new()
    starter = _Starter(layout)
    for sub in ("logs", "oci", "consumers"):
        layout.path(sub).mkdir()
    save(layout, [], ready=False)
    try:
        _bring_up(layout, starter, bins, options, examples, report)
    except BaseException:
        report("lab up failed; cleaning up")
        down(report=lambda _: None)
        raise
    save(layout, starter.procs, ready=True)
    report(f"lab ready in {time.monotonic() - started:.1f} s; kubeconfig {layout.admin_kubeconfig}")
    return layout


def _bring_up(
    layout: Layout,
    starter: _Starter,
    bins: dict[str, Any],
    options: Options,
    examples: bool,
    report: Callable[[str], None],
) -> None:
    p = layout.ports
    pki = layout.path("pki")
    _pki(layout)
    netns.create(layout.netns, hosts={host: "127.0.0.1" for host in SCALER_HOSTS})

    etcd = starter.start(c.etcd(layout, bins))
    waits.until("etcd", waits.http_ok(f"http://127.0.0.1:{p.etcd_client}/health"), timeout=30, watch=[etcd])
    api = starter.start(c.apiserver(layout, bins))
    admin = (pki / "admin.crt", pki / "admin.key")
    readyz = waits.http_ok(f"{layout.apiserver_url}/readyz", ca=pki / "ca.crt", cert=admin)
    waits.until("kube-apiserver", readyz, timeout=60, watch=[etcd, api])
    report("kube-apiserver ready")

    kwok_config = layout.path("kwok.yaml")
    kwok_config.write_text(objects.kwok_config(module_dir(component("kwok")), options))
    control = [
        starter.start(c.controller_manager(layout, bins, options)),
        starter.start(c.scheduler(layout, bins)),
        starter.start(c.kwok(layout, bins, kwok_config)),
    ]
    relay = starter.start(c.relay(layout))
    waits.until("relay", waits.log_says(relay, "relay ready"), timeout=15, watch=[relay])

    kubectl.apply(layout.admin_kubeconfig, [_namespace("keda"), *objects.fixed_nodes()])
    keda_dir = module_dir(component("keda"))
    karpenter_dir = module_dir(component("karpenter"))
    crds = kubectl.render(keda_dir / "config" / "crd")
    # the chart's CRDs (NodePool and NodeClaim with the CEL rule that admits karpenter.kwok.sh labels) and the
    # provider's own node class
    karpenter_crds = [
        *(karpenter_dir / "kwok" / "charts" / "crds").glob("*.yaml"),
        *(karpenter_dir / "kwok" / "apis" / "crds").glob("*.yaml"),
    ]
    crds += [d for f in sorted(karpenter_crds) for d in kubectl.render_file(f)]
    kubectl.apply(layout.admin_kubeconfig, crds)
    kubectl.apply(layout.admin_kubeconfig, objects.keda_api_registration(p.keda_adapter))
    kubectl.run(layout.admin_kubeconfig, ["wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"])
    report("CRDs established (KEDA, Karpenter, KWOK node class)")

    seed = layout.path("seed.json")
    seed.write_text(objects.emulator_seed())
    emulator = starter.start(c.emulator(layout, seed))
    # real authorization for KEDA and for us: KEDA's ServiceAccount and RBAC from its module, ours from deploy/base
    keda_rbac = [
        o for sub in ("service_account", "rbac", "metrics-server") for o in kubectl.render(keda_dir / "config" / sub)
    ]
    kubectl.apply(layout.admin_kubeconfig, objects.rbac_only(keda_rbac))
    kubectl.apply(layout.admin_kubeconfig, objects.rbac_only(kubectl.render(objects.DEPLOY / "base")))
    _service_account_kubeconfig(layout, "keda-operator", layout.keda_kubeconfig)
    _service_account_kubeconfig(layout, "burst-scaler", layout.scaler_kubeconfig)
    waits.until("OCI emulator", waits.log_says(emulator, "emulator compartment"), timeout=30, watch=[emulator])
    scaler = starter.start(c.scaler(layout))
    waits.until("burst-scaler", waits.tcp_open(p.scaler), timeout=30, watch=[scaler])
    report("OCI emulator and burst-scaler ready")

    keda = [starter.start(c.keda_operator(layout, bins)), starter.start(c.keda_adapter(layout, bins))]
    karpenter = starter.start(c.karpenter(layout, bins))
    kubectl.apply(layout.admin_kubeconfig, objects.kwok_pool(options))
    consumers = starter.start(c.consumers(layout))
    everything = [etcd, api, *control, relay, emulator, scaler, *keda, karpenter, consumers]
    waits.until("nodes Ready", _all_true(layout, ["get", "nodes"], "Ready", 2), timeout=60, watch=everything)
    waits.until(
        "KEDA metrics API",
        _all_true(layout, ["get", "apiservice", "v1beta1.external.metrics.k8s.io"], "Available"),
        timeout=90,
        watch=everything,
    )
    report("KEDA operator and metrics adapter ready")
    waits.until("Karpenter NodePool", _all_true(layout, ["get", "nodepools"], "Ready"), timeout=90, watch=everything)
    report("Karpenter ready")
    if examples:
        for example in objects.EXAMPLES:
            kubectl.apply(layout.admin_kubeconfig, kubectl.render(objects.DEPLOY / "examples" / example))
        waits.until(
            "ScaledObjects Ready",
            _all_true(layout, ["get", "scaledobjects", "-n", EXAMPLES_NAMESPACE], "Ready", 4),
            timeout=90,
            watch=everything,
        )
        report("deploy/examples applied; every ScaledObject Ready")


def _service_account_kubeconfig(layout: Layout, account: str, path: Path) -> None:
    """A kubeconfig that authenticates as keda/<account> with a real token the API server signed."""
    token = kubectl.run(layout.admin_kubeconfig, ["create", "token", account, "-n", "keda", "--duration=48h"])
    write_kubeconfig(
        path,
        server=layout.apiserver_url,
        ca=layout.path("pki", "ca.crt"),
        user=f"system:serviceaccount:keda:{account}",
        token=token.strip(),
    )


def _namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def down(*, report: Callable[[str], None] = print) -> None:
    """Stop every process of the lab, remove its namespace and its directory; safe to run twice."""
    running = load()
    if running is not None:
        layout, started, _ = running
        # consumers first (their graceful stop needs the emulator), then the rest in reverse start order
        consumers = [p for p in started if p.name == "consumers"]
        procs.stop(consumers, grace=40)
        killed = procs.stop(list(reversed([p for p in started if p.name != "consumers"])))
        if killed:
            report(f"needed SIGKILL: {', '.join(killed)}")
        netns.delete(layout.netns)
        shutil.rmtree(layout.directory, ignore_errors=True)
    for name in netns.owned(NETNS_PREFIX):
        netns.delete(name)
    STATE_POINTER.unlink(missing_ok=True)
    report("lab down")


def stop_scaler() -> None:
    """Stop the running lab's scaler (SIGTERM, its graceful path), as a rollout or a crash-loop would."""
    running = load()
    if running is None:
        raise LabError("no lab is running")
    layout, started, ready = running
    procs.stop([p for p in started if p.name == "burst-scaler"])
    save(layout, [p for p in started if p.name != "burst-scaler"], ready=ready)


def start_scaler() -> None:
    """Start the scaler again on the same address (KEDA reconnects to the same Service name)."""
    running = load()
    if running is None:
        raise LabError("no lab is running")
    layout, started, ready = running
    if any(p.name == "burst-scaler" and procs.alive(p) for p in started):
        raise LabError("the scaler is already running")
    starter = _Starter(layout)
    starter.procs = [p for p in started if p.name != "burst-scaler"]
    scaler = starter.start(c.scaler(layout))
    waits.until("burst-scaler", waits.tcp_open(layout.ports.scaler), timeout=30, watch=[scaler])
    save(layout, starter.procs, ready=ready)


def status() -> dict[str, Any]:
    running = load()
    if running is None:
        return {"ready": False, "running": False}
    layout, started, ready = running
    alive = {p.name: procs.alive(p) for p in started}
    emulator_log = next((Path(p.log) for p in started if p.name == "oci-emulator"), None)
    compartment = ""
    if emulator_log is not None and emulator_log.exists():
        for line in emulator_log.read_text(errors="replace").splitlines():
            if line.startswith("emulator compartment "):
                compartment = line.removeprefix("emulator compartment ").strip()
    return {
        "ready": ready and all(alive.values()),
        "running": any(alive.values()),
        "kubeconfig": str(layout.admin_kubeconfig),
        "scaler_kubeconfig": str(layout.scaler_kubeconfig),
        "oci_config": str(layout.oci_config),
        "compartment_id": compartment,
        "emulator_url": layout.emulator_url,
        "scaler_address": layout.scaler_address,
        "scaler_metrics_url": f"http://127.0.0.1:{layout.ports.scaler_metrics}/metrics",
        "namespace": EXAMPLES_NAMESPACE,
        "directory": str(layout.directory),
        "logs_dir": str(layout.path("logs")),
        "consumers_dir": str(layout.path("consumers")),
        "processes": alive,
    }
