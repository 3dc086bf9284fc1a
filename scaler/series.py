"""What the RPC path reports: each trigger's labelled metric series, and each warning once.

Two costs shape this module. prometheus_client's ``labels()`` costs more than answering the RPC, so every labelled
series is looked up once per trigger (or per method and status) and kept. And KEDA asks about every ScaledObject
every few seconds, so a warning logged per request would drown the log: each one is logged once per distinct
cause (a set of unknown keys, a set of placement findings, a new spill-over split).

All of it is kept per ScaledObject in one place (``_Memory``), so that when an object stops asking
(scaler.forgetting) its series leave /metrics and its memory is freed in one step. A spill-over group's series is
shared by its members and leaves with the last of them.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import grpc

from scaler.kube import Workload
from scaler.placement import Finding
from scaler.poison import Poison
from scaler.resolution import Resolved
from scaler.routing import Split
from scaler.telemetry import Telemetry
from scaler.values import QueueBacklog, QueueSetBacklog, StreamLag, TriggerReading

log = logging.getLogger(__name__)

_Object = tuple[str, str]
"""(namespace, ScaledObject name)."""
_Group = tuple[str, str, str]
"""(namespace, group, tier): the labels of one spill-over share series."""


@dataclass(frozen=True)
class _TriggerSeries:
    """One trigger's labelled gauges, looked up once."""

    backlog: Any
    desired_replicas: Any
    value_age: Any
    value_timestamp: Any
    dlq: Any | None
    """Queue triggers only: a Streaming trigger has no dead-letter queue, and an exported 0 would be invented."""
    info: tuple[str, ...]
    """The labels of its ``burst_scaler_scaledobject_info`` series (source, tier and group follow the metadata)."""
    partitions: set[str] = field(default_factory=set)
    """Streaming triggers: the partitions whose lag series exist, so forgetting can remove each one."""


@dataclass
class _Memory:
    """Everything kept for one ScaledObject: its series, what it was warned about, its last split."""

    triggers: dict[str, _TriggerSeries] = field(default_factory=dict)
    """By metric name."""
    unknown_warned: set[tuple[str, ...]] = field(default_factory=set)
    placement_warned: set[tuple[str, ...]] = field(default_factory=set)
    placement_series: bool = False
    last_split: Split | None = None
    groups: set[_Group] = field(default_factory=set)
    holding: bool = False
    """A ``poisonGuard`` trigger is held at its current replicas."""
    poison_series: bool = False


