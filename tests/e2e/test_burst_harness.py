"""The whole story on one machine, as CI's end-to-end proof: emulator + scaler + KEDA/HPA loops + cluster model +
real consumers, with a scaler restart in the middle of the burst.

Asserts what the product promises: the backlog drains, nothing is lost, the virtual tier scales before the managed
tier gets Karpenter nodes, the virtual tier hands back first, everything returns to zero after the cooldown, and a
scaler restart mid-burst costs errors but neither replicas nor messages: as in real KEDA, a scaler that is down gets
no fallback (its GetMetricSpec fails first) and its ScaledObjects keep their scale until it answers again.
"""

from __future__ import annotations

from pathlib import Path

from onebox.harness.cluster import ClusterSpec
from onebox.harness.config import HarnessConfig
from onebox.harness.karpenter import KarpenterSpec
from onebox.harness.run import run_harness


async def test_burst_with_spillover_and_a_scaler_restart(tmp_path: Path) -> None:
    config = HarnessConfig(
        spike_rate=50.0,
        spike_start=3.0,
        spike_seconds=15.0,
        produce_seconds=25.0,
        cluster=ClusterSpec(
            virtual_pod_start_seconds=1.5,
            managed_pod_start_seconds=0.5,
            fixed_managed_nodes=1,
            pods_per_node=4,
            karpenter=KarpenterSpec(provision_seconds=10.0, max_nodes=2, consolidate_after_seconds=5.0),
        ),
        cooldown_period=8.0,
        scale_down_stabilization=5.0,
        restart_scaler_at=9.0,
        # a burst buys managed capacity once it lasted holdSeconds (on a restarted scaler: once it saw it that long)
        managed_metadata=(("holdSeconds", "2"),),
        restart_gap=2.0,
        max_seconds=85.0,
    )
    report = await run_harness(config=config, out_dir=tmp_path / "run")
    events = report.events
    # what a failing assertion prints: where the run ended and what each KEDA loop saw
    seen = f"events={events} last={report.rows[-1] if report.rows else None} keda={report.keda}"

    assert report.produce is not None
    assert report.produced == report.produce["planned"]
    assert report.lost == ()  # every produced message was consumed
    assert report.consumed == report.produced
    assert "drained" in events, seen
    assert report.rows[-1].backlog == 0

    # virtual nodes absorbed the burst before Karpenter's nodes were there
    assert events["first_virtual_running"] < events["first_karpenter_node_ready"]
    assert report.karpenter_nodes >= 1
    # ... and handed back first once managed capacity arrived
    assert events["virtual_handback_started"] <= events["managed_handback_started"]
    # back to zero after the cooldown
    assert "scaled_to_zero" in events, seen
    # ... only once the backlog was gone, and a cooldown after the scaler last said active (KEDA's reference),
    # which it kept saying past the peak; the loops' clock is the timeline's
    assert events["scaled_to_zero"] >= events["drained"]
    for name, stats in report.keda.items():
        zeroed = [at for at, replicas, _ in stats["scale_events"] if replicas == 0]
        assert zeroed, (name, seen)
        assert stats["last_active_at"] is not None, (name, seen)
        assert stats["last_active_at"] >= events["peak_backlog_at"], (name, seen)
        assert zeroed[-1] - stats["last_active_at"] >= config.cooldown_period, (name, seen)
        assert stats["surprises"] == [], (name, seen)  # no step of the KEDA stand-in raised

    # the restart: KEDA saw errors and held the replicas it had (never zero mid-burst), nothing was lost
    stopped, restarted = events["scaler_stopped"], events["scaler_restarted"]
    assert sum(stats["errors"] for stats in report.keda.values()) > 0
    during = [row for row in report.rows if stopped <= row.t <= restarted + 2]
    assert during
    assert all(sum(row.replicas.values()) > 0 for row in during)
    before = [row for row in report.rows if row.t < stopped][-1]
    grace = 1.0  # the scaler's shutdown grace: RPCs already in flight may still answer
    for name, stats in report.keda.items():
        assert stats["fallback_reads"] == 0, (name, seen)  # no fallback while GetMetricSpec fails (KEDA #8056)
        held = [r for at, r, _ in stats["scale_events"] if stopped + grace < at <= restarted]
        assert held == [], (name, seen)  # neither KEDA nor the HPA changed the scale while the scaler was down
        if before.replicas.get(name, 0) > 0:
            assert all(row.replicas[name] > 0 for row in during), (name, seen)  # this tier was not dropped to zero

    written = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"timeline.csv", "summary.json"} <= written
