"""What a harness run would have cost on OCI, with the prices written down.

Billing follows OCI's rules, not a per-pod abstraction:

* a pod on a virtual node is billed for its OCPU and memory from start to deletion, its size rounded *up* to whole
  OCPUs and whole GB after adding 0.25 GB for the runtime (OKE's virtual node sizing rule); the $0.015 per virtual
  node-hour is the same in every set-up that has virtual nodes and is left out;
* a managed node is billed from launch to termination, Ready or not, for its whole shape.

The defaults are OCI list prices for VM.Standard.E4.Flex ($0.025 per OCPU-hour, $0.0015 per GB-hour), the virtual
pod of deploy/examples (1 CPU, 1 GiB: 1 OCPU, 2 GB) and the smallest node of deploy/karpenter's OCINodeClass
(2 OCPUs, 16 GB), which holds the 4 consumer pods the harness places per node. Every one is a flag of the benchmark.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from onebox.harness.report import Row, RunReport

HOUR = 3600.0


@dataclass(frozen=True)
class Prices:
    ocpu_hour: float = 0.025
    gb_hour: float = 0.0015
    virtual_pod_ocpus: float = 1.0
    virtual_pod_gb: float = 2.0
    node_ocpus: float = 2.0
    node_gb: float = 16.0

    def virtual_pod_hour(self) -> float:
        return self.virtual_pod_ocpus * self.ocpu_hour + self.virtual_pod_gb * self.gb_hour

    def node_hour(self) -> float:
        return self.node_ocpus * self.ocpu_hour + self.node_gb * self.gb_hour

    def break_even(self) -> int:
        """The consumers a node must carry to cost less than as many virtual pods (``managedBreakEven``)."""
        return max(1, math.ceil(round(self.node_hour() / self.virtual_pod_hour(), 9)))


@dataclass(frozen=True)
class Cost:
    """One run's bill, and the quantities it was computed from."""

    virtual_pod_seconds: float
    managed_node_seconds: float
    """From launch to termination: Ready, provisioning and draining nodes alike."""
    nodes_launched: int
    dollars: float


def _integral(rows: Sequence[Row], value: Callable[[Row], float]) -> float:
    return sum(value(a) * (b.t - a.t) for a, b in itertools.pairwise(rows))


def cost_of(
    report: RunReport, prices: Prices, *, virtual_deployment: str = "orders-virtual", fixed_nodes: int = 0
) -> Cost:
    """The bill of one run: virtual pods (the Deployment's pods, which exist from creation to deletion) and the
    nodes Karpenter launched (``fixed_nodes`` that were there before and after the run are the same in every
    set-up and left out)."""
    pod_seconds = _integral(report.rows, lambda r: r.replicas.get(virtual_deployment, 0))
    node_seconds = _integral(report.rows, lambda r: max(0, r.nodes + r.provisioning - fixed_nodes))
    dollars = pod_seconds / HOUR * prices.virtual_pod_hour() + node_seconds / HOUR * prices.node_hour()
    return Cost(
        virtual_pod_seconds=round(pod_seconds, 1),
        managed_node_seconds=round(node_seconds, 1),
        nodes_launched=report.karpenter_nodes,
        dollars=dollars,
    )
