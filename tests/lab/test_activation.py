"""A message into an empty queue wakes a scaled-to-zero consumer through StreamIsActive, then the HPA takes over."""

from __future__ import annotations

import time

import pytest
from kubernetes import client

from tests.lab.support import Lab, clone_example, condition, replicas, scaler_metric, until

pytestmark = pytest.mark.timeout(900)
NAMESPACE = "lab-activation"


def _running_pods(lab: Lab) -> int:
    pods = client.CoreV1Api(lab.api()).list_namespaced_pod(NAMESPACE).items
    return len([p for p in pods if p.status and p.status.phase == "Running" and not _deleted(p)])


def _deleted(pod: client.V1Pod) -> bool:
    return pod.metadata is not None and pod.metadata.deletion_timestamp is not None


def test_first_message_activates_by_push_then_the_hpa_scales_out(lab: Lab) -> None:
    queue_id = lab.create_queue("activation")
    clone_example(lab, "queue-virtual", NAMESPACE, queue_id=queue_id)
    until(
        "ScaledObject Ready",
        lambda: condition(lab.get("scaledobject", "queue-consumer", "-n", NAMESPACE), "Ready"),
        timeout=60,
    )
    until(
        "KEDA holding the idle consumer at zero",
        lambda: replicas(lab, NAMESPACE, ["queue-consumer"])["queue-consumer"] == 0,
        60,
    )
    until("KEDA's StreamIsActive stream open", lambda: scaler_metric(lab, "burst_scaler_active_streams") >= 1, 60)
    pushes_before = scaler_metric(lab, "burst_scaler_activation_pushes_total")

    sent_at = time.monotonic()
    lab.put(queue_id, [0])
    until("one consumer pod Running", lambda: _running_pods(lab) >= 1, timeout=60, interval=0.2)
    activation = time.monotonic() - sent_at
    print(f"activation (first message -> first consumer pod Running): {activation:.1f} s")

    assert scaler_metric(lab, "burst_scaler_activation_pushes_total") > pushes_before, (
        "the scale from zero came from a push"
    )
    # KEDA polls every 15 s (pollingInterval); the push path must beat a poll by a clear margin
    assert activation < 15

    lab.put(queue_id, range(1, 301), cls="heavy")  # 300 messages at 20 per replica: the HPA wants ~15 replicas
    until(
        "the HPA scaling past one replica",
        lambda: replicas(lab, NAMESPACE, ["queue-consumer"])["queue-consumer"] > 1,
        90,
    )
