"""A resolved trigger and its latest reading in, a frozen ``Decision`` out.

Split in two so that deciding stays pure. ``Evaluator`` gathers, within the caller's deadline, what a decision
may use from the edges: the reading and its history from the refresh cache, the target workload and the group's
managed peer from the Kubernetes API. ``conclude`` turns that ``Evidence`` into an ``Outcome`` with no I/O and no
clock: the policy's decision, caps, the spill-over share and the placement lint of the target. The evaluator then
hands what was concluded to ``Bookkeeping`` (metrics, warnings) and returns the decision.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Final, NamedTuple

from scaler.cluster import ClusterView
from scaler.kube import GroupPeer, Workload
from scaler.landing import land, rule_for
from scaler.metadata import SourceRef, TriggerConfig
from scaler.placement import Finding, Severity, lint_workload
from scaler.policy import Decision, Observation, Sample, backlog_of, decide, replica_cap, resize, uses_history
from scaler.policy import target as target_size
from scaler.refresh import RefreshCache, Snapshot
from scaler.resolution import Resolved
from scaler.routing import Split
from scaler.series import Bookkeeping
from scaler.spillover import Load, Readiness, share
from scaler.values import Landing, Policy, QueueBacklog, Reading, Tier

DEADLINE_MARGIN_SECONDS: Final = 0.05
"""Kept back from the caller's deadline to build and send the answer."""


def wait_budget(remaining: float | None, deadline: float) -> float:
    """How long one RPC may wait for data: the scaler's own deadline, or less when the caller's ends sooner."""
    if remaining is None:
        return deadline
    return max(0.0, min(deadline, remaining - DEADLINE_MARGIN_SECONDS))


class Evidence(NamedTuple):
    """Everything one decision may use, gathered at the edges.

    Immutable like the other values, but a NamedTuple: two of these are built per RPC, and a frozen dataclass
    costs twice as much to build, which showed on the RPC benchmark.
    """

    reading: Reading
    history: tuple[Snapshot[Reading], ...] = ()
    """Recent readings of the same source, oldest first; gathered only for policies that use them."""
    target: Workload | None = None
    """The workload the ScaledObject scales, when the decision needs it and the Kubernetes API could tell."""
    peer: GroupPeer | None = None
    """A group member's other member (the managed one for the virtual tier and back), when the API could tell."""


class Outcome(NamedTuple):
    """What one reading means for one trigger, and what was found on the way (a NamedTuple, as ``Evidence``)."""

    decision: Decision
    backlog: int
    split: Split | None = None
    """Spill-over members only: how the group's total need was divided."""
    findings: tuple[Finding, ...] = ()
    """Placement errors of the target (tiered triggers whose target was read)."""


def conclude(config: TriggerConfig, evidence: Evidence, *, scaled_object: str) -> Outcome:
    """The decision for one trigger: its policy, its caps and, in a spill-over group, its share (scaler.routing)."""
    reading = evidence.reading
    backlog = backlog_of(reading, config)
    history = (
        tuple(Sample(s.observed_at, backlog_of(s.value, config)) for s in evidence.history) if evidence.history else ()
    )
    target = evidence.target
    findings: tuple[Finding, ...] = ()
    if target is not None and config.tier is not None:
        linted = lint_workload(target.manifest, tier=config.tier, scaled_object=scaled_object)
        findings = tuple(f for f in linted if f.severity == Severity.ERROR)
    ready = target.ready_replicas if target is not None else None
    observation = Observation(backlog=float(backlog), history=history, ready_replicas=ready)
    if config.group is not None and config.tier is not None:
        decision, shares = _group_share(config, evidence, observation)
        return Outcome(_landed(decision, config, reading, target), backlog, shares, findings)
    decision = decide(observation, config, cap=replica_cap(reading, config))
    return Outcome(_landed(decision, config, reading, target), backlog, None, findings)


def _landing_rule(config: TriggerConfig) -> Landing:
    grouped = config.group is not None and config.tier is not None
    return rule_for(config.landing, tier_virtual=config.tier == Tier.VIRTUAL, grouped=grouped)


def _landed(decision: Decision, config: TriggerConfig, reading: Reading, workload: Workload | None) -> Decision:
    """The decision moved to the count the HPA can reach from the target's current replicas (scaler.landing);
    unchanged without the target's replica count (no Kubernetes API access), as without landing."""
    rule = _landing_rule(config)
    if workload is None or rule is Landing.OFF:
        return decision
    landed = land(
        decision.desired_replicas,
        decision.metric_value,
        current=workload.replicas,
        rule=rule,
        tolerance=workload.tolerance,
        target_size=target_size(config).size_float,
        cap=replica_cap(reading, config),
    )
    return replace(decision, desired_replicas=landed.replicas, metric_value=landed.value)


