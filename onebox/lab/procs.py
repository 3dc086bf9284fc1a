"""Start the lab's processes detached (they outlive `lab up`) and stop them for certain (`lab down`).

Each process leads its own session, so stopping its group also stops anything it spawned. A pid alone is not
proof of identity after a crash (pids are reused), so every record carries the process's start time from
/proc/<pid>/stat, and `down` signals only a process whose start time still matches.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from onebox.lab.layout import Proc


def _start_ticks(pid: int) -> int:
    """Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return -1
    return int(stat.rsplit(")", 1)[1].split()[19])


def spawn(name: str, command: Sequence[str], *, logs: Path, env: Mapping[str, str] | None = None) -> Proc:
    """Start ``command`` in a session of its own, output to ``<logs>/<name>.log``, stdin from /dev/null.

    posix_spawn rather than subprocess.Popen: the process outlives this one (and its Popen object, which would
    warn that a child is still running), and `down` finds it again through the record, not through a handle.
    """
    log = logs / f"{name}.log"
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    environment = dict(env) if env is not None else dict(os.environ)
    pid = os.posix_spawnp(command[0], list(command), environment, file_actions=actions, setsid=True)
    return Proc(name=name, pid=pid, start_ticks=_start_ticks(pid), log=str(log))


def alive(proc: Proc) -> bool:
    """The process is running and is still the one we started (not a reused pid, not a zombie)."""
    if _start_ticks(proc.pid) != proc.start_ticks:
        return False
    try:
        state = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def stop(procs: Sequence[Proc], *, grace: float = 10.0) -> list[str]:
    """SIGTERM every group, wait up to ``grace``, SIGKILL what is left; returns the names that needed SIGKILL."""
    ours = [p for p in procs if alive(p)]
    for proc in ours:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        for proc in ours:
            _reap(proc.pid)
        if not any(alive(p) for p in ours):
            break
        time.sleep(0.1)
    killed = []
    for proc in ours:
        if alive(proc):
            killed.append(proc.name)
        # the group may hold children even after its leader exited
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        _reap(proc.pid)
    return killed


def tail(proc: Proc, lines: int = 30) -> str:
    try:
        text = Path(proc.log).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
