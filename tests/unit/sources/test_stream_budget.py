"""A partition's read budget and its rest after 429, on an injected clock: rates, bursts and back-off, exactly."""

from __future__ import annotations

from scaler.sources.stream_budget import MIB, PartitionBudget, StreamReadSettings


def test_gets_never_exceed_burst_plus_rate_in_any_second() -> None:
    settings = StreamReadSettings()
    budget = PartitionBudget(settings, now=0.0)
    admitted: list[float] = []
    for tick in range(400):  # someone asks every 25 ms for 10 s
        now = tick * 0.025
        if budget.page_limit(now, 10) > 0:
            budget.spend(now, messages=0, payload_bytes=0)
            admitted.append(now)
    assert len(admitted) == 3 + 14  # the burst, then one every 2/3 s until the last ask at t=9.975
    for start in admitted:
        in_window = [t for t in admitted if start <= t < start + 1.0]
        assert len(in_window) <= 4 < 5  # OCI allows 5 GetMessages per second per partition and group


def test_pages_follow_the_byte_budget_once_message_size_is_known() -> None:
    budget = PartitionBudget(StreamReadSettings(gets_per_second=100.0, get_burst=100.0), now=0.0)
    assert budget.page_limit(0.0, 50_000) == 100  # message size unknown: a first page of 100
    budget.spend(0.0, messages=100, payload_bytes=100 * 1024)
    assert budget.bytes_per_message == 1024
    assert budget.page_limit(0.0, 50_000) == (MIB - 100 * 1024) // 1024
    assert budget.page_limit(0.0, 7) == 7
    budget.spend(0.0, messages=1, payload_bytes=MIB)  # a large page puts the byte bucket 100 KiB into debt
    assert budget.page_limit(0.0, 10) == 0
    assert budget.page_limit(0.05, 10) == 0  # 51 KiB refilled: still in debt
    assert budget.page_limit(0.2, 10) == 1  # out of debt, with room for less than one 1 MiB message


def test_a_429_rests_the_partition_doubling_to_the_cap_and_honours_retry_after() -> None:
    settings = StreamReadSettings(backoff_seconds=1.0, max_backoff_seconds=8.0)
    budget = PartitionBudget(settings, now=0.0)
    rests = []
    now = 0.0
    for _ in range(5):
        rests.append(budget.throttled(now, None))
        now = budget.resting_until
    assert rests == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert budget.page_limit(now - 0.01, 1) == 0
    assert budget.page_limit(now + 1.0, 1) == 1
    budget.spend(now + 1.0, messages=0, payload_bytes=0)  # a success ends the streak
    assert budget.throttled(now + 2.0, 3.0) == 3.0  # OCI's hint wins when longer
    assert budget.throttled(now + 6.0, 100.0) == 8.0  # but never beyond the cap
