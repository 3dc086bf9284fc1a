"""What the RPC path reports: each trigger's labelled metric series, and each warning once.

Two costs shape this module. prometheus_client's ``labels()`` costs more than answering the RPC, so every labelled
series is looked up once per trigger (or per method and status) and kept. And KEDA asks about every ScaledObject
every few seconds, so a warning logged per request would drown the log: each one is logged once per distinct
cause (a set of unknown keys, a set of placement findings, a new spill-over split), in bounded memory.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from scaler.bounded import FLEET_CAPACITY, Bounded
from scaler.kube import Workload
from scaler.placement import Finding
from scaler.poison import Poison
from scaler.resolution import Resolved
from scaler.routing import Split
from scaler.telemetry import Telemetry
from scaler.values import QueueBacklog, QueueSetBacklog, TriggerReading

log = logging.getLogger(__name__)

_Labels = tuple[str, str, str]
_Marker = tuple[str, str, tuple[object, ...]]
"""(namespace, ScaledObject, what is warned about): one warning per distinct marker."""


@dataclass(frozen=True)
class _TriggerSeries:
    """One trigger's labelled gauges, looked up once."""

    backlog: Any
    desired_replicas: Any
    value_age: Any
    dlq: Any | None
    """Queue triggers only: a Streaming trigger has no dead-letter queue, and an exported 0 would be invented."""


class Bookkeeping:
    """Records decisions, RPC outcomes, splits and placement findings into ``Telemetry`` and the log."""

    def __init__(self, *, telemetry: Telemetry, capacity: int = FLEET_CAPACITY) -> None:
        self._telemetry = telemetry
        self._triggers: dict[_Labels, _TriggerSeries] = {}
        self._rpcs: dict[tuple[str, grpc.StatusCode], tuple[Any, Any]] = {}
        self._unknown_warned: Bounded[_Marker, bool] = Bounded(capacity)
        self._placement_warned: Bounded[_Marker, bool] = Bounded(capacity)
        self._last_split: Bounded[tuple[str, str], Split] = Bounded(capacity)
        self._holding: Bounded[tuple[str, str], bool] = Bounded(capacity)

    def rpc(self, method: str, code: grpc.StatusCode) -> tuple[Any, Any]:
        """The (calls counter, duration histogram) of one method answered with one status."""
        series = self._rpcs.get((method, code))
        if series is None:
            t = self._telemetry
            series = self._rpcs[(method, code)] = (t.rpc_total.labels(method, code.name), t.rpc_seconds.labels(method))
        return series

    def decision(
        self, resolved: Resolved, reading: TriggerReading, *, backlog: float, desired_replicas: int, value_age: float
    ) -> None:
        """A trigger's value as served; its series are created on its first value, never before (a 0 exported
        before any read would be a false zero)."""
        labels = (resolved.namespace, resolved.name, resolved.metric_name)
        series = self._triggers.get(labels)
        queue = isinstance(reading, QueueBacklog | QueueSetBacklog)
        if series is None:
            t = self._telemetry
            series = self._triggers[labels] = _TriggerSeries(
                backlog=t.backlog.labels(*labels),
                desired_replicas=t.desired_replicas.labels(*labels),
                value_age=t.value_age.labels(*labels),
                dlq=t.dlq.labels(*labels) if queue else None,
            )
        series.backlog.set(backlog)
        series.desired_replicas.set(desired_replicas)
        series.value_age.set(value_age)
        if isinstance(reading, QueueBacklog | QueueSetBacklog):
            if series.dlq is not None:
                queues = reading.parts if isinstance(reading, QueueSetBacklog) else (reading,)
                series.dlq.set(sum(q.dlq_visible + q.dlq_in_flight for q in queues))
        else:
            for partition in reading.partitions:
                self._telemetry.partition_lag.labels(*labels, partition.partition).set(partition.lag)
                self._telemetry.partition_lag_capped.labels(*labels, partition.partition).set(partition.capped)

    def unknown_keys(self, namespace: str, name: str, keys: tuple[str, ...]) -> None:
        """Metadata keys nobody declared: warned once per ScaledObject and set of keys."""
        if not self._unknown_warned.first_sight((namespace, name, keys)):
            return
        log.warning(
            "ScaledObject %s/%s: ignoring unknown trigger metadata keys %s; they have no effect (typo?)",
            namespace,
            name,
            ", ".join(keys),
        )

    def split(self, resolved: Resolved, shares: Split, mine: int) -> None:
        """A spill-over member's share: always exported, logged when the split changes."""
        config = resolved.config
        group = config.group or ""
        self._telemetry.group_replicas.labels(resolved.namespace, group, config.tier or "").set(mine)
        marker = (resolved.namespace, resolved.name)
        if self._last_split.get(marker) == shares:
            return
        self._last_split.put(marker, shares)
        log.info(
            "group %s/%s: need %d → managed %d, virtual %d (managed ready: %s); %s tier gets %d",
            resolved.namespace,
            group,
            shares.total,
            shares.managed,
            shares.virtual,
            "unknown, pure overflow" if shares.managed_ready is None else shares.managed_ready,
            config.tier,
            mine,
        )

    def poison(self, resolved: Resolved, poison: Poison | None, held_at: int) -> None:
        """A ``poisonGuard`` trigger: whether it is held, always exported; logged when a hold starts and ends."""
        self._telemetry.poison_holds.labels(resolved.namespace, resolved.name).set(1 if poison else 0)
        marker = (resolved.namespace, resolved.name)
        if bool(self._holding.get(marker)) == (poison is not None):
            return
        self._holding.put(marker, poison is not None)
        if poison is None:
            log.info("ScaledObject %s/%s: poison guard released; scaling follows the backlog again", *marker)
            return
        log.warning(
            "ScaledObject %s/%s: queue %d of its trigger looks poisoned (dead letters %d → %d while the backlog went "
            "%d → %d); holding at %d replicas instead of scaling up, until the dead-letter count stops growing",
            *marker,
            poison.queue,
            poison.dlq_before,
            poison.dlq_now,
            poison.backlog_before,
            poison.backlog_now,
            held_at,
        )

    def placement(self, resolved: Resolved, workload: Workload, findings: Sequence[Finding]) -> None:
        """Placement errors of the target a tiered trigger scales: always exported, warned once per set."""
        self._telemetry.placement_violations.labels(resolved.namespace, resolved.name).set(len(findings))
        if not findings:
            return
        if not self._placement_warned.first_sight((resolved.namespace, resolved.name, tuple(f.rule for f in findings))):
            return
        log.warning(
            "ScaledObject %s/%s (tier %s) scales %s %s, which breaks placement rules: %s. "
            "Its pods may stay Pending or land on the wrong nodes; run `burst-scaler check` for fixes.",
            resolved.namespace,
            resolved.name,
            resolved.config.tier or "",
            workload.kind,
            workload.name,
            "; ".join(f"{f.rule}: {f.message}" for f in findings),
        )
