"""Scaling quality and cost: our spill-over pair beside the set-ups users run today, on the same traces, under two
harness settings (onebox.harness.comparison), on the local harness (emulator + scaler + KEDA/HPA + cluster model +
real consumers, all on 127.0.0.1).

    python bench/bench_scaling.py                                   # every trace, mode and setting (~90 min)
    python bench/bench_scaling.py --settings harsh --traces spike   # one cell of the table
    python bench/bench_scaling.py --json out.json                   # also keep every figure
    python bench/bench_scaling.py --node-gb 8 --break-even          # other prices: tell ours their managedBreakEven

Per run: message wait p50/p95, cost (onebox.harness.cost, prices from flags), virtual pod-seconds, managed
node-seconds (launch to termination) and nodes launched. After each trace, ours against two plain ScaledObjects and
against all-virtual, with the targets of issue 15 checked and a miss marked ``MISS``. The exit code is non-zero
only if a run loses a message (a correctness failure), never because of a figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from onebox.harness.comparison import Setting, comparison_config, traces
from onebox.harness.config import MODES
from onebox.harness.cost import Prices, cost_of
from onebox.harness.run import run_harness

LABELS = {
    "spillover": "ours (group + tier)",
    "two-plain": "two plain ScaledObjects",
    "all-virtual": "all virtual",
    "all-managed": "all managed + Karpenter",
}
TARGETS = (("p95", 1.1), ("cost", 0.8), ("nodes", 1.0))
"""Ours / two plain ScaledObjects, at most; and on the spike ours / all-virtual p95 at most 1.25."""


def _prices(args: argparse.Namespace) -> Prices:
    return Prices(
        ocpu_hour=args.ocpu_hour,
        gb_hour=args.gb_hour,
        virtual_pod_ocpus=args.virtual_pod_ocpus,
        virtual_pod_gb=args.virtual_pod_gb,
        node_ocpus=args.node_ocpus,
        node_gb=args.node_gb,
    )


async def _run(setting: Setting, trace: str, mode: str, prices: Prices, *, break_even: bool) -> dict[str, Any]:
    told = prices.break_even() if break_even and mode == "spillover" else None
    config = comparison_config(setting, mode=mode, profile=traces()[trace], break_even=told)
    report = await run_harness(config=config)
    cost = cost_of(report, prices)
    return {
        "setting": str(setting),
        "trace": trace,
        "mode": mode,
        "break_even": told,
        "p50": report.latency_p50 or 0.0,
        "p95": report.latency_p95 or 0.0,
        "cost": cost.dollars * 100,
        "virtual_pod_s": cost.virtual_pod_seconds,
        "node_s": cost.managed_node_seconds,
        "nodes": cost.nodes_launched,
        "lost": len(report.lost) + (report.produced - report.consumed),
        "produced": report.produced,
    }


def table_row(r: dict[str, Any]) -> str:
    """One run as a row of the comparison's table (bench_lab_scaling.py prints the same)."""
    return (
        f"| {r['trace']} | {_label(r)} | {r['p50']:.2f} | {r['p95']:.2f} | {r['cost']:.3f} | "
        f"{r['virtual_pod_s']:.0f} | {r['node_s']:.0f} | {r['nodes']} |"
    )


def _label(r: dict[str, Any]) -> str:
    told = r.get("break_even")
    return LABELS[r["mode"]] + ("" if told is None else f", managedBreakEven {told}")


def _ratio(mine: float, theirs: float) -> float:
    return mine / theirs if theirs else (1.0 if mine == 0 else float("inf"))


def _verdicts(trace: str, runs: dict[str, dict[str, Any]]) -> str:
    ours = runs.get("spillover")
    if ours is None:
        return ""
    parts = []
    plain = runs.get("two-plain")
    if plain is not None:
        for key, limit in TARGETS:
            ratio = _ratio(ours[key], plain[key])
            parts.append(f"{key} {ratio:.2f}× {'ok' if ratio <= limit else 'MISS'} (≤ {limit})")
    virtual = runs.get("all-virtual")
    if trace == "spike" and virtual is not None:
        ratio = _ratio(ours["p95"], virtual["p95"])
        parts.append(f"p95 vs all-virtual {ratio:.2f}× {'ok' if ratio <= 1.25 else 'MISS'} (≤ 1.25)")
    return f"| {trace} | ours / two plain | " + "; ".join(parts) + " |||||| "


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", default=",".join(traces()), help="comma-separated trace names")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated set-ups")
    parser.add_argument("--settings", default="harsh,defaults", help="harsh, defaults or both")
    parser.add_argument("--json", help="write every run's figures to this file")
    parser.add_argument(
        "--break-even",
        action="store_true",
        help="tell ours the consumers a node must carry to pay for itself at the price flags (managedBreakEven; "
        "without it ours keeps the default, 3, that of the default prices)",
    )
    prices = Prices()
    for name, default in asdict(prices).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=float, default=default, help=f"default {default}")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    results = asyncio.run(run_all(args, _prices(args)))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    lost = any(r["lost"] > 0 for r in results)
    print("\nFAIL: a run lost messages" if lost else "\nPASS: every run consumed every message")
    return 1 if lost else 0


async def run_all(args: argparse.Namespace, prices: Prices) -> list[dict[str, Any]]:
    """Every requested run, one after the other (runs in parallel would share the CPU and skew the waits)."""
    print(
        f"prices: virtual pod ${prices.virtual_pod_hour():.4f}/h, managed node ${prices.node_hour():.4f}/h ({prices})"
    )
    results: list[dict[str, Any]] = []
    for setting in (Setting(s) for s in args.settings.split(",")):
        example = comparison_config(setting, mode="spillover", profile=traces()["spike"])
        print(
            f"\n### setting {setting}: KEDA polling {example.polling_interval:g}s"
            f" cooldown {example.cooldown_period:g}s;"
            f" HPA sync {example.hpa_sync_period:g}s, scale-down window {example.scale_down_stabilization:g}s;"
            f" Karpenter node Ready {example.cluster.karpenter.provision_seconds:g}s,"
            f" consolidateAfter {example.cluster.karpenter.consolidate_after_seconds:g}s\n"
        )
        print("| trace | set-up | wait p50 s | wait p95 s | cost ¢ | virtual pod-s | managed node-s | nodes launched |")
        print("|---|---|---|---|---|---|---|---|")
        for trace in args.traces.split(","):
            runs: dict[str, dict[str, Any]] = {}
            for mode in args.modes.split(","):
                figures = await _run(setting, trace, mode, prices, break_even=args.break_even)
                runs[mode] = figures
                results.append(figures)
                print(table_row(figures), flush=True)
            verdict = _verdicts(trace, runs)
            if verdict:
                print(verdict, flush=True)
    return results


if __name__ == "__main__":
    sys.exit(main())
