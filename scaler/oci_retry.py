"""The OCI SDK retry set-up every client of ours gets: few, fast attempts on throttling and 5xx, never the default.

The SDK's default strategy retries for up to 600 s; a refresh (scaler) or a counted call (burst-load) must give up
in seconds and let its caller decide what happens next. One builder, so both packages retry the same way and only
their budgets differ.
"""

from __future__ import annotations

from typing import Any

import oci

from scaler.settings import OciSettings


def retry_strategy(
    *, attempts: int, total_seconds: float, max_wait_seconds: float = 0.2, retry_throttled: bool = True
) -> Any:
    """``attempts`` tries within ``total_seconds`` on any 5xx (and 429 when ``retry_throttled``), full-jitter backoff;
    one attempt: no retry."""
    if attempts <= 1:
        return oci.retry.NoneRetryStrategy()
    # The builder treats an empty config as "the SDK default" (which retries 429 and 409), so "no service-error
    # status" is spelled {-1: []}, as the SDK's own federation-client strategy does: 5xx and connection errors only.
    throttled: dict[int, list[str]] = {429: []} if retry_throttled else {-1: []}
    return (
        oci.retry.RetryStrategyBuilder(
            max_attempts=attempts,
            total_elapsed_time_seconds=total_seconds,
            retry_base_sleep_time_seconds=0.05,
            retry_max_wait_between_calls_seconds=max_wait_seconds,
            backoff_type=oci.retry.BACKOFF_FULL_JITTER_VALUE,
        )
        .add_service_error_check(service_error_retry_config=throttled, service_error_retry_on_any_5xx=True)
        .get_retry_strategy()
    )


def settings_retry_strategy(settings: OciSettings) -> Any:
    """The scaler's reads: ``max_attempts`` within one read timeout, never on 429; the refresh layer decides what to
    serve, and backs a throttled source off instead (a quick retry would spend the rate limit again)."""
    return retry_strategy(
        attempts=settings.max_attempts, total_seconds=settings.read_timeout_seconds, retry_throttled=False
    )


def no_retry() -> Any:
    """Per-call SDK retry off, whatever the client was built with: the caller retries and counts."""
    return oci.retry.NoneRetryStrategy()
