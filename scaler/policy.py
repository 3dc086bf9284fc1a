"""Pure scaling decisions: backlog in, metric value / activity / replica count out. No I/O, no clock.

KEDA turns our metric into replicas through the HPA's AverageValue arithmetic,
``desired = ceil(value / target)``; so the scaler expresses every decision as a *value* whose arithmetic lands
exactly on the replica count it decided, including its own ``maxReplicas`` cap (KEDA never sends its
``maxReplicaCount``). Activation follows KEDA's convention: active iff backlog is strictly above the threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scaler.metadata import TriggerConfig


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


def target(config: TriggerConfig) -> Target:
    value = config.target_backlog_per_replica
    return Target(size_float=value, size_int=max(1, round(value)))


def is_active(backlog: float, activation_backlog: float) -> bool:
    return backlog > activation_backlog


def decide(backlog: float, config: TriggerConfig) -> Decision:
    """The `backlog` policy: one replica per ``targetBacklogPerReplica`` messages, capped at ``maxReplicas``."""
    per_replica = config.target_backlog_per_replica
    desired = math.ceil(backlog / per_replica) if backlog > 0 else 0
    value = backlog
    if config.max_replicas is not None and desired > config.max_replicas:
        desired = config.max_replicas
        value = per_replica * config.max_replicas
    return Decision(
        backlog=backlog,
        metric_value=value,
        active=is_active(backlog, config.activation_backlog),
        desired_replicas=desired,
    )


def int_value(value: float) -> int:
    """The deprecated int64 twin of a float value: rounded, never negative (KEDA ≤2.16 reads only this)."""
    return max(0, round(value))
