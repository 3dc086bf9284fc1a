"""Pure scaling decisions: backlog in, metric value / activity / replica count out. No I/O, no clock.

KEDA turns our metric into replicas through the HPA's AverageValue arithmetic,
``desired = ceil(value / target)``, computed on milli-unit quantities (KEDA ≥2.20 rounds floats to 3 decimals,
2.17–2.19 truncate). So the scaler expresses every decision as a *value* whose arithmetic lands exactly on the
replica count it decided, including its own ``maxReplicas`` cap (KEDA never sends its ``maxReplicaCount``):

* the target is sent on the milli grid, so KEDA's quantization leaves it unchanged;
* replicas are decided in the same milli arithmetic the HPA uses;
* a capped decision sends ``(maxReplicas - 1/2) x target``: ``ceil`` lands on the cap under rounding *and*
  truncation, and once at the cap the ratio stays inside the HPA's 0.1 tolerance for caps of 5 and more.

Activation follows KEDA's convention: active iff backlog is strictly above the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

from scaler.metadata import TriggerConfig
from scaler.sources.base import QueueBacklog, Reading


@dataclass(frozen=True)
class Decision:
    """What one backlog reading means for one trigger."""

    backlog: float
    metric_value: float
    """Sent as MetricValue; HPA computes ceil(metric_value / target)."""
    active: bool
    desired_replicas: int


@dataclass(frozen=True)
class Target:
    """The MetricSpec target: KEDA ≥2.17 reads the float, older KEDA the int (which must stay ≥ 1)."""

    size_float: float
    size_int: int


MILLI = 1000


def _milli(value: float) -> int:
    return round(value * MILLI)


def target(config: TriggerConfig) -> Target:
    """The per-replica target on the milli grid (never below 0.001)."""
    size = max(1, _milli(config.target_backlog_per_replica)) / MILLI
    return Target(size_float=size, size_int=max(1, round(size)))


def is_active(backlog: float, activation_backlog: float) -> bool:
    return backlog > activation_backlog


def backlog_of(reading: Reading, config: TriggerConfig) -> int:
    """The number the trigger scales on: queue visible (+ in-flight), or the group's lag (persistent lag excluded)."""
    if isinstance(reading, QueueBacklog):
        return reading.backlog(include_in_flight=config.include_in_flight)
    return reading.backlog(exclude_persistent=config.exclude_persistent_lag)


def replica_cap(reading: Reading, config: TriggerConfig) -> int | None:
    """The tightest cap: ``maxReplicas``, and for Streaming the partition count unless idle consumers are allowed."""
    cap = config.max_replicas
    if not isinstance(reading, QueueBacklog) and not config.allow_idle_consumers:
        cap = reading.partition_count if cap is None else min(cap, reading.partition_count)
    return cap


def decide(backlog: float, config: TriggerConfig, *, cap: int | None = None) -> Decision:
    """The `backlog` policy: one replica per ``targetBacklogPerReplica`` messages, capped at ``cap``.

    ``cap`` defaults to ``maxReplicas``; callers pass ``replica_cap()`` to include the Streaming partition cap.
    """
    cap = config.max_replicas if cap is None else cap
    per_replica_milli = _milli(target(config).size_float)
    desired = -(-max(0, _milli(backlog)) // per_replica_milli)  # ceil in the HPA's milli units
    value = backlog
    if cap is not None and desired > cap:
        desired = cap
        value = (cap - 0.5) * per_replica_milli / MILLI
    return Decision(
        backlog=backlog,
        metric_value=value,
        active=is_active(backlog, config.activation_backlog),
        desired_replicas=desired,
    )


def int_value(value: float) -> int:
    """The deprecated int64 twin of a float value: rounded, never negative (KEDA ≤2.16 reads only this)."""
    return max(0, round(value))
