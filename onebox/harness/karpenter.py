"""Karpenter in the cluster model: when managed nodes are launched and when empty ones go away.

Both ends are slower than "as soon as possible", and the model keeps that, because node-seconds and the wait of
managed pods depend on it. Sources (kubernetes-sigs/karpenter @ v1.14.1):

* launches are batched: pkg/controllers/provisioning/batcher.go ``Batcher.Wait`` opens a window at the first
  pending pod and closes it once no new pod arrived for ``--batch-idle-duration`` (1 s) or after
  ``--batch-max-duration`` (10 s) in all (pkg/operator/options/options.go);
* an empty node becomes ``Consolidatable`` ``consolidateAfter`` after its last pod event
  (pkg/controllers/nodeclaim/disruption/consolidation.go);
* the disruption controller looks for candidates every 10 s when it found nothing (``pollingPeriod``,
  pkg/controllers/disruption/controller.go ``Reconcile``); an emptiness command is validated 15 s later and
  abandoned if a candidate got a pod in between (``commandValidationDelay``, consolidation.go; emptiness.go);
* budgets: default ``nodes: 10%`` of the NodePool's initialized nodes, rounded up, minus nodes already being
  disrupted (pkg/apis/v1/nodepool.go ``GetAllowedDisruptionsByReason``, disruption/helpers.go
  ``BuildDisruptionBudgetMapping``): about one node at a time in a pool of up to ten;
* then termination (drain, cloud-provider delete) before the node is gone; for the KWOK provider that is short and
  has no upstream constant, so ``termination_seconds`` is an estimate to calibrate against the lab.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KarpenterSpec:
    """Karpenter's timings and limits; the defaults are upstream's, except where noted."""

    provision_seconds: float = 30.0
    """From launch to a Ready node (the lab's KWOK NodePool: a configurable delay)."""
    max_nodes: int = 10
    consolidate_after_seconds: float = 30.0
    batch_idle_seconds: float = 1.0
    batch_max_seconds: float = 10.0
    disruption_poll_seconds: float = 10.0
    validation_seconds: float = 15.0
    termination_seconds: float = 2.0
    budget_percent: int = 10


@dataclass
class KarpenterNode:
    """A NodeClaim and its node: launched, Ready, maybe empty, maybe being terminated."""

    name: str
    created_at: float
    ready_at: float
    empty_since: float | None = None
    terminate_at: float | None = None
    """Set once a validated disruption command marked the node: no new pods, gone at this time."""


def allowed_disruptions(nodes: int, percent: int) -> int:
    """``nodes: <percent>%`` of a pool of ``nodes``, rounded up (intstr.GetScaledValueFromIntOrPercent, roundUp)."""
    return math.ceil(nodes * percent / 100)


class Karpenter:
    """Launches nodes for pending pods in batches and removes empty ones through the disruption controller."""

    def __init__(self, *, spec: KarpenterSpec) -> None:
        self._spec = spec
        self.nodes: list[KarpenterNode] = []
        self.created = 0
        self.first_ready: float | None = None
        self._window: tuple[float, float, int] | None = None
        """(opened, last new pod, uncovered pods seen) of the open batching window."""
        self._next_poll = 0.0
        self._command: tuple[float, list[KarpenterNode]] | None = None
        """(validate at, candidates) of the emptiness command waiting for validation."""

    def launch(self, now: float, *, pending: int, pods_per_node: int) -> None:
        """Batch the pending managed pods that no launched node will take, then launch nodes for them."""
        room = pods_per_node * sum(1 for n in self.nodes if n.ready_at > now)
        uncovered = max(0, pending - room)
        if uncovered == 0:
            self._window = None
            return
        if self._window is None:
            self._window = (now, now, uncovered)
        elif uncovered > self._window[2]:
            self._window = (self._window[0], now, uncovered)
        opened, last_pod, _ = self._window
        spec = self._spec
        if now - last_pod < spec.batch_idle_seconds and now - opened < spec.batch_max_seconds:
            return
        self._window = None
        wanted = math.ceil(uncovered / pods_per_node)
        for _ in range(min(wanted, spec.max_nodes - len(self.nodes))):
            self.created += 1
            node = KarpenterNode(f"karpenter-{self.created}", created_at=now, ready_at=now + spec.provision_seconds)
            self.nodes.append(node)
            log.info("karpenter: launching %s (%d managed pods pending)", node.name, pending)

    def _consolidatable(self, node: KarpenterNode, now: float) -> bool:
        return (
            node.terminate_at is None
            and node.empty_since is not None
            and now - node.empty_since >= self._spec.consolidate_after_seconds
        )

    def disrupt(self, now: float, *, used: Callable[[KarpenterNode], bool]) -> None:
        """Track emptiness, run the disruption loop (validate, poll, budget) and finish terminations."""
        self._disruption_loop(now, used=used)
        for node in [n for n in self.nodes if n.terminate_at is not None and n.terminate_at <= now]:
            self.nodes.remove(node)
            log.info("karpenter: terminated empty node %s", node.name)

    def _disruption_loop(self, now: float, *, used: Callable[[KarpenterNode], bool]) -> None:
        ready = [n for n in self.nodes if n.ready_at <= now]
        for node in ready:
            if self.first_ready is None or node.ready_at < self.first_ready:
                self.first_ready = node.ready_at
            if used(node):
                node.empty_since = None
            elif node.empty_since is None:
                node.empty_since = now
        if self._command is not None:
            validate_at, candidates = self._command
            if now < validate_at:
                return
            self._command = None
            if all(self._consolidatable(n, now) for n in candidates):
                for node in candidates:
                    node.terminate_at = now + self._spec.termination_seconds
                self._next_poll = now  # a successful command requeues the controller at once
            else:
                self._next_poll = now + self._spec.disruption_poll_seconds
        if now < self._next_poll:
            return
        pool = ready
        disrupting = sum(1 for n in pool if n.terminate_at is not None)
        budget = allowed_disruptions(len(pool), self._spec.budget_percent) - disrupting
        candidates = [n for n in pool if self._consolidatable(n, now)][: max(0, budget)]
        if candidates:
            self._command = (now + self._spec.validation_seconds, candidates)
        else:
            self._next_poll = now + self._spec.disruption_poll_seconds
