"""OCI Queue backlog via the official SDK: GetStats on the queue's messages endpoint.

Data-plane calls must go to the queue's own messages endpoint, found with GetQueue; it is looked up once per queue
and cached. ``messagesEndpoint`` in the metadata skips the lookup. With ``--oci-endpoint`` the lookup still runs
once (against that endpoint: it proves the queue exists and names it in errors) but data calls go to that
endpoint too, as the flag promises. Every client gets a short explicit retry
strategy and its own circuit breaker, because the SDK defaults retry for up to 600 s and share one breaker
across the whole process. A response missing a count is an error: reading a None as 0 would be a false zero.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import oci

from scaler.errors import UpstreamError
from scaler.metadata import QueueRef
from scaler.oci_retry import settings_retry_strategy as retry_strategy
from scaler.settings import OciSettings
from scaler.sources.oci_auth import OciCredentials
from scaler.sources.throttling import upstream_failure
from scaler.values import QueueBacklog

log = logging.getLogger(__name__)


def _breaker_failures() -> dict[int, list[str]]:
    """The SDK's breaker failures without 429: a client serves many queues, and one throttled queue is backed off
    on its own by the refresh layer (scaler.sources.throttling); counting its 429s would open the breaker for all."""
    defaults = oci.circuit_breaker.DEFAULT_CIRCUIT_BREAKER_FAILURE_STATUSES_AND_CODES
    return {status: list(codes) for status, codes in defaults.items() if status != 429}


def client_kwargs(settings: OciSettings, credentials: OciCredentials, purpose: str) -> dict[str, Any]:
    """Constructor keywords shared by every OCI client the scaler builds (Queue and Streaming, admin and data)."""
    return {
        **credentials.client_kwargs(),
        "retry_strategy": retry_strategy(settings),
        "circuit_breaker_strategy": oci.circuit_breaker.CircuitBreakerStrategy(
            failure_threshold=settings.breaker_failure_threshold,
            recovery_timeout=settings.breaker_recovery_seconds,
            name=f"burst-scaler-{purpose}-{uuid.uuid4()}",
            failure_statuses_and_codes=_breaker_failures(),
        ),
        "timeout": (settings.connect_timeout_seconds, settings.read_timeout_seconds),
    }


def _count(stats: Any, field: str, what: str) -> int:
    value = getattr(stats, field, None) if stats is not None else None
    if not isinstance(value, int) or value < 0:
        raise UpstreamError(f"GetStats response has no valid {what}.{field} (got {value!r}); refusing to guess")
    return value


class OciQueueSource:
    """Reads QueueStats; thread-safe, since the refresh layer calls it from a pool."""

    def __init__(self, *, settings: OciSettings, credentials: OciCredentials) -> None:
        self._settings = settings
        self._credentials = credentials
        self._lock = threading.Lock()
        self._admin: Any | None = None
        self._data_clients: dict[str, Any] = {}
        self._endpoints: dict[str, str] = {}

    def read(self, ref: QueueRef) -> QueueBacklog:
        endpoint = self._messages_endpoint(ref)
        client = self._data_client(endpoint)
        kwargs = {"channel_id": ref.channel_id} if ref.channel_id else {}
        try:
            response = client.get_stats(ref.queue_id, **kwargs)
        except Exception as exc:  # service errors (429: ThrottledError), connection errors, timeouts, open breaker
            raise upstream_failure("GetStats", exc) from exc
        data = response.data
        queue = getattr(data, "queue", None)
        dlq = getattr(data, "dlq", None)
        return QueueBacklog(
            visible=_count(queue, "visible_messages", "queue"),
            in_flight=_count(queue, "in_flight_messages", "queue"),
            size_bytes=_count(queue, "size_in_bytes", "queue"),
            dlq_visible=_count(dlq, "visible_messages", "dlq"),
            dlq_in_flight=_count(dlq, "in_flight_messages", "dlq"),
        )

    def forget(self, ref: QueueRef) -> None:
        """Drop the queue's looked-up messages endpoint; the clients per endpoint stay (there are few endpoints)."""
        with self._lock:
            self._endpoints.pop(ref.queue_id, None)

    def _messages_endpoint(self, ref: QueueRef) -> str:
        if ref.messages_endpoint:
            return ref.messages_endpoint
        with self._lock:
            cached = self._endpoints.get(ref.queue_id)
        if cached is not None:
            return cached
        try:
            queue = self._admin_client().get_queue(ref.queue_id).data
        except Exception as exc:
            raise upstream_failure("GetQueue (messages endpoint lookup)", exc) from exc
        endpoint = self._settings.endpoint or getattr(queue, "messages_endpoint", None)
        if not isinstance(endpoint, str) or not endpoint:
            raise UpstreamError("GetQueue response has no messagesEndpoint")
        endpoint = endpoint.rstrip("/")
        with self._lock:
            self._endpoints[ref.queue_id] = endpoint
        log.info("queue messages endpoint resolved: %s", endpoint)
        return endpoint

    def _admin_client(self) -> Any:
        with self._lock:
            if self._admin is None:
                extra = {"service_endpoint": self._settings.endpoint} if self._settings.endpoint else {}
                self._admin = oci.queue.QueueAdminClient(
                    self._credentials.config,
                    **client_kwargs(self._settings, self._credentials, "queue-admin"),
                    **extra,
                )
            return self._admin

    def _data_client(self, endpoint: str) -> Any:
        with self._lock:
            client = self._data_clients.get(endpoint)
            if client is None:
                client = oci.queue.QueueClient(
                    self._credentials.config,
                    service_endpoint=endpoint,
                    **client_kwargs(self._settings, self._credentials, "queue"),
                )
                self._data_clients[endpoint] = client
            return client
