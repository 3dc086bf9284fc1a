"""Logging set-up and every Prometheus metric the scaler exports, in one place.

Metrics live on an explicit registry owned by ``Telemetry`` (no process-global default registry), so tests can
build as many scalers as they like and read their counters. Label values are ScaledObject names and metric names,
never OCIDs: OCIDs are long, unbounded and sensitive in shared dashboards.
"""

from __future__ import annotations

import logging
import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


def configure_logging(level: str) -> None:
    """One line per event, with the logger name, so operators can grep by module."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


class Telemetry:
    """The scaler's metrics; components receive this object by keyword and record what they observe."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.rpc_total = Counter(
            "burst_scaler_rpc_total", "gRPC calls answered, by method and status code", ["method", "code"], registry=r
        )
        self.rpc_seconds = Histogram(
            "burst_scaler_rpc_duration_seconds",
            "Time to answer a gRPC call",
            ["method"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=r,
        )
        self.upstream_total = Counter(
            "burst_scaler_upstream_reads_total",
            "Reads of OCI, by source kind and outcome (ok, error, throttled)",
            ["source", "outcome"],
            registry=r,
        )
        self.upstream_seconds = Histogram(
            "burst_scaler_upstream_read_duration_seconds", "Duration of one upstream read", ["source"], registry=r
        )
        self.stale_served_total = Counter(
            "burst_scaler_stale_served_total",
            "Answers served from the last good value after a failed refresh",
            registry=r,
        )
        self.unavailable_total = Counter(
            "burst_scaler_unavailable_total", "Answers refused because the last good value was too old", registry=r
        )
        self.backlog = Gauge(
            "burst_scaler_backlog_messages",
            "Backlog used for scaling",
            ["namespace", "scaledobject", "metric"],
            registry=r,
        )
        self.dlq = Gauge(
            "burst_scaler_dlq_messages",
            "Messages in the dead-letter queue (never counted as backlog)",
            ["namespace", "scaledobject", "metric"],
            registry=r,
        )
        self.desired_replicas = Gauge(
            "burst_scaler_desired_replicas",
            "Replicas the decided metric value makes the HPA run",
            ["namespace", "scaledobject", "metric"],
            registry=r,
        )
        self.partition_lag = Gauge(
            "burst_scaler_partition_lag_messages",
            "Consumer-group lag per stream partition (counted up to the read cap)",
            ["namespace", "scaledobject", "metric", "partition"],
            registry=r,
        )
        self.partition_lag_capped = Gauge(
            "burst_scaler_partition_lag_capped",
            "1 where the partition lag is a lower bound (counting stopped at the cap or read budget, or not read)",
            ["namespace", "scaledobject", "metric", "partition"],
            registry=r,
        )
        self.group_replicas = Gauge(
            "burst_scaler_group_replicas",
            "Spill-over share decided for each tier of a group",
            ["namespace", "group", "tier"],
            registry=r,
        )
        self.placement_violations = Gauge(
            "burst_scaler_placement_violations",
            "Placement-rule errors found on the target a ScaledObject scales",
            ["namespace", "scaledobject"],
            registry=r,
        )
        self.poison_holds = Gauge(
            "burst_scaler_poison_guard_holding",
            "1 while poisonGuard holds a ScaledObject's replicas (its queue's DLQ grows, its backlog does not shrink)",
            ["namespace", "scaledobject"],
            registry=r,
        )
        self.value_age = Gauge(
            "burst_scaler_value_age_seconds",
            "Age of the value last served",
            ["namespace", "scaledobject", "metric"],
            registry=r,
        )
        # What deploy/observability's dashboard and alerts need beyond the above.
        self.trigger_info = Gauge(
            "burst_scaler_scaledobject_info",
            "1 per trigger served: its source kind, tier and spill-over group (join on namespace, scaledobject)",
            ["namespace", "scaledobject", "metric", "source", "tier", "group"],
            registry=r,
        )
        self.value_timestamp = Gauge(
            "burst_scaler_value_timestamp_seconds",
            "Unix time of the upstream read behind the value last served (stops moving when reads fail or stop)",
            ["namespace", "scaledobject", "metric"],
            registry=r,
        )
        self.max_staleness = Gauge(
            "burst_scaler_max_staleness_seconds",
            "The staleness bound: older values are not served, the answer is UNAVAILABLE",
            registry=r,
        )
        self.cache_lookups_total = Counter(
            "burst_scaler_cache_lookups_total",
            "Refresh-cache lookups: hit (a fresh shared value) or miss (waited for, or fell back from, a read)",
            ["result"],
            registry=r,
        )
        self.group_need = Gauge(
            "burst_scaler_group_need_replicas",
            "A spill-over group's total need D, before it is split between the tiers",
            ["namespace", "group"],
            registry=r,
        )
        self.group_managed_ready = Gauge(
            "burst_scaler_group_managed_ready_replicas",
            "Ready replicas of a group's managed member, as the Kubernetes API last reported them",
            ["namespace", "group"],
            registry=r,
        )
        self.streams = Gauge("burst_scaler_active_streams", "Open StreamIsActive streams", registry=r)
        self.watched_sources = Gauge("burst_scaler_watched_sources", "Sources refreshed by push watchers", registry=r)
        self.metadata_errors_total = Counter(
            "burst_scaler_metadata_errors_total", "Requests refused for bad trigger metadata", registry=r
        )
        self.pushes_total = Counter(
            "burst_scaler_activation_pushes_total", "`true` sent on StreamIsActive (inactive to active)", registry=r
        )
        self.forgotten_total = Counter(
            "burst_scaler_forgotten_scaledobjects_total",
            "ScaledObjects not asked about for --forget-after seconds, whose series and cached state were dropped",
            registry=r,
        )


class MetricsEndpoint:
    """The Prometheus HTTP endpoint, run in its own thread so a slow scrape never touches the event loop."""

    def __init__(self, *, telemetry: Telemetry, host: str, port: int) -> None:
        server, thread = start_http_server(port, addr=host, registry=telemetry.registry)
        self._server: WSGIServer = server
        self._thread: threading.Thread = thread

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
