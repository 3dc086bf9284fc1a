"""A resolved trigger and its latest reading in, a frozen ``Decision`` out.

Split in two so that deciding stays pure. ``Evaluator`` gathers, within the caller's deadline, what a decision
may use from the edges: the reading and its history from the refresh cache (for ``queueIds``, each queue's shared
reading, combined by ``scaler.queue_set``), the target workload and the group's managed peer from the Kubernetes
API. ``conclude`` turns that ``Evidence`` into an ``Outcome`` with no I/O and no clock: the policy's decision, caps,
the spill-over share, the poison guard's hold (``scaler.poison``) and the placement lint of the target. The
evaluator then applies the keep-alive window (``scaler.keepalive``, the one per-trigger memory of a decision), hands
what was concluded to ``Bookkeeping`` (metrics, warnings) and returns the decision.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Final, NamedTuple

from scaler import keepalive, queue_set
from scaler.cluster import ClusterView
from scaler.errors import UnavailableError
from scaler.kube import GroupPeer, Workload
from scaler.landing import land, rule_for
from scaler.metadata import QueueRef, QueueSetRef, SourceRef, TriggerConfig, TriggerRef
from scaler.placement import Finding, Severity, lint_workload
from scaler.poison import Poison, find_poison
from scaler.policy import Decision, Observation, Sample, decide, resize, uses_history
from scaler.policy import target as target_size
from scaler.refresh import RefreshCache, Snapshot
from scaler.resolution import Resolved
from scaler.routing import Split
from scaler.series import Bookkeeping
from scaler.spillover import Load, Readiness, share
from scaler.values import Landing, Policy, QueueBacklog, QueueSetBacklog, Reading, Tier, TriggerReading

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

    reading: TriggerReading
    history: tuple[Snapshot[TriggerReading], ...] = ()
    """Recent readings of the same source, oldest first; gathered only for policies that use them."""
    target: Workload | None = None
    """The workload the ScaledObject scales, when the decision needs it and the Kubernetes API could tell."""
    peer: GroupPeer | None = None
    """A group member's other member (the managed one for the virtual tier and back), when the API could tell."""


class Outcome(NamedTuple):
    """What one reading means for one trigger, and what was found on the way (a NamedTuple, as ``Evidence``)."""

    decision: Decision
    backlog: float
    split: Split | None = None
    """Spill-over members only: how the group's total need was divided."""
    findings: tuple[Finding, ...] = ()
    """Placement errors of the target (tiered triggers whose target was read)."""
    poison: Poison | None = None
    """``poisonGuard`` only: why the replicas are held (the decision is already held)."""


def conclude(config: TriggerConfig, evidence: Evidence, *, scaled_object: str) -> Outcome:
    """The decision for one trigger, then the poison guard's hold at the current count (``poisonGuard``)."""
    outcome = _conclude(config, evidence, scaled_object=scaled_object)
    if not config.poison_guard:
        return outcome
    poison = find_poison(
        evidence.history,
        evidence.reading,
        window=config.poison_window_seconds,
        include_in_flight=config.include_in_flight,
    )
    if poison is None:
        return outcome
    if evidence.target is not None:
        current = evidence.target.replicas
    else:  # no API access: what the window's oldest reading decided is what the HPA was asked to run then
        then = Evidence(poison.since.value, peer=evidence.peer)
        current = _conclude(config, then, scaled_object=scaled_object).decision.desired_replicas
    decision = outcome.decision
    if decision.desired_replicas > current:
        decision = resize(decision, current, config, active_when_positive=False)
    return outcome._replace(decision=decision, poison=poison)


def _conclude(config: TriggerConfig, evidence: Evidence, *, scaled_object: str) -> Outcome:
    """The decision for one trigger: its policy, its caps and, in a spill-over group, its share (scaler.routing)."""
    reading = evidence.reading
    backlog = queue_set.backlog(reading, config)
    history = (
        tuple(Sample(s.observed_at, queue_set.backlog(s.value, config)) for s in evidence.history)
        if evidence.history
        else ()
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
    decision = decide(observation, config, cap=queue_set.cap(reading, config))
    return Outcome(_landed(decision, config, reading, target), backlog, None, findings)


def _landing_rule(config: TriggerConfig) -> Landing:
    grouped = config.group is not None and config.tier is not None
    return rule_for(config.landing, tier_virtual=config.tier == Tier.VIRTUAL, grouped=grouped)


def _landed(decision: Decision, config: TriggerConfig, reading: TriggerReading, workload: Workload | None) -> Decision:
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
        cap=queue_set.cap(reading, config),
    )
    return replace(decision, desired_replicas=landed.replicas, metric_value=landed.value)


def _load(reading: TriggerReading, config: TriggerConfig, at: float) -> Load:
    """A reading as the group sizing sees it; a queue set's consumers are busy with all of its queues."""
    in_flight: int | None = None
    if isinstance(reading, QueueBacklog):
        in_flight = reading.in_flight
    elif isinstance(reading, QueueSetBacklog):
        in_flight = sum(part.in_flight for part in reading.parts)
    return Load(at=at, backlog=float(queue_set.backlog(reading, config)), in_flight=in_flight)


