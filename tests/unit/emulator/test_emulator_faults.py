"""Fault rules and request counters."""

from __future__ import annotations

from typing import Any

import pytest

from oci_emulator.faults import NO_FAULT, FaultDecision, FaultInjector, RequestCounters, ServedBytes

KNOWN = frozenset({"GetStats", "GetQueue"})


def test_counted_fault_applies_to_its_operation_only_then_expires() -> None:
    faults = FaultInjector(known_operations=KNOWN)
    faults.inject(429, operations=frozenset({"GetStats"}), count=2)

    assert faults.decide("GetQueue") is NO_FAULT
    assert faults.decide("GetStats") == FaultDecision(status=429, code="TooManyRequests")
    assert faults.active()[0].count == 1
    assert faults.decide("GetStats").status == 429
    assert faults.decide("GetStats") is NO_FAULT


def test_rules_combine_latency_and_the_earliest_status_wins() -> None:
    faults = FaultInjector()
    faults.inject(latency_seconds=0.5)
    faults.inject(503, code="Custom", latency_seconds=0.25)
    faults.inject(500)

    assert faults.decide("Anything") == FaultDecision(latency_seconds=0.75, status=503, code="Custom")
    faults.clear()
    assert faults.decide("Anything") is NO_FAULT


def test_the_deciding_rule_carries_its_retry_hint() -> None:
    faults = FaultInjector()
    faults.inject(429, retry_after_seconds=7.5, count=1)

    assert faults.decide("GetStats") == FaultDecision(status=429, code="TooManyRequests", retry_after_seconds=7.5)
    assert faults.decide("GetStats") is NO_FAULT


def test_reset_connection_rule() -> None:
    faults = FaultInjector()
    faults.inject(reset_connection=True, count=1)

    assert faults.decide("GetStats").reset_connection
    assert faults.decide("GetStats") is NO_FAULT


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": 200}, "400..599"),
        ({}, "does nothing"),
        ({"status": 500, "count": 0}, "count must be >= 1"),
        ({"status": 500, "reset_connection": True}, "exclude each other"),
        ({"status": 500, "operations": frozenset({"GetStat"})}, "unknown operations \\['GetStat'\\]"),
        ({"latency_seconds": -1}, "latency_seconds must be >= 0"),
        ({"latency_seconds": 1, "retry_after_seconds": 5}, "retry_after_seconds must be >= 0 and needs a status"),
        ({"status": 429, "retry_after_seconds": -1}, "retry_after_seconds must be >= 0 and needs a status"),
    ],
)
def test_invalid_rules_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FaultInjector(known_operations=KNOWN).inject(**kwargs)


def test_counters() -> None:
    counters = RequestCounters()
    counters.increment("GetStats")
    counters.increment("GetStats")
    counters.increment("GetQueue")

    assert counters.get("GetStats") == 2
    assert counters.get("PutMessages") == 0
    assert counters.snapshot() == {"GetStats": 2, "GetQueue": 1}
    counters.reset()
    assert counters.snapshot() == {}


def test_byte_counters_add_up_per_operation_and_reset_with_the_request_counts() -> None:
    counters = RequestCounters()
    counters.add_bytes("GetStreamMessages", body=300, payload=200)
    counters.add_bytes("GetStreamMessages", body=50)
    counters.add_bytes("PutStreamMessages", payload=10)

    assert counters.served("GetStreamMessages") == ServedBytes(body=350, payload=200)
    assert counters.served("GetGroup") == ServedBytes()
    assert counters.bytes_snapshot() == {
        "GetStreamMessages": ServedBytes(body=350, payload=200),
        "PutStreamMessages": ServedBytes(body=0, payload=10),
    }
    counters.reset()
    assert counters.bytes_snapshot() == {}
