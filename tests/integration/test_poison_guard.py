"""``poisonGuard`` through real gRPC, the real SDK and the emulator's dead-lettering, on a hand-moved clock.

The queue dead-letters a message after one delivery. "Poison" is a consumer that receives messages and never
deletes them: one second later they are dead letters. The producer keeps putting, so the backlog does not shrink.
Window 10 s, a step every 5 s, target 10 per replica, KEDA's poll at each step:

    t   world                     backlog  DLQ  window starts at      plain  held at
    0   put 40                         40    0  -                        4  -
    5   poison 5, put 10               50    0  t=0 (40, DLQ 0)          5  -      (no dead letter yet)
    10  put 20                         65    5  t=0 (40, DLQ 0)          7  4 / 3  (grew, no shrink)
    15  put 10                         75    5  t=5 (50, DLQ 0)          8  5 / 3
    20  -                              75    5  t=10 (65, DLQ 5)         8  -      (DLQ stopped growing)

"held at" is what the window's first reading decided (no Kubernetes access) / the Deployment's 3 replicas (with
access). A held count n is sent as (n - 1/2) x target, so the HPA's ceil lands exactly on n.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scaler.settings import KubeMode, KubeSettings
from tests.support.kube_api import FakeKubeApi
from tests.support.queue_world import NAMESPACE, QueueWorld, queue_ref, start_world

NAME = "payments"
Act = Callable[[QueueWorld, str], None]


def poison_then_put(poisoned: int, put: int) -> Act:
    def act(world: QueueWorld, queue: str) -> None:
        if poisoned:
            world.take(queue, poisoned, visibility=1)  # never deleted: dead letters in 1 s
        world.put(queue, put)

    return act


STEPS: list[tuple[float, Act]] = [
    (0, poison_then_put(0, 40)),
    (5, poison_then_put(5, 10)),
    (10, poison_then_put(0, 20)),
    (15, poison_then_put(0, 10)),
    (20, poison_then_put(0, 0)),
]
# case -> Deployment replicas (None: no Kubernetes access) and, per step, (metric value, holding)
CASES: dict[str, tuple[int | None, list[tuple[float, int]]]] = {
    "without API access, held at what the window's first reading decided": (
        None,
        [(40, 0), (50, 0), (35.0, 1), (45.0, 1), (75, 0)],
    ),
    "with API access, held at the Deployment's replicas": (3, [(40, 0), (50, 0), (25.0, 1), (25.0, 1), (75, 0)]),
}
HOLD_LOGS = {
    "without API access, held at what the window's first reading decided": (
        "dead letters 0 → 5 while the backlog went 40 → 65); holding at 4 replicas"
    ),
    "with API access, held at the Deployment's replicas": (
        "dead letters 0 → 5 while the backlog went 40 → 65); holding at 3 replicas"
    ),
}


def kube_objects(replicas: int) -> list[dict[str, Any]]:
    scaled_object = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "spec": {"scaleTargetRef": {"name": NAME}, "triggers": [{"type": "external", "metadata": {}}]},
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": NAME}},
            "template": {
                "metadata": {"labels": {"app": NAME}},
                "spec": {"containers": [{"name": "consumer", "image": "example/consumer:1"}]},
            },
        },
        "status": {"replicas": replicas, "readyReplicas": replicas},
    }
    return [scaled_object, deployment]


@pytest.mark.parametrize("case", list(CASES))
async def test_poison_guard_holds_then_releases(
    case: str,
    start_emulator: Any,
    start_scaler: Any,
    channel_for: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    replicas, expected = CASES[case]
    with FakeKubeApi() as kube:
        settings: dict[str, Any] = {}
        if replicas is not None:
            for obj in kube_objects(replicas):
                kube.put(copy.deepcopy(obj))
            kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig")
            settings = {"kube": KubeSettings(mode=KubeMode.KUBECONFIG, kubeconfig=kubeconfig)}
        world = await start_world(
            start_emulator=start_emulator,
            start_scaler=start_scaler,
            channel_for=channel_for,
            tmp_path=tmp_path,
            **settings,
        )
        queue = world.emulator.create_queue("payments", dead_letter_queue_delivery_count=1)
        ref = queue_ref(NAME, queueId=queue, poisonGuard="true", poisonWindowSeconds="10")
        seen = []
        now = 0.0
        with caplog.at_level(logging.INFO, logger="scaler.series"):
            for at, act in STEPS:
                world.advance(at - now)
                now = at
                act(world, queue)
                answer = await world.poll(ref)
                holding = world.app.telemetry.registry.get_sample_value(
                    "burst_scaler_poison_guard_holding", {"namespace": NAMESPACE, "scaledobject": NAME}
                )
                seen.append((answer.value, holding))
                assert answer.active is True
    assert seen == [(float(value), float(holding)) for value, holding in expected]
    logs = [r.getMessage() for r in caplog.records if r.name == "scaler.series"]
    assert logs == [
        f"ScaledObject {NAMESPACE}/{NAME}: queue 0 of its trigger looks poisoned ({HOLD_LOGS[case]} instead of "
        "scaling up, until the dead-letter count stops growing",
        f"ScaledObject {NAMESPACE}/{NAME}: poison guard released; scaling follows the backlog again",
    ]
