"""Backlog histories for the policy's rate tests, placed on a clock that does not start at 0.

The refresh cache stamps readings with a monotonic clock (seconds since boot), never 0. Arithmetic that adds two
timestamps where it should subtract them gives the same answer when the first reading is at 0 and a wildly wrong
one anywhere else, so the rate tests run every history at each of ``ORIGINS``.
"""

from __future__ import annotations

from scaler.policy import Sample

ORIGINS = (0.0, 1e6)
"""Time origins for histories: the start of a test clock, and a monotonic clock eleven days after boot."""


def samples(*points: tuple[float, float], origin: float = 0.0) -> tuple[Sample, ...]:
    """Readings ``(t, backlog)`` at ``origin + t``, oldest first."""
    return tuple(Sample(at=origin + t, backlog=b) for t, b in points)
