"""Readiness probes for `lab up`: each waits for one fact and, when a process dies first, fails with its log."""

from __future__ import annotations

import socket
import ssl
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from onebox.lab import procs
from onebox.lab.layout import Proc


class LabNotReady(RuntimeError):
    """Something did not come up in time; the message names it and shows the logs that explain why."""


def until(
    what: str, check: Callable[[], bool], *, timeout: float, watch: Sequence[Proc] = (), interval: float = 0.25
) -> None:
    deadline = time.monotonic() + timeout
    last_error = ""
    while True:
        for proc in watch:
            if not procs.alive(proc):
                raise LabNotReady(f"{proc.name} exited while waiting for {what}; its log ends:\n{procs.tail(proc)}")
        try:
            if check():
                return
        except Exception as error:  # a probe that cannot connect yet is the normal case
            last_error = f"{type(error).__name__}: {error}"
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {p.name} ({p.log}):\n{procs.tail(p, 15)}" for p in watch)
            raise LabNotReady(f"{what}: not ready after {timeout:.0f} s (last error: {last_error})\n{logs}")
        time.sleep(interval)


def http_ok(url: str, *, ca: Path | None = None, cert: tuple[Path, Path] | None = None) -> Callable[[], bool]:
    def check() -> bool:
        context = None
        if url.startswith("https"):
            context = ssl.create_default_context(cafile=str(ca) if ca else None)
            if cert is not None:
                context.load_cert_chain(str(cert[0]), str(cert[1]))
        with urllib.request.urlopen(url, timeout=2, context=context) as response:
            return 200 <= int(response.status) < 300

    return check


def tcp_open(port: int) -> Callable[[], bool]:
    def check() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    return check


def log_says(proc: Proc, text: str) -> Callable[[], bool]:
    return lambda: text in Path(proc.log).read_text(errors="replace")
