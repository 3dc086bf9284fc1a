"""The command line of every real component, run out of cluster against the lab's API server on 127.0.0.1.

Flags follow each upstream's own out-of-cluster recipe (kubeadm's static pods for the control plane, kwokctl's
binary runtime for KWOK, KEDA's BUILD.md "run locally", Karpenter's KWOK chart values), with every listener moved
to a loopback port of our choosing. Components that cannot narrow a listener to loopback (Karpenter, KEDA's
adapter) and KEDA's operator (whose manifests name the scaler by its Service DNS name) run in the lab's private
network namespace; see onebox.lab.netns.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from onebox.lab.build import Built
from onebox.lab.layout import SCALER_SERVICE_PORT, Layout


@dataclass(frozen=True)
class Launch:
    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    in_netns: bool = False


@dataclass(frozen=True)
class Options:
    """What a lab user may tune; the defaults are the upstream defaults unless a reason is given."""

    node_registration_delay_seconds: int = 20
    """How long a Karpenter node takes from launch to Ready (real OCI VMs take minutes; 20 s keeps tests short)."""
    pod_ready_milliseconds: int = 2000
    """KWOK marks a bound pod Running after this (plus up to 2 s jitter): "a few seconds", as on virtual nodes."""
    hpa_sync_period_seconds: int = 15
    """kube-controller-manager's default; KEDA's HPAs see our metric at this cadence."""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "BURST_SCALER_"))}
    env.update(extra)
    return env


def etcd(layout: Layout, bins: dict[str, Built]) -> Launch:
    p = layout.ports
    client, peer = f"http://127.0.0.1:{p.etcd_client}", f"http://127.0.0.1:{p.etcd_peer}"
    return Launch(
        "etcd",
        [
            str(bins["kube"].binary("etcd")),
            f"--data-dir={layout.path('etcd')}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=default={peer}",
            "--unsafe-no-fsync",  # a throwaway store: durability buys nothing here
            "--log-level=warn",
        ],
        _env(),
    )


def apiserver(layout: Layout, bins: dict[str, Built]) -> Launch:
    pki = layout.path("pki")
    return Launch(
        "kube-apiserver",
        [
            str(bins["kube"].binary("kube-apiserver")),
            f"--etcd-servers=http://127.0.0.1:{layout.ports.etcd_client}",
            "--bind-address=127.0.0.1",
            f"--secure-port={layout.ports.apiserver}",
            # a loopback advertise address is only valid with no endpoint reconciler (nothing uses kubernetes.default)
            "--advertise-address=127.0.0.1",
            "--endpoint-reconciler-type=none",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--service-cluster-ip-range=10.96.0.0/16",
            "--authorization-mode=Node,RBAC",
            "--allow-privileged=true",
            # the aggregation layer: how KEDA's metrics adapter is reached and told who is asking
            f"--proxy-client-cert-file={pki / 'front-proxy-client.crt'}",
            f"--proxy-client-key-file={pki / 'front-proxy-client.key'}",
            f"--requestheader-client-ca-file={pki / 'front-proxy-ca.crt'}",
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        ],
        _env(),
    )


def controller_manager(layout: Layout, bins: dict[str, Built], options: Options) -> Launch:
    kubeconfig = str(layout.admin_kubeconfig)
    pki = layout.path("pki")
    return Launch(
        "kube-controller-manager",
        [
            str(bins["kube"].binary("kube-controller-manager")),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={layout.ports.controller_manager}",
            "--leader-elect=false",
            f"--service-account-private-key-file={pki / 'sa.key'}",
            f"--root-ca-file={pki / 'ca.crt'}",
            "--use-service-account-credentials=true",
            "--controllers=*",
            f"--horizontal-pod-autoscaler-sync-period={options.hpa_sync_period_seconds}s",
        ],
        _env(),
    )


def scheduler(layout: Layout, bins: dict[str, Built]) -> Launch:
    kubeconfig = str(layout.admin_kubeconfig)
    return Launch(
        "kube-scheduler",
        [
            str(bins["kube"].binary("kube-scheduler")),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={layout.ports.scheduler}",
            "--leader-elect=false",
        ],
        _env(),
    )


def kwok(layout: Layout, bins: dict[str, Built], config: Path) -> Launch:
    return Launch(
        "kwok",
        [
            str(bins["kwok"].binary("kwok")),
            f"--kubeconfig={layout.admin_kubeconfig}",
            f"--config={config}",
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--node-lease-duration-seconds=40",
            # pod and node IPs are status values only: nothing ever dials them
            "--cidr=10.0.0.0/24",
            "--node-ip=127.0.0.1",
            f"--node-port={layout.ports.kwok}",
            f"--server-address=127.0.0.1:{layout.ports.kwok}",
        ],
        _env(),
    )


_KEDA_ENV = {"WATCH_NAMESPACE": "", "KEDA_CLUSTER_OBJECT_NAMESPACE": "keda", "POD_NAMESPACE": "keda"}
KEDA_GRPC_PORT = 9666
"""Operator ↔ adapter gRPC; both live in the lab's namespace, so this is its private loopback."""


