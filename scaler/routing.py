"""Spill-over between tiers: one backlog, a managed and a virtual consumer Deployment. Pure, no I/O.

Virtual nodes start pods in seconds but cost more per pod-hour; managed capacity is cheaper but Karpenter needs
tens of seconds to minutes to add a node. So the managed tier is asked for the whole need (up to its cap) at once,
and the virtual tier covers only what managed pods cannot serve *yet*: as Karpenter's nodes arrive and managed
pods turn Ready, the virtual share shrinks, so the virtual tier hands back first. Without Kubernetes API access
there is no readiness to read and the split degrades to pure overflow above the managed cap.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Split:
    """How a group's total need D was divided, for logs and metrics."""

    total: int
    managed: int
    virtual: int
    managed_ready: int | None
    """None: readiness unknown (no API access), pure overflow used."""


def _clamp(value: int, cap: int | None) -> int:
    value = max(0, value)
    return value if cap is None else min(value, cap)


def split(total: int, *, managed_cap: int | None, virtual_cap: int | None, managed_ready: int | None) -> Split:
    """Divide a total need: managed ``min(D, cap)``; virtual ``clamp(D - managedReady, 0, cap)``.

    ``managed_ready`` None falls back to ``D - managed_cap`` (0 when the cap is unknown too: then the virtual
    tier takes the whole need, over- rather than under-provisioning).
    """
    total = max(0, total)
    managed = _clamp(total, managed_cap)
    covered = max(0, managed_ready) if managed_ready is not None else (managed_cap or 0)
    virtual = _clamp(total - covered, virtual_cap)
    return Split(total=total, managed=managed, virtual=virtual, managed_ready=managed_ready)
