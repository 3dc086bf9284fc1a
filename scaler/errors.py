"""The scaler's own error hierarchy.

Each class maps to exactly one gRPC status in the service layer, so the decision "what does KEDA see" is made
once, by type, instead of by string matching scattered through handlers. Library errors (oci, kubernetes) are
chained as ``__cause__`` so logs keep the original detail.
"""

from __future__ import annotations

from collections.abc import Sequence


class ScalerError(Exception):
    """Base class: anything the scaler raises on purpose."""


class MetadataError(ScalerError):
    """Trigger metadata is unusable; answered as INVALID_ARGUMENT.

    Carries *every* problem found, so a user fixes a ScaledObject in one round trip rather than one error per
    reconcile.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("; ".join(self.problems))


class UpstreamError(ScalerError):
    """An OCI call failed (network, throttling, 5xx, malformed response). Never turned into a zero backlog."""


class ThrottledError(UpstreamError):
    """OCI answered 429: the refresh layer backs this source off (for ``retry_after`` seconds when OCI said so)
    instead of retrying, and serves the last good value meanwhile."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnavailableError(ScalerError):
    """No value young enough to serve; answered as UNAVAILABLE so KEDA's fallback takes over."""


class ConfigError(ScalerError):
    """The scaler's own start-up configuration is wrong (flags, environment, OCI config file)."""
