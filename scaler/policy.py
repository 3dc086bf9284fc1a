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

import itertools
import math
from dataclasses import dataclass

from scaler.metadata import TriggerConfig
from scaler.values import Policy, QueueBacklog, Reading


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


@dataclass(frozen=True)
class Sample:
    """One backlog reading on the refresh cache's clock."""

    at: float
    backlog: float


@dataclass(frozen=True)
class Observation:
    """Everything a decision may use, gathered at the edges; the policy itself reads nothing."""

    backlog: float
    history: tuple[Sample, ...] = ()
    """Recent readings of the same source, oldest first (may end with the current one)."""
    ready_replicas: int | None = None
    """The scale target's ready replicas now, when the Kubernetes API could tell."""
    cap: int | None = None
    """Replica cap from the caller (``maxReplicas``, partition count); None: uncapped."""


TREND_WINDOW_SECONDS = 60.0
"""How far back trends look: long enough to average GetStats' approximations, short enough to follow a burst."""
_MIN_TREND_SPAN_SECONDS = 1.0


def _window(history: tuple[Sample, ...]) -> tuple[Sample, ...]:
    if not history:
        return ()
    newest = history[-1].at
    return tuple(s for s in history if newest - s.at <= TREND_WINDOW_SECONDS)


def trend(history: tuple[Sample, ...]) -> float | None:
    """Least-squares slope of backlog over time (messages/s) in the window; None without enough data."""
    samples = _window(history)
    if len(samples) < 2 or samples[-1].at - samples[0].at < _MIN_TREND_SPAN_SECONDS:
        return None
    mean_t = sum(s.at for s in samples) / len(samples)
    mean_b = sum(s.backlog for s in samples) / len(samples)
    var = sum((s.at - mean_t) ** 2 for s in samples)
    cov = sum((s.at - mean_t) * (s.backlog - mean_b) for s in samples)
    return cov / var if var > 0 else None


def project(backlog: float, history: tuple[Sample, ...], lead_seconds: float) -> float:
    """The backlog ``lead_seconds`` ahead on the current trend, for capacity that takes time to arrive.

    Bounded both ways: a flat or falling trend never inflates the backlog, and the projection never reaches
    further ahead than the window of readings that supports the trend.
    """
    slope = trend(history)
    if slope is None or slope <= 0 or lead_seconds <= 0:
        return backlog
    samples = _window(history)
    support = samples[-1].at - samples[0].at
    return backlog + slope * min(lead_seconds, support)


def estimate_throughput(history: tuple[Sample, ...], ready_replicas: int | None) -> float | None:
    """Per-replica throughput from backlog readings: a lower bound, or None when nothing supports one.

    GetStats shows only the backlog, so arrivals and consumption cannot be told apart directly. Whenever the
    backlog fell between two readings, the consumers processed at least that drop (arrivals are never negative);
    the fastest such drop in the window, divided by the ready replicas now, bounds one replica's throughput from
    below. Under-estimating throughput errs toward more replicas. Without a falling stretch or a replica count
    (no Kubernetes API access) there is no estimate and the `drain` policy falls back to `backlog`.
    """
    if not ready_replicas:
        return None
    samples = _window(history)
    rates = [
        (a.backlog - b.backlog) / (b.at - a.at)
        for a, b in itertools.pairwise(samples)
        if b.at > a.at and b.backlog < a.backlog
    ]
    return max(rates) / ready_replicas if rates else None


def drain_replicas(
    backlog: float,
    *,
    drain_seconds: float,
    throughput: float,
    arrival: float,
) -> int:
    """Replicas that absorb arrivals and clear ``backlog`` within ``drain_seconds``: ceil((B/T + arrival) / thr)."""
    need = backlog / drain_seconds + max(0.0, arrival)
    return max(0, math.ceil(need / throughput - 1e-9)) if need > 0 else 0


def _drain_need(backlog: float, obs: Observation, config: TriggerConfig) -> int | None:
    throughput = config.throughput_per_replica or estimate_throughput(obs.history, obs.ready_replicas)
    if throughput is None:
        return None
    slope = trend(obs.history) or 0.0
    # Arrivals = net growth + what the running replicas consume; without a replica count, net growth only.
    arrival = slope + (obs.ready_replicas or 0) * throughput
    return drain_replicas(backlog, drain_seconds=config.drain_seconds, throughput=throughput, arrival=arrival)


def _ceil_replicas(backlog: float, per_replica_milli: int) -> int:
    return -(-max(0, _milli(backlog)) // per_replica_milli)  # ceil in the HPA's milli units


def value_for(replicas: int, backlog: float, config: TriggerConfig) -> float:
    """The metric value that makes the HPA run exactly ``replicas``.

    When that is what plain backlog scaling gives anyway, the raw backlog is sent (what KEDA users expect to see);
    otherwise ``(replicas - 1/2) x target``, which lands on ``replicas`` under KEDA's rounding and truncation.
    """
    return _value_for(replicas, backlog, _milli(target(config).size_float))


def _value_for(replicas: int, backlog: float, per_replica_milli: int) -> float:
    if replicas == _ceil_replicas(backlog, per_replica_milli):
        return backlog
    return (replicas - 0.5) * per_replica_milli / MILLI if replicas > 0 else 0.0


def uses_history(config: TriggerConfig) -> bool:
    """Whether ``decide`` reads ``Observation.history`` for this trigger (callers skip building it otherwise)."""
    return config.lead_seconds > 0 or config.policy == Policy.DRAIN


def decide(obs: Observation | float, config: TriggerConfig, *, cap: int | None = None) -> Decision:
    """Replicas for one trigger under its policy, capped, expressed as an HPA-exact metric value.

    ``obs`` may be a bare backlog (the `backlog` policy needs nothing else). ``cap`` defaults to the
    observation's cap, then to ``maxReplicas``; callers pass ``replica_cap()`` to include the partition cap.
    """
    if not isinstance(obs, Observation):
        obs = Observation(backlog=obs)
    if cap is None:
        cap = obs.cap if obs.cap is not None else config.max_replicas
    basis = obs.backlog
    if config.lead_seconds > 0:
        basis = project(obs.backlog, obs.history, config.lead_seconds)
    per_replica_milli = _milli(target(config).size_float)  # once: decide runs on every RPC
    desired = _ceil_replicas(basis, per_replica_milli)
    if config.policy == Policy.DRAIN and obs.backlog > 0:
        need = _drain_need(basis, obs, config)
        if need is not None:
            desired = max(1, need)
    if cap is not None:
        desired = min(desired, cap)
    return Decision(
        backlog=obs.backlog,
        metric_value=_value_for(desired, obs.backlog, per_replica_milli),
        active=is_active(obs.backlog, config.activation_backlog),
        desired_replicas=desired,
    )


def resize(decision: Decision, replicas: int, config: TriggerConfig, *, active_when_positive: bool) -> Decision:
    """The same observation expressed for another replica count (a spill-over member's share).

    A spill-over member whose share is 0 is inactive even with a backlog, so KEDA can scale it to zero while the
    other tier serves everything: an active member is run at the HPA's minimum of one pod whatever its share, and
    for the managed member that one pod makes Karpenter buy a node for a burst the group left on virtual nodes.
    """
    active = decision.active and (replicas > 0 if active_when_positive else True)
    return Decision(
        backlog=decision.backlog,
        metric_value=value_for(replicas, decision.backlog, config),
        active=active,
        desired_replicas=replicas,
    )


def int_value(value: float) -> int:
    """The deprecated int64 twin of a float value: rounded, never negative (KEDA ≤2.16 reads only this)."""
    return max(0, round(value))
