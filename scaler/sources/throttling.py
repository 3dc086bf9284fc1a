"""How an OCI call's failure becomes an ``UpstreamError``, and a 429 a ``ThrottledError`` carrying OCI's retry hint.

Throttling is the one failure a quick retry makes worse: every retry spends the tenancy's rate limit again, and KEDA's
maintainers rejected retrying inside the RPC for that reason. So the SDK retry strategy of our reads leaves 429 alone
(``scaler.oci_retry``), the source raises ``ThrottledError`` at once, and the refresh layer backs that one source off
while serving its last good value. When OCI says how long to wait (``retry-after``, seconds or an HTTP date), that
hint is carried along so the back-off can honour it.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import oci

from scaler.errors import ThrottledError, UpstreamError

_RETRY_AFTER = "retry-after"


def retry_hint(headers: Mapping[str, Any] | None, *, wall_clock: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait according to a ``retry-after`` header (delta-seconds or HTTP date); None when absent or bad."""
    raw = next((str(v) for k, v in (headers or {}).items() if str(k).lower() == _RETRY_AFTER), None)
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - wall_clock()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def upstream_failure(operation: str, exc: Exception) -> UpstreamError:
    """The error a source raises for a failed OCI call: ``ThrottledError`` for 429, ``UpstreamError`` otherwise."""
    if isinstance(exc, oci.exceptions.ServiceError):
        if exc.status == 429:
            hint = retry_hint(exc.headers)
            said = "" if hint is None else f" (retry-after {hint:g}s)"
            return ThrottledError(f"{operation} throttled: HTTP 429 {exc.code}: {exc.message}{said}", retry_after=hint)
        return UpstreamError(f"{operation} failed: HTTP {exc.status} {exc.code}: {exc.message}")
    return UpstreamError(f"{operation} failed: {type(exc).__name__}: {exc}")