def keda_operator(layout: Layout, bins: dict[str, Built]) -> Launch:
    certs = layout.path("keda-certs")
    return Launch(
        "keda-operator",
        [
            str(bins["keda"].binary("keda-operator")),
            "--metrics-bind-address=127.0.0.1:18080",
            "--health-probe-bind-address=127.0.0.1:18081",
            f"--metrics-service-bind-address=127.0.0.1:{KEDA_GRPC_PORT}",
            f"--cert-dir={certs}",
            "--enable-cert-rotation=false",
            "--zap-log-level=info",
        ],
        _env(KUBECONFIG=str(layout.keda_kubeconfig), **_KEDA_ENV),
        in_netns=True,
    )


def keda_adapter(layout: Layout, bins: dict[str, Built]) -> Launch:
    certs = layout.path("keda-certs")
    kubeconfig = str(layout.keda_kubeconfig)
    return Launch(
        "keda-adapter",
        [
            str(bins["keda"].binary("keda-adapter")),
            f"--metrics-service-address=localhost:{KEDA_GRPC_PORT}",
            "--metrics-service-grpc-authority=localhost",
            "--port=18082",
            f"--secure-port={layout.ports.keda_adapter}",
            "--bind-address=127.0.0.1",
            f"--cert-dir={certs}",
            f"--tls-cert-file={certs / 'tls.crt'}",
            f"--tls-private-key-file={certs / 'tls.key'}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            f"--lister-kubeconfig={kubeconfig}",
            "--v=0",
        ],
        _env(KUBECONFIG=kubeconfig, **_KEDA_ENV),
        in_netns=True,
    )


def karpenter(layout: Layout, bins: dict[str, Built]) -> Launch:
    return Launch(
        "karpenter",
        [str(bins["karpenter"].binary("karpenter-kwok"))],
        _env(
            KUBECONFIG=str(layout.admin_kubeconfig),
            DISABLE_LEADER_ELECTION="true",
            METRICS_PORT="18090",
            HEALTH_PROBE_PORT="18091",
            LOG_LEVEL="info",
        ),
        in_netns=True,
    )


def emulator(layout: Layout, seed: Path) -> Launch:
    return Launch(
        "oci-emulator",
        [
            sys.executable,
            "-m",
            "oci_emulator",
            f"--address=127.0.0.1:{layout.ports.emulator}",
            f"--write-config={layout.oci_config}",
            f"--seed={seed}",
            "--log-level=WARNING",
        ],
        _env(),
    )


def scaler(layout: Layout) -> Launch:
    """The product, configured like deploy/base does it, but talking to the emulator and the lab's API server."""
    return Launch(
        "burst-scaler",
        [
            sys.executable,
            "-m",
            "scaler",
            "serve",
            f"--address={layout.scaler_address}",
            f"--metrics-address=127.0.0.1:{layout.ports.scaler_metrics}",
            "--oci-auth=config",
            f"--oci-config={layout.oci_config}",
            f"--oci-endpoint={layout.emulator_url}",
            "--kube=kubeconfig",
            f"--kubeconfig={layout.scaler_kubeconfig}",
        ],
        _env(),
    )


def consumers(layout: Layout) -> Launch:
    """The kubelet stand-in that runs a real consumer per Running consumer pod (see onebox.lab.consumers)."""
    return Launch(
        "consumers",
        [
            sys.executable,
            "-m",
            "onebox.lab.consumers",
            f"--kubeconfig={layout.admin_kubeconfig}",
            f"--out={layout.path('consumers')}",
            f"--oci-config={layout.oci_config}",
            f"--oci-endpoint={layout.emulator_url}",
        ],
        _env(),
    )


def relay(layout: Layout) -> Launch:
    """Bridges between this machine's loopback and the namespace's (see onebox.lab.relay)."""
    p = layout.ports
    return Launch(
        "relay",
        [
            sys.executable,
            "-m",
            "onebox.lab.relay",
            f"--netns=/var/run/netns/{layout.netns}",
            f"--into={p.apiserver}:{p.apiserver}",
            f"--into={p.scaler}:{SCALER_SERVICE_PORT}",
            f"--out={p.keda_adapter}:{p.keda_adapter}",
        ],
        _env(),
    )
