"""`burst-scaler demo`: the whole three-layer story on one machine, no cloud account.

It runs the local harness (onebox.harness.run): the OCI emulator, the real scaler, KEDA/HPA loops calling it over
gRPC, a cluster model with virtual nodes, a managed pool and Karpenter, and real consumers draining a spike of
heavy and light messages through the OCI SDK. A live table shows backlog, replicas per tier, pending pods and
nodes; at the end the report (timeline.png, timeline CSV, summary JSON) is written under ``burst-reports/`` and
the key facts are printed. The picture needs matplotlib, which the README's first command installs through the
``demo`` extra; without it the CSV and JSON are still written.
"""

from __future__ import annotations

import datetime
import sys
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from load.live import Progress
from onebox.harness.config import HarnessConfig
from onebox.harness.report import Row, RunReport
from onebox.harness.run import run_harness


def _show(progress: Progress, row: Row) -> None:
    managed = row.replicas.get("orders-managed", 0)
    virtual = row.replicas.get("orders-virtual", 0)
    header = ["t (s)", "backlog", "virtual replicas", "managed replicas", "pending pods", "managed nodes", "consumed"]
    cells = [
        f"{row.t:.1f}",
        str(row.backlog),
        f"{virtual} ({row.running_virtual} running)",
        f"{managed} ({row.running_managed} running)",
        str(row.pending),
        f"{row.nodes}" + (f" (+{row.provisioning} provisioning)" if row.provisioning else ""),
        f"{row.consumed}/{row.produced}",
    ]
    line = (
        f"t={row.t:6.1f}s backlog={row.backlog:5d} virtual={virtual:3d} managed={managed:3d} "
        f"pending={row.pending:3d} nodes={row.nodes}+{row.provisioning} consumed={row.consumed}/{row.produced}"
    )
    progress.show(
        title="burst-scaler demo: spike on an OCI Queue, spill-over pair", header=header, rows=[cells], line=line
    )


def _facts(report: RunReport, out: TextIO) -> bool:
    events = report.events

    def at(name: str) -> str:
        return f"{events[name]:.1f}s" if name in events else "never"

    ok = not report.lost and "scaled_to_zero" in events
    out.write(
        "\n"
        f"produced {report.produced}, consumed {report.consumed}, lost {len(report.lost)}, duplicates "
        f"{report.duplicates}\n"
        f"peak backlog {events.get('peak_backlog', 0):.0f} at {at('peak_backlog_at')}; drained at {at('drained')}\n"
        f"first virtual pod running at {at('first_virtual_running')}; first Karpenter node ready at "
        f"{at('first_karpenter_node_ready')}\n"
        f"virtual tier handed back at {at('virtual_handback_started')}, managed at {at('managed_handback_started')}; "
        f"all at zero at {at('scaled_to_zero')}\n"
        f"message wait p50 {report.latency_p50 or 0:.1f}s, p95 {report.latency_p95 or 0:.1f}s; replica-seconds "
        + ", ".join(f"{k} {v:.0f}" for k, v in report.replica_seconds.items())
        + "\n"
    )
    return ok


LAB_MAX_SECONDS = 600.0
"""On the lab the managed member's HPA runs upstream's legacy path (no ``behavior`` in deploy/examples): it scales
in only after kube-controller-manager's 300 s downscale window, so the story takes minutes, not one."""


async def run_demo(*, time_scale: float, out_dir: Path | None, out: TextIO = sys.stdout, lab: bool = False) -> int:
    """Run the story; exit code 0 when nothing was lost and the tiers went back to rest."""
    config = HarnessConfig().scaled(time_scale)
    if out_dir is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        out_dir = Path("burst-reports") / f"{stamp}-demo{'-lab' if lab else ''}"
    progress = Progress(out, interactive=out.isatty())
    if lab:
        from onebox.lab.story import run_lab_story

        out.write("Running the story on the real-cluster lab (real KEDA, HPA, scheduler, Karpenter; several minutes)\n")
        config = replace(config, max_seconds=max(config.max_seconds, LAB_MAX_SECONDS))
        report = await run_lab_story(cfg=config, out_dir=out_dir, on_row=lambda row: _show(progress, row), stream=out)
    else:
        out.write(
            "Starting the OCI emulator, the scaler, KEDA/HPA loops and the cluster model on 127.0.0.1 "
            f"(about {int(60 * time_scale)} s)...\n"
        )
        report = await run_harness(config=config, out_dir=out_dir, on_row=lambda row: _show(progress, row), stream=out)
    ok = _facts(report, out)
    picture = "timeline.png" if (out_dir / "timeline.png").exists() else "no timeline.png without the demo extra"
    out.write(f"report written to {out_dir}/ (timeline.csv, summary.json, {picture})\n")
    out.write("demo finished: nothing lost, every tier back to zero\n" if ok else "demo FAILED: see the report\n")
    return 0 if ok else 1
