"""How many consumers a spill-over group needs, and how the tiers share them. Pure: readings in, a Split out.

Sizing a group from the backlog alone, ``ceil(backlog / target)``, loops under sustained load: the fast virtual tier
drains the backlog, the backlog-based need collapses, both tiers shrink, the backlog rebuilds, and Karpenter's nodes
are consolidated while still coming up. So the group's need has two terms:

* the **backlog term**, ``ceil(backlog / target)``, what KEDA users expect: it answers a backlog that is building;
* the **busy term**, the consumers that are working right now. By Little's law the consumers busy at once equal
  arrival rate x work time per message, the group's sustained need, and OCI Queue shows it directly: a message
  being worked on is in flight. ``min(inFlight, ready consumers)`` counts busy consumers from above (a consumer may
  hold a batch), so it never shrinks the group below what is keeping up with arrivals; it falls only when the
  arrivals fall. It is the throughput estimate that holds near zero backlog, where backlog readings carry none.

The tiers then share the need:

* **managed** follows the need the group *sustains*: bursts shorter than ``holdSeconds`` (180 s by default: new
  nodes could not serve them, an OCI node takes minutes to join) are left to virtual nodes, and a need that lasted
  ``holdSeconds`` is kept for ``holdSeconds`` after it ends, so a dip never hands back nodes that cost a Karpenter
  round trip. Kept, not bought: the managed share grows no further than the need now (or the managed pods there
  are), so a need that ends just as it completes a window buys no node for the quiet after it. A scaler with less
  than a window of readings (just restarted) keeps the managed replicas there are (Ready or waiting for a node)
  while the group has any need, and buys nothing new. A sustained need below ``managedBreakEven`` (the consumers a
  node must carry to cost less than virtual pods) stays on virtual nodes;
* **virtual** absorbs a burst at once and is handed back once managed capacity is Ready *and keeping up*: while the
  backlog needs more consumers than the managed tier has Ready (``decided > managedReady``), the virtual tier covers
  the whole need, so the managed pods that turn Ready mid-burst drain it faster instead of replacing virtual ones;
  once Ready managed consumers cover the backlog, the virtual tier covers only the need beyond them.

Every input comes from OCI and the Kubernetes API, never from memory of earlier answers beyond the readings both
members (and every scaler replica) see alike, so any replica answers a member the same way. Without Kubernetes
access there is no readiness to read: the group degrades to pure overflow above the managed cap (scaler.routing).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

from scaler.routing import Split, split


@dataclass(frozen=True)
class Load:
    """One reading of the group's source, as the sizing sees it."""

    at: float
    backlog: float
    """What the trigger scales on (visible, plus in-flight if the trigger counts it; or the Streaming lag)."""
    in_flight: int | None
    """Messages being worked on now; None when the source cannot tell (Streaming)."""


@dataclass(frozen=True)
class Readiness:
    """Ready consumers of each member, as the Kubernetes API reported them."""

    managed: int
    virtual: int
    managed_replicas: int = 0
    """The managed Deployment's current replica count, Ready or not (pods waiting for a Karpenter node count)."""


def ceil_div(value: float, per: float) -> int:
    """``ceil(value / per)`` on the HPA's milli grid, so a value on the grid never rounds up by a float error."""
    milli_value, milli_per = round(max(0.0, value) * 1000), max(1, round(per * 1000))
    return -(-milli_value // milli_per)


def need(load: Load, *, target: float, ready: Readiness) -> int:
    """Consumers the group needs for one reading: the backlog term, or the busy term when that is higher."""
    backlog_term = ceil_div(load.backlog, target)
    busy = 0 if load.in_flight is None else min(max(0, load.in_flight), ready.managed + ready.virtual)
    return max(backlog_term, busy)


def sustained_need(now: Load, history: tuple[Load, ...], *, hold: float, target: float, ready: Readiness) -> int | None:
    """The need the group sustained, held: for each reading of the last ``hold``, the least need of the ``hold``
    before it (a burst shorter than ``hold`` leaves no trace), and the highest of those (a dip shorter than ``hold``
    leaves none either). None when the readings do not reach back a whole window: a scaler that started, or
    restarted, moments ago cannot tell a burst from a plateau.

    A sliding-window minimum over the readings in time order, so the cost is linear in the history's length.
    """
    points = [(s.at, need(s, target=target, ready=ready)) for s in history if s.at <= now.at]
    points.append((now.at, need(now, target=target, ready=ready)))
    if now.at - points[0][0] < hold:
        return None
    window: collections.deque[int] = collections.deque()  # indices of points, needs increasing
    best = 0
    for i, (at, value) in enumerate(points):
        while window and points[window[-1]][1] >= value:
            window.pop()
        window.append(i)
        while points[window[0]][0] < at - hold:
            window.popleft()
        if now.at - at <= hold and at - points[0][0] >= hold:
            best = max(best, points[window[0]][1])
    return best


def share(
    now: Load,
    history: tuple[Load, ...],
    *,
    decided: int,
    hold: float,
    target: float,
    ready: Readiness | None,
    managed_cap: int | None,
    virtual_cap: int | None,
    break_even: int = 1,
) -> Split:
    """The group's split for this reading: managed holds the recent need, virtual covers what Ready managed lacks.

    ``decided`` is the trigger policy's uncapped count for this reading (``ceil(backlog / target)`` under the
    `backlog` policy; more with ``leadSeconds`` or `drain`): it stands in for the backlog term of ``now``.
    ``break_even`` is how many consumers a managed node must carry to cost less than as many virtual pods: a
    sustained need below it stays on virtual nodes, because a virtual pod is billed alone while a node is billed
    whole (at OCI list prices a 2-OCPU node costs about 2.6 one-OCPU virtual pods). A scaler too young to judge
    keeps what runs.
    """
    if ready is None:
        return split(decided, managed_cap=managed_cap, virtual_cap=virtual_cap, managed_ready=None)
    current = max(decided, need(now, target=target, ready=ready))
    sustained = sustained_need(now, history, hold=hold, target=target, ready=ready)
    there = max(ready.managed, ready.managed_replicas)  # managed pods that run or wait for a node
    if sustained is None:  # too young to judge: keep what runs or is coming while there is work, buy nothing new
        sustained = there if current > 0 else 0
    else:
        # The hold keeps capacity through a dip; it never buys what the group no longer needs now (a need that
        # lasted a window and then ended would otherwise buy a node that arrives after the load is gone).
        sustained = min(sustained, max(current, there))
        if sustained < break_even:  # fewer than a node pays for: dearer on managed nodes
            sustained = 0
    managed = max(0, sustained if managed_cap is None else min(sustained, managed_cap))
    keeping_up = decided <= ready.managed
    virtual = max(0, current - ready.managed) if keeping_up else current
    if virtual_cap is not None:
        virtual = min(virtual, virtual_cap)
    return Split(total=current, managed=managed, virtual=virtual, managed_ready=ready.managed)
