"""Typed, frozen start-up configuration of the scaler.

Every field is settable by a flag and by a ``BURST_SCALER_*`` environment variable (the CLI maps them), so a
Deployment can configure the scaler without rewriting its command line. Defaults live here, once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any


class OciAuth(Enum):
    """How the scaler authenticates to OCI (KEDA cannot forward credentials to external scalers)."""

    CONFIG = "config"
    INSTANCE_PRINCIPAL = "instance_principal"
    RESOURCE_PRINCIPAL = "resource_principal"
    WORKLOAD_IDENTITY = "workload_identity"


@dataclass(frozen=True)
class OciSettings:
    """How to reach OCI and how hard to try before giving up on one read."""

    auth: OciAuth = OciAuth.CONFIG
    config_file: Path = Path("~/.oci/config")
    profile: str = "DEFAULT"
    endpoint: str | None = None
    """Send every Queue and Streaming call to this URL (the emulator, or a private endpoint)."""
    connect_timeout_seconds: float = 2.0
    read_timeout_seconds: float = 5.0
    max_attempts: int = 2
    """SDK attempts per read; the SDK default (8 attempts over 600 s) would pin a refresh for minutes."""
    breaker_failure_threshold: int = 10
    breaker_recovery_seconds: float = 0.25
    """Open-breaker pause. A read that meets an open breaker fails fast and its source waits one cache TTL for the
    next try, so after an outage clears recovery takes up to one TTL plus this pause: keep it a fraction of the TTL.
    The cache already limits a source to one read per TTL; the breaker only stops the retries piling up."""


class KubeMode(Enum):
    """How to reach the API server."""

    AUTO = "auto"
    """An explicit kubeconfig or context; else in-cluster in a pod; else the kubeconfig if one exists; else off."""
    IN_CLUSTER = "in-cluster"
    KUBECONFIG = "kubeconfig"
    OFF = "off"


@dataclass(frozen=True)
class KubeSettings:
    """Kubernetes API access: mode, and for `kubeconfig` an optional file and context."""

    mode: KubeMode = KubeMode.AUTO
    kubeconfig: Path | None = None
    context: str | None = None


@dataclass(frozen=True)
class TlsSettings:
    """Server TLS; a client CA turns on mTLS (KEDA presents tlsClientCert from a TriggerAuthentication)."""

    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None


@dataclass(frozen=True)
class Settings:
    """Everything `burst-scaler serve` needs; built by the CLI, consumed by app.build()."""

    address: str = "0.0.0.0:6000"
    metrics_address: str | None = "0.0.0.0:8080"
    """Prometheus /metrics; None disables the endpoint."""
    oci: OciSettings = field(default_factory=OciSettings)
    tls: TlsSettings | None = None
    kube: KubeSettings = field(default_factory=KubeSettings)
    """Kubernetes API access for spill-over readiness, drain estimates and the placement check."""
    kube_ttl_seconds: float = 2.0
    """Kubernetes answers (ready replicas, group peers) are shared this long; readiness lags by at most this."""
    cache_ttl_seconds: float = 1.0
    """Answers younger than this are served without asking OCI: one read per source per TTL."""
    max_staleness_seconds: float = 60.0
    """After an upstream failure the last good value is served until it is this old; then UNAVAILABLE."""
    push_interval_seconds: float = 1.0
    """How often StreamIsActive watchers refresh their source."""
    throttle_backoff_seconds: float = 2.0
    """After OCI answers 429 without a retry hint, that source is not read for this long, doubled per 429 in a row."""
    throttle_backoff_max_seconds: float = 30.0
    """The longest throttle back-off, also the most of an OCI retry hint that is honoured."""
    rpc_deadline_seconds: float = 1.0
    """Longest an RPC waits for OCI when KEDA sets no deadline (the polling path never does)."""
    grace_seconds: float = 10.0
    """On SIGTERM: health NOT_SERVING, streams end OK, in-flight unary calls get this long to finish."""
    forget_after_seconds: float = 600.0
    """A ScaledObject not asked about for this long loses its metric series and everything cached for it; a source
    nobody watches or polls for this long is dropped from the refresh cache."""
    upstream_threads: int = 16
    """Threads for the blocking OCI SDK; bounds concurrent upstream reads."""
    log_level: str = "INFO"

    def redacted(self) -> dict[str, Any]:
        """The effective configuration for the start-up log line; no secrets live in Settings, paths only."""
        data = asdict(self)
        data["oci"]["auth"] = self.oci.auth.value
        data["kube"]["mode"] = self.kube.mode.value
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in data.items()}