def _load(reading: Reading, config: TriggerConfig, at: float) -> Load:
    in_flight = reading.in_flight if isinstance(reading, QueueBacklog) else None
    return Load(at=at, backlog=float(backlog_of(reading, config)), in_flight=in_flight)


def _group_share(config: TriggerConfig, evidence: Evidence, observation: Observation) -> tuple[Decision, Split]:
    """A member's share of the group's need: the policy decides the backlog's count uncapped, scaler.spillover
    adds what is busy now and divides it between the tiers."""
    reading, peer, target = evidence.reading, evidence.peer, evidence.target
    uncapped = replace(config, max_replicas=None)
    total = decide(observation, uncapped, cap=replica_cap(reading, uncapped))
    managed_cap = config.max_replicas if config.tier == Tier.MANAGED else config.managed_max_replicas
    if peer is not None and config.tier == Tier.VIRTUAL and peer.max_replicas is not None:
        managed_cap = peer.max_replicas
    theirs = peer.workload if peer is not None else None
    managed, virtual = (target, theirs) if config.tier == Tier.MANAGED else (theirs, target)
    ready = None
    if managed is not None:
        virtual_ready = virtual.ready_replicas if virtual is not None else 0
        ready = Readiness(managed.ready_replicas, virtual_ready, managed_replicas=managed.replicas)
    history = tuple(_load(s.value, config, s.observed_at) for s in evidence.history)
    now = _load(reading, config, evidence.history[-1].observed_at if evidence.history else 0.0)
    shares = share(
        now,
        history,
        decided=total.desired_replicas,
        hold=config.hold_seconds,
        target=target_size(config).size_float,
        ready=ready,
        managed_cap=managed_cap,
        virtual_cap=config.max_replicas if config.tier == Tier.VIRTUAL else None,
    )
    mine_share = shares.managed if config.tier == Tier.MANAGED else shares.virtual
    return resize(total, mine_share, config, active_when_positive=config.tier == Tier.VIRTUAL), shares


class Evaluator:
    """Gathers evidence for a resolved trigger, concludes, records, and returns the decision."""

    def __init__(
        self,
        *,
        cache: RefreshCache[SourceRef, Reading],
        book: Bookkeeping,
        cluster: ClusterView | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cache = cache
        self._book = book
        self._cluster = cluster
        self._clock = clock

    async def decide(self, resolved: Resolved, max_wait: float) -> Decision:
        """The decision on a value young enough to serve; UnavailableError when there is none within ``max_wait``."""
        started = self._clock()
        snapshot: Snapshot[Reading] = await self._cache.get(resolved.config.ref, max_wait=max_wait)
        remaining = max(0.0, max_wait - (self._clock() - started))
        return await self.evaluate(resolved, snapshot, remaining)

    async def evaluate(self, resolved: Resolved, snapshot: Snapshot[Reading], max_wait: float) -> Decision:
        """The decision on one given reading (a pushed refresh, or what ``decide`` fetched)."""
        config = resolved.config
        # Only what this trigger's decision uses: no history for plain backlog scaling, no API reads untiered.
        wants_history = uses_history(config) or config.group is not None
        evidence = Evidence(snapshot.value, self._cache.history(config.ref) if wants_history else ())
        needs_cluster = config.policy == Policy.DRAIN or config.tier is not None or _landing_rule(config) != Landing.OFF
        if self._cluster is not None and needs_cluster:
            evidence = await self._with_cluster(self._cluster, resolved, evidence, max_wait)
        outcome = conclude(config, evidence, scaled_object=resolved.name)
        if evidence.target is not None and config.tier is not None:
            self._book.placement(resolved, evidence.target, outcome.findings)
        if outcome.split is not None:
            self._book.split(resolved, outcome.split, outcome.decision.desired_replicas)
        self._book.decision(
            resolved,
            snapshot.value,
            backlog=outcome.backlog,
            desired_replicas=outcome.decision.desired_replicas,
            value_age=max(0.0, self._clock() - snapshot.observed_at),
        )
        return outcome.decision

    @staticmethod
    async def _with_cluster(cluster: ClusterView, resolved: Resolved, evidence: Evidence, max_wait: float) -> Evidence:
        """The target workload, and a virtual group member's managed peer; None where the API cannot tell."""
        config = resolved.config
        target = await cluster.target(resolved.namespace, resolved.name, max_wait=max_wait)
        peer: GroupPeer | None = None
        if config.tier is not None and config.group is not None:
            other = Tier.MANAGED if config.tier == Tier.VIRTUAL else Tier.VIRTUAL
            peer = await cluster.peer(resolved.namespace, config.group, other, max_wait=max_wait)
        return evidence._replace(target=target, peer=peer)
