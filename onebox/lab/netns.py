"""A private network namespace for the lab's components that bind every interface.

Karpenter's metrics and health servers and KEDA's metrics-adapter metrics server listen on ``:port`` with no flag
to narrow them. Run in a namespace of their own, "every interface" is that namespace's private loopback, so nothing
listens beyond this machine's 127.0.0.1. ``ip netns exec`` also bind-mounts ``/etc/netns/<name>/hosts`` over
/etc/hosts for the process, which is how in-cluster DNS names in our manifests (the scaler's Service) resolve to
the namespace's loopback, where onebox.lab.relay forwards them to the real listener.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

NETNS_RUN = Path("/var/run/netns")
NETNS_ETC = Path("/etc/netns")


class NetnsError(RuntimeError):
    """The namespace could not be made (the lab needs root and iproute2's `ip`)."""


def _ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)} failed: {result.stderr.strip()} (the lab needs root and iproute2)")


def create(name: str, *, hosts: dict[str, str]) -> None:
    """Make the namespace with its loopback up and a hosts file mapping each name to its address."""
    if shutil.which("ip") is None:
        raise NetnsError("the lab needs iproute2's `ip` (apt-get install -y iproute2)")
    _ip("netns", "add", name)
    _ip("-n", name, "link", "set", "lo", "up")
    etc = NETNS_ETC / name
    etc.mkdir(parents=True, exist_ok=True)
    lines = ["127.0.0.1 localhost", "::1 localhost", *(f"{address} {host}" for host, address in hosts.items())]
    (etc / "hosts").write_text("\n".join(lines) + "\n")


def exec_prefix(name: str) -> list[str]:
    return ["ip", "netns", "exec", name]


def exists(name: str) -> bool:
    return (NETNS_RUN / name).exists()


def delete(name: str) -> None:
    """Remove the namespace and its /etc/netns files; quiet when they are already gone."""
    if exists(name):
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
    shutil.rmtree(NETNS_ETC / name, ignore_errors=True)


def owned(prefix: str) -> list[str]:
    """Namespaces whose name starts with the lab's prefix (what `lab down` cleans up after a crash)."""
    if not NETNS_RUN.exists():
        return []
    return sorted(p.name for p in NETNS_RUN.iterdir() if p.name.startswith(prefix))