class Bookkeeping:
    """Records decisions, RPC outcomes, splits and placement findings into ``Telemetry`` and the log."""

    def __init__(self, *, telemetry: Telemetry, wall_clock: Callable[[], float] = time.time) -> None:
        """``wall_clock``: Unix time, for the value timestamps alerts compare with Prometheus' ``time()``."""
        self._telemetry = telemetry
        self._wall_clock = wall_clock
        self._objects: dict[_Object, _Memory] = {}
        self._group_members: dict[_Group, set[_Object]] = {}
        self._rpcs: dict[tuple[str, grpc.StatusCode], tuple[Any, Any]] = {}

    def __len__(self) -> int:
        """ScaledObjects remembered."""
        return len(self._objects)

    def _memory(self, namespace: str, name: str) -> _Memory:
        key = (namespace, name)
        memory = self._objects.get(key)
        if memory is None:
            memory = self._objects[key] = _Memory()
        return memory

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
        memory = self._memory(resolved.namespace, resolved.name)
        series = memory.triggers.get(resolved.metric_name)
        queue = isinstance(reading, QueueBacklog | QueueSetBacklog)
        config = resolved.config
        info = (*labels, config.source.value, config.tier or "", config.group or "")
        if series is None or series.info != info:
            series = _trigger_series(self._telemetry, series, labels, info, queue)
            memory.triggers[resolved.metric_name] = series
        series.backlog.set(backlog)
        series.desired_replicas.set(desired_replicas)
        series.value_age.set(value_age)
        series.value_timestamp.set(self._wall_clock() - value_age)
        if isinstance(reading, QueueBacklog | QueueSetBacklog):
            if series.dlq is not None:
                queues = reading.parts if isinstance(reading, QueueSetBacklog) else (reading,)
                series.dlq.set(sum(q.dlq_visible + q.dlq_in_flight for q in queues))
        else:
            _set_partitions(self._telemetry, series, labels, reading)

    def unknown_keys(self, namespace: str, name: str, keys: tuple[str, ...]) -> None:
        """Metadata keys nobody declared: warned once per ScaledObject and set of keys."""
        warned = self._memory(namespace, name).unknown_warned
        if keys in warned:
            return
        warned.add(keys)
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
        labels = (resolved.namespace, group, config.tier or "")
        self._telemetry.group_replicas.labels(*labels).set(mine)
        self._telemetry.group_need.labels(resolved.namespace, group).set(shares.total)
        if shares.managed_ready is not None:
            self._telemetry.group_managed_ready.labels(resolved.namespace, group).set(shares.managed_ready)
        memory = self._memory(resolved.namespace, resolved.name)
        if labels not in memory.groups:
            memory.groups.add(labels)
            self._group_members.setdefault(labels, set()).add((resolved.namespace, resolved.name))
        if memory.last_split == shares:
            return
        memory.last_split = shares
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
        memory = self._memory(resolved.namespace, resolved.name)
        memory.poison_series, was_holding, memory.holding = True, memory.holding, poison is not None
        if was_holding != memory.holding:
            _log_poison((resolved.namespace, resolved.name), poison, held_at)

    def placement(self, resolved: Resolved, workload: Workload, findings: Sequence[Finding]) -> None:
        """Placement errors of the target a tiered trigger scales: always exported, warned once per set."""
        self._telemetry.placement_violations.labels(resolved.namespace, resolved.name).set(len(findings))
        memory = self._memory(resolved.namespace, resolved.name)
        memory.placement_series = True
        if not findings:
            return
        rules = tuple(str(f.rule) for f in findings)
        if rules in memory.placement_warned:
            return
        memory.placement_warned.add(rules)
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

    def forget(self, namespace: str, name: str) -> None:
        """Remove this ScaledObject's series from /metrics and drop what was kept for it."""
        memory = self._objects.pop((namespace, name), None)
        if memory is None:
            return
        t = self._telemetry
        for metric, series in memory.triggers.items():
            labels = (namespace, name, metric)
            for gauge in (t.backlog, t.desired_replicas, t.value_age, t.value_timestamp):
                _remove(gauge, labels)
            _remove(t.trigger_info, series.info)
            if series.dlq is not None:
                _remove(t.dlq, labels)
            for partition in series.partitions:
                _remove(t.partition_lag, (*labels, partition))
                _remove(t.partition_lag_capped, (*labels, partition))
        if memory.placement_series:
            _remove(t.placement_violations, (namespace, name))
        if memory.poison_series:
            _remove(t.poison_holds, (namespace, name))
        _leave_groups(t, self._group_members, memory.groups, (namespace, name))


def _trigger_series(
    t: Telemetry, old: _TriggerSeries | None, labels: tuple[str, str, str], info: tuple[str, ...], queue: bool
) -> _TriggerSeries:
    """A trigger's series on its first value, or the same with its info series moved to a changed tier or group."""
    if old is not None:
        _remove(t.trigger_info, old.info)
    t.trigger_info.labels(*info).set(1)
    if old is not None:
        return replace(old, info=info)
    return _TriggerSeries(
        backlog=t.backlog.labels(*labels),
        desired_replicas=t.desired_replicas.labels(*labels),
        value_age=t.value_age.labels(*labels),
        value_timestamp=t.value_timestamp.labels(*labels),
        dlq=t.dlq.labels(*labels) if queue else None,
        info=info,
    )


def _leave_groups(t: Telemetry, members_of: dict[_Group, set[_Object]], groups: set[_Group], obj: _Object) -> None:
    """A forgotten object leaves its groups: a tier's share series goes with its last member, the group's need and
    managed readiness with the last member of either tier."""
    for group in groups:
        members = members_of.get(group)
        if members is not None:
            members.discard(obj)
            if not members:
                del members_of[group]
                _remove(t.group_replicas, group)
        if not any(other[:2] == group[:2] for other in members_of):
            _remove(t.group_need, group[:2])
            _remove(t.group_managed_ready, group[:2])


def _set_partitions(telemetry: Telemetry, series: _TriggerSeries, labels: tuple[str, ...], reading: StreamLag) -> None:
    """A Streaming trigger's per-partition lag, and whether each count stopped at the read cap."""
    for partition in reading.partitions:
        series.partitions.add(partition.partition)
        telemetry.partition_lag.labels(*labels, partition.partition).set(partition.lag)
        telemetry.partition_lag_capped.labels(*labels, partition.partition).set(partition.capped)


def _log_poison(marker: tuple[str, str], poison: Poison | None, held_at: int) -> None:
    """A poison guard's hold starting (a warning naming the evidence) or ending."""
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


def _remove(metric: Any, labels: tuple[str, ...]) -> None:
    """Remove one labelled series; one that is already gone is not an error."""
    with contextlib.suppress(KeyError):
        metric.remove(*labels)