def _group_share(config: TriggerConfig, evidence: Evidence, observation: Observation) -> tuple[Decision, Split]:
    """A member's share of the group's need: the policy decides the backlog's count uncapped, scaler.spillover
    adds what is busy now and divides it between the tiers."""
    reading, peer, target = evidence.reading, evidence.peer, evidence.target
    uncapped = replace(config, max_replicas=None)
    total = decide(observation, uncapped, cap=queue_set.cap(reading, uncapped))
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
        break_even=config.managed_break_even,
    )
    mine_share = shares.managed if config.tier == Tier.MANAGED else shares.virtual
    return resize(total, mine_share, config, active_when_positive=True), shares


class Evaluator:
    """Gathers evidence for a resolved trigger, concludes, records, and returns the decision."""

    def __init__(
        self,
        *,
        cache: RefreshCache[SourceRef, Reading],
        book: Bookkeeping,
        cluster: ClusterView | None = None,
        clock: Callable[[], float] = time.monotonic,
        keep_alive: keepalive.KeepAlive | None = None,
    ) -> None:
        self._cache = cache
        self._book = book
        self._cluster = cluster
        self._clock = clock
        self._keep_alive = keep_alive or keepalive.KeepAlive()

    async def decide(self, resolved: Resolved, max_wait: float) -> Decision:
        """The decision on a value young enough to serve; UnavailableError when there is none within ``max_wait``."""
        started = self._clock()
        snapshot = await self._read(resolved.config.ref, max_wait)
        remaining = max(0.0, max_wait - (self._clock() - started))
        return await self.evaluate(resolved, snapshot, remaining)

    async def pushed(self, resolved: Resolved, snapshot: Snapshot[Reading], max_wait: float) -> Decision:
        """The decision on a refresh pushed for the trigger's first source; a queue set reads its other queues from
        the cache (shared, so no extra upstream reads within a TTL)."""
        if isinstance(resolved.config.ref, QueueSetRef):
            return await self.decide(resolved, max_wait)
        return await self.evaluate(resolved, snapshot, max_wait)

    async def _read(self, ref: TriggerRef, max_wait: float) -> Snapshot[TriggerReading]:
        if not isinstance(ref, QueueSetRef):
            return await self._cache.get(ref, max_wait=max_wait)
        parts = await asyncio.gather(
            *(self._cache.get(q, max_wait=max_wait) for q in ref.queues), return_exceptions=True
        )
        for queue, part in zip(ref.queues, parts, strict=True):
            if isinstance(part, BaseException):  # a sum without one of its queues would be a false low
                raise UnavailableError(f"queue {_named(queue)}: {part}") from part
        return queue_set.combine([p for p in parts if isinstance(p, Snapshot)], ref.operation)

    def _history(self, ref: TriggerRef) -> tuple[Snapshot[TriggerReading], ...]:
        if isinstance(ref, QueueSetRef):
            return queue_set.combine_history([self._cache.history(q) for q in ref.queues], ref.operation)
        return self._cache.history(ref)

    async def evaluate(self, resolved: Resolved, snapshot: Snapshot[TriggerReading], max_wait: float) -> Decision:
        """The decision on one given reading (a pushed refresh, or what ``decide`` fetched)."""
        config = resolved.config
        # Only what this trigger's decision uses: no history for plain backlog scaling, no API reads untiered.
        wants_history = uses_history(config) or config.group is not None or config.poison_guard
        evidence = Evidence(snapshot.value, self._history(config.ref) if wants_history else ())
        needs_cluster = (
            config.policy == Policy.DRAIN
            or config.tier is not None
            or config.poison_guard
            or _landing_rule(config) != Landing.OFF
        )
        if self._cluster is not None and needs_cluster:
            evidence = await self._with_cluster(self._cluster, resolved, evidence, max_wait)
        outcome = conclude(config, evidence, scaled_object=resolved.name)
        decision = self._kept_alive(resolved, snapshot, outcome)
        if evidence.target is not None and config.tier is not None:
            self._book.placement(resolved, evidence.target, outcome.findings)
        if outcome.split is not None:
            self._book.split(resolved, outcome.split, decision.desired_replicas)
        if config.poison_guard:
            self._book.poison(resolved, outcome.poison, decision.desired_replicas)
        self._book.decision(
            resolved,
            snapshot.value,
            backlog=outcome.backlog,
            desired_replicas=decision.desired_replicas,
            value_age=max(0.0, self._clock() - snapshot.observed_at),
        )
        return decision

    def _kept_alive(self, resolved: Resolved, snapshot: Snapshot[TriggerReading], outcome: Outcome) -> Decision:
        """The decision with ``keepAliveSeconds`` applied. A spill-over member's window follows its own share only:
        the group's backlog must not keep a virtual tier alive that the managed tier covers."""
        decision, config = outcome.decision, resolved.config
        if config.keep_alive_seconds <= 0:
            return decision
        busy = keepalive.busy(snapshot.value, config) if outcome.split is None else decision.active
        active = self._keep_alive.active(
            (resolved.namespace, resolved.name, resolved.metric_name),
            at=snapshot.observed_at,
            now=self._clock(),
            active=decision.active,
            busy=busy,
            window=config.keep_alive_seconds,
        )
        return decision if active == decision.active else replace(decision, active=active)

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


def _named(queue: QueueRef) -> str:
    return f"{queue.queue_id}:{queue.channel_id}" if queue.channel_id else queue.queue_id
