"""429 handling at each layer, exact: the retry hint read from OCI's headers, the error a source raises, the pause
a throttled source takes, the refresh cache serving and re-reading around it (fake clock), and the SDK retry set-up
that leaves 429 alone."""

from __future__ import annotations

import email.utils

import oci
import pytest

from scaler.errors import ThrottledError, UnavailableError, UpstreamError
from scaler.oci_retry import retry_strategy, settings_retry_strategy
from scaler.refresh import CacheTiming, RefreshCache, throttle_pause
from scaler.settings import OciSettings
from scaler.sources.throttling import retry_hint, upstream_failure
from tests.support.clock import FakeClock

WALL = 1_700_000_000.0


@pytest.mark.parametrize(
    ("headers", "hint"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"Retry-After": " 2.5 "}, 2.5),
        ({"retry-after": email.utils.formatdate(WALL + 30, usegmt=True)}, 30.0),
        ({"retry-after": email.utils.formatdate(WALL - 30, usegmt=True)}, 0.0),  # a date already past: now
        ({"retry-after": "-4"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": ""}, None),
        ({"opc-request-id": "x"}, None),
        (None, None),
    ],
)
def test_retry_hint(headers: dict[str, str] | None, hint: float | None) -> None:
    assert retry_hint(headers, wall_clock=lambda: WALL) == hint


def _service_error(status: int, code: str, headers: dict[str, str] | None = None) -> oci.exceptions.ServiceError:
    return oci.exceptions.ServiceError(status, code, headers or {}, "slow down")


@pytest.mark.parametrize(
    ("exc", "kind", "message", "hint"),
    [
        (
            _service_error(429, "TooManyRequests", {"retry-after": "12"}),
            ThrottledError,
            "GetStats throttled: HTTP 429 TooManyRequests: slow down (retry-after 12s)",
            12.0,
        ),
        (
            _service_error(429, "TooManyRequests"),
            ThrottledError,
            "GetStats throttled: HTTP 429 TooManyRequests: slow down",
            None,
        ),
        (
            _service_error(503, "ServiceUnavailable"),
            UpstreamError,
            "GetStats failed: HTTP 503 ServiceUnavailable: slow down",
            None,
        ),
        (TimeoutError("read timed out"), UpstreamError, "GetStats failed: TimeoutError: read timed out", None),
    ],
)
def test_upstream_failure(exc: Exception, kind: type[UpstreamError], message: str, hint: float | None) -> None:
    error = upstream_failure("GetStats", exc)
    assert type(error) is kind
    assert str(error) == message
    assert getattr(error, "retry_after", None) == hint


@pytest.mark.parametrize(
    ("hint", "streak", "pause"),
    [(None, 1, 2.0), (None, 2, 4.0), (None, 3, 8.0), (None, 6, 30.0), (5.0, 3, 5.0), (0.0, 1, 0.0), (90.0, 1, 30.0)],
)
def test_throttle_pause(hint: float | None, streak: int, pause: float) -> None:
    assert throttle_pause(hint, streak, CacheTiming(throttle_backoff=2.0, throttle_backoff_max=30.0)) == pause


class Upstream:
    """Scripted reads: each call takes the next outcome (a value, or an error to raise)."""

    def __init__(self, *outcomes: int | Exception) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    async def __call__(self, key: str) -> int:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


async def test_a_throttled_source_is_not_read_until_its_back_off_ends() -> None:
    clock = FakeClock(start=0.0)
    upstream = Upstream(5, ThrottledError("throttled"), ThrottledError("throttled again"), 8)
    timing = CacheTiming(ttl=1.0, max_staleness=60.0, throttle_backoff=4.0, throttle_backoff_max=30.0)
    cache = RefreshCache(read=upstream, timing=timing, clock=clock, phase=lambda: 1.0)
    other = RefreshCache(read=Upstream(1, 2), timing=timing, clock=clock, phase=lambda: 1.0)
    # (advance to, value served, upstream calls so far)
    timeline = [(0, 5, 1), (2, 5, 2), (5.9, 5, 2), (6, 5, 3), (13.9, 5, 3), (14, 8, 4)]
    seen = []
    for at, _, _ in timeline:
        await clock.advance(at - clock.now())
        seen.append((at, (await cache.get("q", max_wait=1)).value, upstream.calls))
    assert seen == timeline
    assert (await other.get("other", max_wait=1)).value == 1  # another source is not held back
    await cache.close()
    await other.close()


async def test_a_back_off_past_the_staleness_bound_answers_unavailable_with_the_wait() -> None:
    clock = FakeClock(start=0.0)
    upstream = Upstream(5, ThrottledError("GetStats throttled", retry_after=20.0))
    cache = RefreshCache(read=upstream, timing=CacheTiming(ttl=1.0, max_staleness=10.0), clock=clock, phase=lambda: 1.0)
    await cache.get("q", max_wait=1)
    await clock.advance(2)
    assert (await cache.get("q", max_wait=1)).value == 5
    await clock.advance(9)
    with pytest.raises(UnavailableError) as info:
        await cache.get("q", max_wait=1)
    assert str(info.value) == (
        "last good value is 11.0s old, over the 10s staleness bound; latest error: GetStats throttled; "
        "throttled, not asking again for 11.0s"
    )
    assert upstream.calls == 2
    await cache.close()


def _retries(strategy: object, status: int) -> bool:
    checker = strategy.checkers  # type: ignore[attr-defined]
    error = _service_error(status, "TooManyRequests" if status == 429 else "ServiceUnavailable")
    return bool(checker.should_retry(exception=error, current_attempt=1, total_time_elapsed=0))


def test_the_scalers_reads_never_retry_429_but_retry_5xx() -> None:
    scaler = settings_retry_strategy(OciSettings(max_attempts=3))
    assert (_retries(scaler, 429), _retries(scaler, 503)) == (False, True)
    load = retry_strategy(attempts=3, total_seconds=5.0)  # burst-load's producer keeps retrying throttles
    assert (_retries(load, 429), _retries(load, 503)) == (True, True)
