"""Where everything of one running lab lives: its directory, ports and names, saved as JSON for `down`/`status`.

`lab up` picks free loopback ports once and records them with every process it starts, so `lab status` and
`lab down` (other processes, possibly after a crash) find exactly what belongs to this lab and nothing else.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

NETNS_PREFIX = "okeburst-"
STATE_POINTER = Path(tempfile.gettempdir()) / "oke-burst-lab.json"
"""The one file that says where the running lab's directory is; removed by `lab down`."""

EXAMPLES_NAMESPACE = "burst-demo"
SCALER_NAMESPACE = "keda"
SCALER_SERVICE_PORT = 6000
"""The port in the examples' scalerAddress (burst-scaler-headless.keda.svc.cluster.local:6000)."""
SCALER_HOSTS = ("burst-scaler-headless.keda.svc.cluster.local", "burst-scaler.keda.svc.cluster.local")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Ports:
    """Loopback ports on this machine (the namespace side reuses the same numbers where it forwards)."""

    etcd_client: int = field(default_factory=free_port)
    etcd_peer: int = field(default_factory=free_port)
    apiserver: int = field(default_factory=free_port)
    controller_manager: int = field(default_factory=free_port)
    scheduler: int = field(default_factory=free_port)
    kwok: int = field(default_factory=free_port)
    keda_adapter: int = field(default_factory=free_port)
    scaler: int = field(default_factory=free_port)
    scaler_metrics: int = field(default_factory=free_port)
    emulator: int = field(default_factory=free_port)


@dataclass(frozen=True)
class Proc:
    """A process the lab started: enough to find it again and to be sure it is still ours."""

    name: str
    pid: int
    start_ticks: int
    log: str


@dataclass(frozen=True)
class Layout:
    directory: Path
    netns: str
    ports: Ports

    @classmethod
    def new(cls) -> Layout:
        directory = Path(tempfile.mkdtemp(prefix="oke-burst-lab-"))
        return cls(directory=directory, netns=f"{NETNS_PREFIX}{os.getpid()}", ports=Ports())

    def path(self, *parts: str) -> Path:
        return self.directory.joinpath(*parts)

    @property
    def admin_kubeconfig(self) -> Path:
        return self.path("admin.kubeconfig")

    @property
    def scaler_kubeconfig(self) -> Path:
        return self.path("scaler.kubeconfig")

    @property
    def keda_kubeconfig(self) -> Path:
        """KEDA's operator and metrics adapter run as keda/keda-operator, as KEDA's own manifests deploy them."""
        return self.path("keda.kubeconfig")

    @property
    def oci_config(self) -> Path:
        return self.path("oci", "config")

    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.emulator}"

    @property
    def scaler_address(self) -> str:
        return f"127.0.0.1:{self.ports.scaler}"

    @property
    def apiserver_url(self) -> str:
        return f"https://127.0.0.1:{self.ports.apiserver}"


def save(layout: Layout, procs: list[Proc], *, ready: bool) -> None:
    document = {
        "directory": str(layout.directory),
        "netns": layout.netns,
        "ports": dataclasses.asdict(layout.ports),
        "procs": [dataclasses.asdict(p) for p in procs],
        "ready": ready,
    }
    target = layout.path("state.json")
    target.write_text(json.dumps(document, indent=2))
    STATE_POINTER.write_text(json.dumps({"directory": str(layout.directory)}))


def load() -> tuple[Layout, list[Proc], bool] | None:
    """The running lab, or None when `lab up` never ran (or `lab down` already cleaned up)."""
    try:
        directory = Path(json.loads(STATE_POINTER.read_text())["directory"])
        document = json.loads((directory / "state.json").read_text())
    except (OSError, ValueError, KeyError):
        return None
    layout = Layout(directory=directory, netns=document["netns"], ports=Ports(**document["ports"]))
    return layout, [Proc(**p) for p in document["procs"]], bool(document["ready"])
