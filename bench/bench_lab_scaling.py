"""The scaling comparison of bench_scaling.py on the real-cluster lab: our spill-over pair beside the set-ups users
run today, for the spike and the plateau, with real KEDA, HPA, scheduler and Karpenter (KWOK provider).

    burst-scaler lab up --no-examples && python bench/bench_lab_scaling.py     # ~40 minutes
    python bench/bench_lab_scaling.py --traces spike --modes spillover,two-plain

Lab-sized: every consumer pod is a real process on this machine, so the traces and caps are halved from
bench_scaling.py's (spike 2 → 30 → 2 msg/s, plateau 20 msg/s; managed cap 6, virtual 20, one-tier baselines 26) at the
same 0.25 s of work per message. Timings are the lab's own, i.e. upstream's: HPA sync and rate-policy period 15 s,
the managed member's legacy 300 s scale-down window, a 60 s window on the virtual member (deploy/examples), KEDA
polling 2 s; a Karpenter node Ready 20 s after launch, and our ``holdSeconds`` compressed like it (36 s for
180 s). Karpenter's NodePool is pinned, for the run, to the KWOK
instance type of the model's node (4 vCPU, 16 GiB: 2 OCPUs) so the cost model prices what was launched. Every run
lasts the same ``--seconds`` and is billed to its end (nodes still up are billed to then, in every set-up alike), and
starts with no Karpenter node (the previous run's are deleted first).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import replace

from bench_scaling import table_row

from load.consume import WorkModel
from load.profiles import Profile, SpikeProfile, StepProfile
from onebox.harness.config import MODES, HarnessConfig
from onebox.harness.cost import Prices, cost_of
from onebox.lab import kubectl
from onebox.lab.layout import load
from onebox.lab.story import NAMESPACE, run_lab_story

POOL = "burst-managed-kwok"
INSTANCE_TYPE = "s-4x-amd64-linux"


def lab_traces() -> dict[str, Profile]:
    return {
        "spike": SpikeProfile(baseline=2.0, peak=30.0, start=10.0, length=20.0, duration=60.0),
        "plateau": StepProfile(steps=((0.0, 20.0),), duration=120.0),
    }


def _lab_kubectl(args: list[str], *, timeout: float = 120) -> str:
    """kubectl as the lab's admin."""
    state = load()
    if state is None:
        raise SystemExit("no lab runs: start one with `burst-scaler lab up --no-examples`")
    return kubectl.run(state[0].admin_kubeconfig, args, timeout=timeout)


def _pin_instance_type(pin: bool) -> None:
    pool = json.loads(_lab_kubectl(["get", "nodepool", POOL, "-o", "json"]))
    requirements = [
        r for r in pool["spec"]["template"]["spec"]["requirements"] if r["key"] != "node.kubernetes.io/instance-type"
    ]
    if pin:
        requirements.append({"key": "node.kubernetes.io/instance-type", "operator": "In", "values": [INSTANCE_TYPE]})
    patch = {"spec": {"template": {"spec": {"requirements": requirements}}}}
    _lab_kubectl(["patch", "nodepool", POOL, "--type=merge", "-p", json.dumps(patch)])


def _clean_slate() -> None:
    """Each run starts where the model's do. The previous run's namespace is deleted without waiting (a run applied
    into it while it terminates fails), and its Karpenter nodes outlive it by the pool's ``consolidateAfter``
    (5 minutes): they would serve, and be billed to, the next set-up."""
    _lab_kubectl(["wait", "--for=delete", f"namespace/{NAMESPACE}", "--timeout=180s"], timeout=200)
    _lab_kubectl(
        ["delete", "nodeclaims", "-l", f"karpenter.sh/nodepool={POOL}", "--wait=true", "--timeout=180s"], timeout=200
    )


async def _run(trace: str, mode: str, seconds: float, prices: Prices) -> dict[str, object]:
    profile = lab_traces()[trace]
    config = HarnessConfig.lab_parity(
        mode=mode,
        profile=profile,
        work=WorkModel(seconds={"heavy": 0.25, "light": 0.25}),
        managed_max=6,
        virtual_max=20,
        scale_down_stabilization=60.0,
        max_seconds=profile.duration + seconds,
        # holdSeconds compressed like the lab's node latency (20 s for minutes on OCI), as bench_scaling.py does
        managed_metadata=(("holdSeconds", "36"),) if mode == "spillover" else (),
    )
    _clean_slate()
    report = await run_lab_story(cfg=replace(config, fallback=None), out_dir=None)
    cost = cost_of(report, prices, fixed_nodes=1)
    return {
        "trace": trace,
        "mode": mode,
        "p50": report.latency_p50 or 0.0,
        "p95": report.latency_p95 or 0.0,
        "cost": cost.dollars * 100,
        "virtual_pod_s": cost.virtual_pod_seconds,
        "node_s": cost.managed_node_seconds,
        "nodes": cost.nodes_launched,
        "lost": len(report.lost),
        "produced": report.produced,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", default="spike,plateau")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--seconds", type=float, default=150.0, help="each run lasts the trace plus this")
    args = parser.parse_args()
    prices = Prices()
    _pin_instance_type(True)
    lost = False
    try:
        print("| trace | set-up | wait p50 s | wait p95 s | cost ¢ | virtual pod-s | managed node-s | nodes launched |")
        print("|---|---|---|---|---|---|---|---|")
        for trace in args.traces.split(","):
            for mode in args.modes.split(","):
                r = asyncio.run(_run(trace, mode, args.seconds, prices))
                lost = lost or bool(r["lost"])
                print(table_row(r), flush=True)
    finally:
        _pin_instance_type(False)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
