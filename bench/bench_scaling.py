"""Scaling quality: the same traces under KEDA-style plain backlog scaling on one tier vs. this product's policies
with spill-over, measured side by side on the local harness (emulator + scaler + KEDA/HPA + cluster model + real
consumers, all on 127.0.0.1).

    python bench/bench_scaling.py                  # spike, step, sine, replay; ~8-10 minutes
    python bench/bench_scaling.py --traces spike   # one trace
    python bench/bench_scaling.py --time-scale 0.5 # compressed clock

Per run it prints message wait p50/p95/max, time to drain, replica-seconds per tier, node-seconds and peak pending
pods, then the ratio (ours / baseline). The traces, seed and cluster latencies are printed first. The exit code is
non-zero only if a run loses a message (a correctness failure), never because of a figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from dataclasses import asdict, replace
from typing import Any

from load.profiles import Profile, ReplayProfile, SineProfile, SpikeProfile, StepProfile
from onebox.harness.config import HarnessConfig
from onebox.harness.run import run_harness


def traces(duration: float) -> dict[str, Profile]:
    """The four traces, msgs/s over ``duration`` seconds."""
    return {
        "spike": SpikeProfile(
            baseline=2.0, peak=60.0, start=0.125 * duration, length=0.5 * duration, duration=duration
        ),
        "step": StepProfile(steps=((0.0, 5.0), (0.25 * duration, 40.0), (0.6 * duration, 10.0)), duration=duration),
        "sine": SineProfile(mean=25.0, amplitude=22.0, period=0.5 * duration, duration=duration),
        "replay": ReplayProfile(
            points=tuple((f * duration, r) for f, r in ((0.0, 3.0), (0.1, 45.0), (0.3, 8.0), (0.45, 55.0), (0.7, 4.0))),
            duration=duration,
        ),
    }


def _figures(report: Any) -> dict[str, float]:
    events = report.events
    first = events.get("first_backlog", 0.0)
    drain = events.get("drained", float("nan")) - first
    return {
        "wait_p50_s": report.latency_p50 or 0.0,
        "wait_p95_s": report.latency_p95 or 0.0,
        "wait_max_s": report.latency_max or 0.0,
        "drain_s": drain,
        "replica_s_managed": report.replica_seconds.get("orders-managed", 0.0),
        "replica_s_virtual": report.replica_seconds.get("orders-virtual", 0.0),
        "node_s": report.node_seconds,
        "peak_pending": float(report.peak_pending),
        "lost": float(len(report.lost)),
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", default="spike,step,sine,replay", help="comma-separated trace names")
    parser.add_argument("--duration", type=float, default=40.0, help="seconds of traffic per trace")
    parser.add_argument("--time-scale", type=float, default=1.0, help="stretch or compress every duration")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    base = HarnessConfig(restart_scaler_at=None, max_seconds=240.0).scaled(args.time_scale)
    chosen = {name: p for name, p in traces(args.duration * args.time_scale).items() if name in args.traces.split(",")}
    print("cluster:", json.dumps(asdict(base.cluster)))
    print(
        f"KEDA: pollingInterval {base.polling_interval}s cooldown {base.cooldown_period}s, HPA sync "
        f"{base.hpa_sync_period}s, rate-policy period {base.hpa_policy_period}s, scale-down stabilization "
        f"{base.scale_down_stabilization}s; target "
        f"{base.target_per_replica}/replica; caps managed {base.managed_max} + virtual {base.virtual_max}"
    )
    print(
        f"work: {dict(base.work.seconds)} s/message, heavy fraction {base.heavy_fraction}; seed: deterministic schedule"
    )
    for name, profile in chosen.items():
        print(f"trace {name}: {profile}")

    baseline_mode = replace(base, mode="single")
    ours = replace(base, mode="spillover", managed_metadata=(("leadSeconds", f"{15 * args.time_scale:g}"),))
    failed = False
    header = f"{'trace':8} {'mode':22} " + " ".join(f"{k:>17}" for k in _figures_keys())
    print("\n" + header)
    for name, profile in chosen.items():
        results = {}
        for label, config in (("plain backlog, 1 tier", baseline_mode), ("ours: spill-over+lead", ours)):
            report = await run_harness(config=replace(config, profile=profile))
            figures = _figures(report)
            results[label] = figures
            failed = failed or figures["lost"] > 0 or report.consumed != report.produced
            print(f"{name:8} {label:22} " + " ".join(f"{figures[k]:>17.1f}" for k in _figures_keys()), flush=True)
        plain, mine = results.values()
        ratios = [mine[k] / plain[k] if plain[k] else float("nan") for k in _figures_keys()]
        print(f"{name:8} {'ratio ours/plain':22} " + " ".join(f"{r:>17.2f}" for r in ratios), flush=True)
    print("\nFAIL: a run lost messages" if failed else "\nPASS: every run consumed every message")
    return 1 if failed else 0


def _figures_keys() -> list[str]:
    return [
        "wait_p50_s",
        "wait_p95_s",
        "wait_max_s",
        "drain_s",
        "replica_s_managed",
        "replica_s_virtual",
        "node_s",
        "peak_pending",
        "lost",
    ]


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
