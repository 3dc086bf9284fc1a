"""Fault injection and per-operation request and byte counters.

The scaler must keep serving KEDA while OCI throttles (429), fails (5xx), slows down or drops connections, and its
caching must measurably cut the number of GetStats calls. Tests and benchmarks therefore need to switch failures on
per OCI operation and to count the calls that reached the service. Both objects are shared by every server thread,
so each guards its state with its own lock. What a read costs is bytes as well as calls (OCI bills data read, and
a partition's read throughput is limited), so the counters also sum, per operation, the response bodies served and
the message payload (decoded keys and values) each operation carried.

Rules are independent: every matching rule adds its latency and consumes one of its ``count``; the earliest-injected
matching rule with a status or a connection reset decides the outcome (and its ``retry_after_seconds``, sent as a
``retry-after`` header, the hint a throttled client may honour). Faults are decided before the operation runs,
so an injected error never half-applies a request.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from dataclasses import dataclass, replace

from .errors import default_code


@dataclass(frozen=True)
class FaultRule:
    """One injected fault. ``operations`` None matches every operation; ``count`` None lasts until cleared."""

    rule_id: int
    status: int | None = None
    code: str | None = None
    latency_seconds: float = 0.0
    operations: frozenset[str] | None = None
    count: int | None = None
    reset_connection: bool = False
    retry_after_seconds: float | None = None

    def matches(self, operation: str) -> bool:
        return self.operations is None or operation in self.operations


@dataclass(frozen=True)
class FaultDecision:
    """What to do to one request: sleep first, then answer with an error, drop the connection, or run normally."""

    latency_seconds: float = 0.0
    status: int | None = None
    code: str | None = None
    reset_connection: bool = False
    retry_after_seconds: float | None = None


NO_FAULT = FaultDecision()


class FaultInjector:
    """Thread-safe set of active fault rules."""

    def __init__(self, *, known_operations: frozenset[str] | None = None) -> None:
        self._known = known_operations
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def inject(
        self,
        status: int | None = None,
        *,
        code: str | None = None,
        latency_seconds: float = 0.0,
        operations: frozenset[str] | None = None,
        count: int | None = None,
        reset_connection: bool = False,
        retry_after_seconds: float | None = None,
    ) -> FaultRule:
        """Add a rule; raises ValueError (listing every problem) when the rule is invalid or would do nothing."""
        problems = []
        if status is not None and not 400 <= status <= 599:
            problems.append(f"status must be an HTTP error status 400..599, got {status}")
        if status is not None and reset_connection:
            problems.append("status and reset_connection exclude each other")
        if code is not None and status is None:
            problems.append("code needs a status")
        if latency_seconds < 0:
            problems.append(f"latency_seconds must be >= 0, got {latency_seconds}")
        if status is None and not reset_connection and latency_seconds == 0:
            problems.append("the rule does nothing: give a status, latency_seconds or reset_connection")
        if retry_after_seconds is not None and (status is None or retry_after_seconds < 0):
            problems.append(f"retry_after_seconds must be >= 0 and needs a status, got {retry_after_seconds}")
        if count is not None and count < 1:
            problems.append(f"count must be >= 1 or None, got {count}")
        if operations is not None:
            operations = frozenset(operations)
            unknown = sorted(operations - self._known) if self._known is not None else []
            if unknown:
                problems.append(f"unknown operations {unknown}; known: {sorted(self._known or ())}")
        if problems:
            raise ValueError("; ".join(problems))
        with self._lock:
            rule = FaultRule(
                rule_id=next(self._ids),
                status=status,
                code=code if code is not None or status is None else default_code(status),
                latency_seconds=latency_seconds,
                operations=operations,
                count=count,
                reset_connection=reset_connection,
                retry_after_seconds=retry_after_seconds,
            )
            self._rules.append(rule)
            return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def active(self) -> tuple[FaultRule, ...]:
        """The active rules; ``count`` is the number of applications left."""
        with self._lock:
            return tuple(self._rules)

    def decide(self, operation: str) -> FaultDecision:
        """Consume the matching rules for one request of ``operation`` and say what to do."""
        with self._lock:
            if not self._rules:
                return NO_FAULT
            latency = 0.0
            outcome: FaultRule | None = None
            kept: list[FaultRule] = []
            for rule in self._rules:
                if not rule.matches(operation):
                    kept.append(rule)
                    continue
                latency += rule.latency_seconds
                if outcome is None and (rule.status is not None or rule.reset_connection):
                    outcome = rule
                if rule.count is None:
                    kept.append(rule)
                elif rule.count > 1:
                    kept.append(replace(rule, count=rule.count - 1))
            self._rules = kept
        if outcome is None:
            return FaultDecision(latency_seconds=latency) if latency else NO_FAULT
        return FaultDecision(
            latency_seconds=latency,
            status=outcome.status,
            code=outcome.code,
            reset_connection=outcome.reset_connection,
            retry_after_seconds=outcome.retry_after_seconds,
        )


@dataclass(frozen=True)
class ServedBytes:
    """Bytes one operation moved: response bodies as sent, and the message payload inside them."""

    body: int = 0
    """Response body bytes as encoded on the wire (JSON, values still base64)."""
    payload: int = 0
    """Decoded message keys and values: served by GetMessages, or stored by PutMessages."""


class RequestCounters:
    """Thread-safe count of requests per OCI operation name, and of the bytes each operation moved."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._body: Counter[str] = Counter()
        self._payload: Counter[str] = Counter()

    def increment(self, operation: str) -> None:
        with self._lock:
            self._counts[operation] += 1

    def add_bytes(self, operation: str, *, body: int = 0, payload: int = 0) -> None:
        with self._lock:
            self._body[operation] += body
            self._payload[operation] += payload

    def get(self, operation: str) -> int:
        with self._lock:
            return self._counts[operation]

    def served(self, operation: str) -> ServedBytes:
        with self._lock:
            return ServedBytes(body=self._body[operation], payload=self._payload[operation])

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def bytes_snapshot(self) -> dict[str, ServedBytes]:
        with self._lock:
            operations = set(self._body) | set(self._payload)
            return {op: ServedBytes(body=self._body[op], payload=self._payload[op]) for op in sorted(operations)}

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._body.clear()
            self._payload.clear()
