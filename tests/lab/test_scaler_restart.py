"""The scaler restarted mid-burst: real KEDA holds the replicas it has (no false zero), reconnects its push
stream, and the burst drains without loss.

The copy of deploy/examples/queue-virtual gets a slower consumer (2 s per heavy message, set in its ConfigMap) so
that the backlog outlasts the outage, and a 20 s cooldownPeriod.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from onebox.lab import up
from tests.lab.support import Lab, Sampler, clone_example, condition, scaler_metric, until

pytestmark = pytest.mark.timeout(900)
NAMESPACE = "lab-restart"
CONSUMER = "queue-consumer"
MESSAGES = 1500


def _slow_consumer(obj: dict[str, Any]) -> None:
    if obj["kind"] == "ConfigMap":
        obj["data"]["BURST_LOAD_WORK"] = "heavy=2,light=0.02"
    if obj["kind"] == "ScaledObject":
        obj["spec"]["cooldownPeriod"] = 20


def test_restart_mid_burst_holds_replicas_and_keda_reconnects(lab: Lab) -> None:
    queue_id = lab.create_queue("restart")
    clone_example(lab, "queue-virtual", NAMESPACE, queue_id=queue_id, edit=_slow_consumer)
    until("ScaledObject Ready", lambda: condition(lab.get("scaledobject", CONSUMER, "-n", NAMESPACE), "Ready"), 60)

    with Sampler(lab, NAMESPACE, [CONSUMER], queue_id) as sampler:
        lab.put(queue_id, range(MESSAGES), cls="heavy")
        until("the burst scaled out", lambda: sampler.latest().replicas[CONSUMER] >= 8, 120)
        before = sampler.latest().replicas[CONSUMER]
        streams_before = scaler_metric(lab, "burst_scaler_active_streams")
        assert streams_before >= 1

        up.stop_scaler()
        stopped_at = sampler.latest().t
        time.sleep(30)  # two HPA syncs and two KEDA polls with nothing to answer them
        up.start_scaler()
        restarted_at = sampler.latest().t
        waited = until("KEDA's push stream back", lambda: scaler_metric(lab, "burst_scaler_active_streams") >= 1, 120)
        print(f"KEDA reopened StreamIsActive {waited:.1f} s after the scaler came back")
        until("backlog drained", lambda: sampler.latest().backlog == 0, 300)
        until("scaled to zero after the cooldown", lambda: sampler.latest().replicas[CONSUMER] == 0, 240)

    outage = [s for s in sampler.samples if stopped_at <= s.t <= restarted_at]
    assert outage, sampler.table()
    assert min(s.replicas[CONSUMER] for s in outage) >= before, (
        f"a replica was dropped while the scaler was down\n{sampler.table()}"
    )
    while_busy = [s for s in sampler.samples if s.t >= stopped_at and s.backlog > 0]
    assert all(s.replicas[CONSUMER] > 0 for s in while_busy), sampler.table()
    until("every message accounted for", lambda: set(range(MESSAGES)) <= set(lab.processed(NAMESPACE)), 60)
