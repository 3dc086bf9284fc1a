"""KEDA's StreamIsActive reconnect backoff (external_scaler.go externalPushScaler.Run)."""

from __future__ import annotations

from onebox.harness.push import next_backoff


def test_errors_double_the_wait_up_to_a_minute() -> None:
    waits, backoff = [], 2.0
    for _ in range(7):
        wait, backoff = next_backoff(backoff, clean=False)
        waits.append(wait)
    assert waits == [2, 4, 8, 16, 32, 60, 60]


def test_a_clean_eof_resets_to_two_seconds_and_the_next_wait_is_four() -> None:
    assert next_backoff(32.0, clean=True) == (2.0, 4.0)
    assert next_backoff(2.0, clean=True)[0] == 2.0
    backoff = next_backoff(2.0, clean=True)[1]
    assert next_backoff(backoff, clean=False)[0] == 4.0  # the reset is not sticky: the wait still doubles
