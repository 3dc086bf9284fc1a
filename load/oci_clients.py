"""SDK clients for burst-load, built the way the scaler builds its own: one auth module, short explicit retries.

Data-plane calls must go to the queue's or stream's messages endpoint (GetQueue / GetStream tell it), unless
``--oci-endpoint`` sends everything to one URL (the emulator, a private endpoint). Clients get no circuit breaker:
the SDK's default one is shared by every client in the process, and a load generator must see each refusal
itself (it counts 429s and backs off on its own).
"""

from __future__ import annotations

from typing import Any

import oci

from load.retry import short_retry_strategy
from scaler.errors import ConfigError
from scaler.settings import OciSettings
from scaler.sources.oci_auth import OciCredentials, load_credentials


def _kwargs(credentials: OciCredentials, settings: OciSettings, read_timeout: float) -> dict[str, Any]:
    return {
        **credentials.client_kwargs(),
        "retry_strategy": short_retry_strategy(attempts=max(2, settings.max_attempts)),
        "circuit_breaker_strategy": oci.circuit_breaker.NoCircuitBreakerStrategy(),
        "timeout": (settings.connect_timeout_seconds, max(settings.read_timeout_seconds, read_timeout)),
    }


def _lookup(what: str, fn: Any) -> str:
    try:
        endpoint = fn()
    except oci.exceptions.ServiceError as exc:
        raise ConfigError(
            f"{what} failed: HTTP {exc.status} {exc.code}: {exc.message}. Check the OCID and the "
            "policy, or pass --oci-endpoint."
        ) from exc
    except Exception as exc:
        raise ConfigError(
            f"{what} failed: {type(exc).__name__}: {exc}. Pass --oci-endpoint if OCI is not "
            "reachable at its regional endpoint."
        ) from exc
    if not isinstance(endpoint, str) or not endpoint:
        raise ConfigError(f"{what} returned no messagesEndpoint; pass --oci-endpoint")
    return endpoint


def queue_client(settings: OciSettings, queue_id: str, *, read_timeout: float = 10.0) -> Any:
    """An ``oci.queue.QueueClient`` on the queue's messages endpoint."""
    credentials = load_credentials(settings)
    kwargs = _kwargs(credentials, settings, read_timeout)
    endpoint = settings.endpoint
    if not endpoint:
        admin = oci.queue.QueueAdminClient(credentials.config, **kwargs)
        endpoint = _lookup("GetQueue", lambda: admin.get_queue(queue_id).data.messages_endpoint)
    return oci.queue.QueueClient(credentials.config, service_endpoint=endpoint.rstrip("/"), **kwargs)


def stream_client(settings: OciSettings, stream_id: str, *, read_timeout: float = 10.0) -> Any:
    """An ``oci.streaming.StreamClient`` on the stream's messages endpoint."""
    credentials = load_credentials(settings)
    kwargs = _kwargs(credentials, settings, read_timeout)
    endpoint = settings.endpoint
    if not endpoint:
        admin = oci.streaming.StreamAdminClient(credentials.config, **kwargs)
        endpoint = _lookup("GetStream", lambda: admin.get_stream(stream_id).data.messages_endpoint)
    return oci.streaming.StreamClient(credentials.config, service_endpoint=endpoint.rstrip("/"), **kwargs)
