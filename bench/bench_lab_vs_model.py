"""The demo spike on the model harness and on the real-cluster lab, side by side: is the model still the truth's
stand-in?

    python bench/bench_lab_vs_model.py            # model run, then lab run (starts a lab if none runs), ~8 minutes
    python bench/bench_lab_vs_model.py --out DIR  # also keep both reports (timeline.csv, summary.json)
    python bench/bench_lab_vs_model.py --restart-at 25 --restart-gap 10  # the scaler restarted mid-burst

Both runs take the same HarnessConfig: the demo's traffic and ScaledObjects with the lab's own timings
(HarnessConfig.lab_parity: the HPA syncs every 15 s, the legacy path's downscale window is 300 s, a Karpenter node
needs 20 s, the managed member keeps one replica). The model then decides with our stand-ins for KEDA, the HPA and
Karpenter; the lab with the real ones. It prints the figures
(activation, message wait, pod-seconds and node-seconds per tier, drain) and the replica timeline of each tier every
5 s, with the samples where the two differ by more than 1 replica and 10 %. Not a test: it prints, it never fails
on a figure.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from onebox.harness.config import HarnessConfig
from onebox.harness.report import Row, RunReport
from onebox.harness.run import run_harness
from onebox.lab.story import run_lab_story

TIERS = ("orders-managed", "orders-virtual")
STEP = 5.0


def _at(rows: tuple[Row, ...], t: float) -> Row | None:
    """The last sample at or before ``t`` (a step function, as replica counts are)."""
    earlier = [r for r in rows if r.t <= t]
    return earlier[-1] if earlier else None


def _figures(report: RunReport) -> dict[str, float]:
    events = report.events
    return {
        "activation_s (first virtual pod Running)": events.get("first_virtual_running", float("nan")),
        "wait_p50_s": report.latency_p50 or 0.0,
        "wait_p95_s": report.latency_p95 or 0.0,
        "drained_at_s": events.get("drained", float("nan")),
        "pod_s_managed": report.replica_seconds.get("orders-managed", 0.0),
        "pod_s_virtual": report.replica_seconds.get("orders-virtual", 0.0),
        "node_s_managed": report.node_seconds,
        "peak_pending": float(report.peak_pending),
        "lost": float(len(report.lost)),
    }


def compare(model: RunReport, lab: RunReport) -> tuple[list[str], int]:
    """The side-by-side timeline and how many samples after the first 10 s disagree beyond 1 replica and 10 %."""
    end = max(model.rows[-1].t, lab.rows[-1].t)
    lines = [f"{'t':>5} | {'model managed':>13} {'lab managed':>11} | {'model virtual':>13} {'lab virtual':>11}"]
    disagreements = 0
    t = 0.0
    while t <= end:
        m, b = _at(model.rows, t), _at(lab.rows, t)
        cells, marks = [], []
        for tier in TIERS:
            mv = m.replicas.get(tier, 0) if m else 0
            bv = b.replicas.get(tier, 0) if b else 0
            cells += [mv, bv]
            differs = abs(mv - bv) > 1 and abs(mv - bv) > 0.1 * max(mv, bv)
            marks.append("*" if differs and t > 10 else " ")
            disagreements += differs and t > 10
        lines.append(f"{t:5.0f} | {cells[0]:13d} {cells[1]:11d}{marks[0]}| {cells[2]:13d} {cells[3]:11d}{marks[1]}")
        t += STEP
    return lines, disagreements


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="keep both reports under this directory")
    parser.add_argument("--restart-at", type=float, default=None, help="stop the scaler this many seconds in")
    parser.add_argument("--restart-gap", type=float, default=10.0, help="and start it again this much later")
    args = parser.parse_args(argv)
    config = HarnessConfig.lab_parity(restart_scaler_at=args.restart_at, restart_gap=args.restart_gap)
    out = args.out
    print("model run (onebox.harness) ...", flush=True)
    model = await run_harness(config=config, out_dir=out / "model" if out else None)
    print("lab run (real KEDA, HPA, scheduler, Karpenter) ...", flush=True)
    lab = await run_lab_story(cfg=config, out_dir=out / "lab" if out else None, stream=sys.stdout)
    figures_model, figures_lab = _figures(model), _figures(lab)
    print(f"\n{'figure':42} {'model':>9} {'lab':>9}")
    for key in figures_model:
        print(f"{key:42} {figures_model[key]:9.1f} {figures_lab[key]:9.1f}")
    lines, disagreements = compare(model, lab)
    print("\nreplicas every 5 s (* = differs by more than 1 replica and 10 % after the first 10 s)")
    print("\n".join(lines))
    print(f"\nsamples that disagree after 10 s: {disagreements}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
