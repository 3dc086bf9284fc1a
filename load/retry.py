"""How burst-load treats OCI failures: throttling is expected and counted, transient faults are retried, the rest
fail fast.

A load generator must tell "the service pushed back" (429: back off, count it, lose nothing) from "the service is
flaky" (5xx, resets, timeouts: retry) and from "the request is wrong" (4xx: retrying would never help). The SDK's
own retries would hide the first two, so burst-load calls the SDK with retries off (``scaler.oci_retry.no_retry``)
where it counts 429s and uses :class:`Backoff` itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum
from typing import Any

import oci

from scaler.oci_retry import retry_strategy


class Failure(Enum):
    THROTTLED = "throttled"
    TRANSIENT = "transient"
    FATAL = "fatal"


def classify(exc: BaseException) -> Failure:
    """What an exception from an SDK call means for a retry decision."""
    if isinstance(exc, oci.exceptions.ServiceError):
        status = int(getattr(exc, "status", 0) or 0)
        if status == 429:
            return Failure.THROTTLED
        if status in (408, 409) or (status >= 500 and status != 501) or status == 0:
            return Failure.TRANSIENT
        return Failure.FATAL
    if isinstance(exc, OSError | TimeoutError) or type(exc).__name__ == "CircuitBreakerError":
        return Failure.TRANSIENT  # requests' connection errors and timeouts are OSErrors; an open breaker passes
    return Failure.FATAL


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, oci.exceptions.ServiceError):
        return f"HTTP {exc.status} {exc.code}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"


def status_of(entry_error: Any) -> int:
    """The HTTP status of a per-entry error code ("429", 429, "InternalServerError"...); 0 when unknown."""
    try:
        return int(str(entry_error))
    except ValueError:
        return 0


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: attempt ``n`` waits ``uniform(0, min(cap, base · 2ⁿ))`` seconds."""

    base: float = 0.05
    cap: float = 2.0
    give_up_after: float = 120.0
    """A batch still failing this long after its first attempt is counted failed (never silently dropped)."""

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.cap, self.base * 2.0 ** min(attempt, 30)))


def short_retry_strategy(*, attempts: int = 3) -> Any:
    """burst-load's budget for SDK calls whose failures it does not count: ``attempts`` within 5 s, 0.5 s apart at most.

    The strategy itself is the scaler's (scaler.oci_retry); only the budget is burst-load's.
    """
    return retry_strategy(attempts=attempts, total_seconds=5.0, max_wait_seconds=0.5)
