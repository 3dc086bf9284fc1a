"""``python -m onebox.lab.consumers``: a real consumer process for every Running consumer pod of the lab.

KWOK pods run no containers, so this stands in for the kubelet: when a consumer pod (one whose container runs
``burst-load``) turns Running in any namespace, it starts that container's command with the pod's environment
(its ConfigMaps), pointed at the emulator instead of OCI; when the pod is deleted it sends SIGTERM, as the kubelet
would, and the consumer finishes its in-flight messages. Each consumer writes its run directory under
``<lab>/consumers/<namespace>.<pod>/`` (messages.csv included), which is how the lab's tests prove no message was
lost.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kubernetes import client, config


def pod_environment(pod: Any, config_maps: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The first container's environment as the kubelet builds it: envFrom ConfigMaps, then plain env values."""
    env: dict[str, str] = {}
    container = pod.spec.containers[0]
    for source in container.env_from or []:
        if source.config_map_ref is not None:
            env.update(config_maps.get(source.config_map_ref.name, {}))
    for var in container.env or []:
        if var.value is not None:
            env[var.name] = var.value
    return env


def _command(pod: Any) -> list[str]:
    container = pod.spec.containers[0]
    return [*(container.command or []), *(container.args or [])]


def _is_consumer(pod: Any) -> bool:
    """Running, not being deleted, and running our consumer (other pods of the lab are not ours to run)."""
    command = _command(pod)
    return (
        bool(command)
        and command[0] == "burst-load"
        and pod.status is not None
        and pod.status.phase == "Running"
        and pod.metadata.deletion_timestamp is None
    )


class Supervisor:
    """Keeps one consumer process per Running pod; the pod's deletion stops it gracefully."""

    def __init__(self, *, out: Path, overrides: Mapping[str, str], api: Any) -> None:
        self._out = out
        self._overrides = dict(overrides)
        self._api = api
        self._running: dict[str, subprocess.Popen[bytes]] = {}
        self._stopping: list[subprocess.Popen[bytes]] = []

    def _config_maps(self, namespace: str) -> dict[str, dict[str, str]]:
        items = self._api.list_namespaced_config_map(namespace).items
        return {item.metadata.name: dict(item.data or {}) for item in items}

    def _start(self, pod: Any, config_maps: Mapping[str, Mapping[str, str]]) -> None:
        name = f"{pod.metadata.namespace}.{pod.metadata.name}"
        command = _command(pod)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BURST_LOAD_", "OCI_"))}
        env.update(pod_environment(pod, config_maps))
        env.update(self._overrides)
        env.update(
            BURST_LOAD_INSTANCE=pod.metadata.name, BURST_LOAD_OUT=str(self._out / name), BURST_LOAD_LOG_MESSAGES="1"
        )
        executable = shutil.which("burst-load", path=str(Path(sys.executable).parent)) or "burst-load"
        log = (self._out / f"{name}.log").open("ab")
        self._running[name] = subprocess.Popen(
            [executable, *command[1:]], env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        print(f"started consumer for pod {name}", flush=True)

    def _stop(self, name: str) -> None:
        process = self._running.pop(name)
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        self._stopping.append(process)
        print(f"stopping consumer for pod {name}", flush=True)

    def sync(self) -> None:
        pods = self._api.list_pod_for_all_namespaces().items
        wanted = {f"{p.metadata.namespace}.{p.metadata.name}": p for p in pods if _is_consumer(p)}
        for name in [n for n in self._running if n not in wanted]:
            self._stop(name)
        config_maps: dict[str, dict[str, dict[str, str]]] = {}
        for name, pod in wanted.items():
            if name not in self._running:
                namespace = pod.metadata.namespace
                if namespace not in config_maps:
                    config_maps[namespace] = self._config_maps(namespace)
                self._start(pod, config_maps[namespace])
        for name, process in list(self._running.items()):
            if process.poll() is not None:  # exited on its own (e.g. a crash): the kubelet would restart it
                del self._running[name]
        self._stopping = [p for p in self._stopping if p.poll() is None]

    def shutdown(self, grace: float) -> None:
        for name in list(self._running):
            self._stop(name)
        deadline = time.monotonic() + grace
        for process in self._stopping:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m onebox.lab.consumers", description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--oci-config", required=True)
    parser.add_argument("--oci-endpoint", required=True)
    parser.add_argument("--interval", type=float, default=0.5)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    api = client.CoreV1Api(config.new_client_from_config(config_file=args.kubeconfig))  # type: ignore[no-untyped-call]
    overrides = {
        "BURST_LOAD_OCI_AUTH": "config",
        "BURST_LOAD_OCI_CONFIG": args.oci_config,
        "BURST_LOAD_OCI_ENDPOINT": args.oci_endpoint,
    }
    supervisor = Supervisor(out=args.out, overrides=overrides, api=api)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("consumers ready", flush=True)
    while not stop.is_set():
        try:
            supervisor.sync()
        except Exception as error:  # the API server may be briefly away; the next round retries
            print(f"sync failed: {error}", flush=True)
        stop.wait(args.interval)
    supervisor.shutdown(grace=35.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
