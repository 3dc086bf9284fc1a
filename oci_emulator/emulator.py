"""``Emulator``: the object tests, benchmarks and the CLI start, stop and ask how to connect.

It owns the lifecycle of one emulator (start, stop, context manager) and exposes what a client needs to talk to it:
``url``, an SDK ``oci_config``, a ``compartment_id`` and a ``stream_pool_id``, plus direct creation of queues and
streams without HTTP. The parts behind it (stores, REST APIs, signature verification, fault injection) are put
together in ``wiring``; direct creation and seed files go through ``provisioning``. Everything is created per
instance (no module state), so tests can run several emulators side by side.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from .credentials import ApiKey, write_oci_config
from .ocids import new_ocid
from .server import HttpServer
from .settings import QueueLimits, QueueSettings
from .stream_settings import StreamLimits
from .wiring import assemble

logger = logging.getLogger(__name__)

_WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


class Emulator:
    """Local OCI Queue (REST API 20210201) and Streaming (20180418) services, with signature checks."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
        create_delay_seconds: float = 0.0,
        seed: Path | None = None,
        max_long_poll_seconds: float = 30.0,
        limits: QueueLimits | None = None,
        api_key: ApiKey | None = None,
        compartment_id: str | None = None,
        public_url: str | None = None,
        stream_limits: StreamLimits | None = None,
        stream_throttle: bool = True,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """Configure an emulator; nothing listens until ``start()``.

        ``clock`` drives service time (visibility, retention, lifecycle delays, cursor expiry, reservations, the read
        throttle); signed dates must be within 5 minutes of ``wall_clock`` (epoch seconds), never of ``clock``.
        ``api_key`` defaults to a fresh key; ``public_url`` overrides the advertised ``messagesEndpoint`` (e.g. a
        Service URL); ``stream_throttle`` enforces OCI's 5 GetMessages per second per partition and group (429 beyond).
        """
        self._host, self._port = host, port
        self._limits = limits or QueueLimits()
        self._public_url = public_url.rstrip("/") if public_url else None
        self.api_key = api_key or ApiKey.generate()
        self.compartment_id = compartment_id or new_ocid("compartment")
        self.stream_pool_id = new_ocid("streampool", region_key="iad")
        """The emulator's one stream pool (every stream belongs to it)."""
        parts = assemble(
            clock=clock,
            create_delay_seconds=create_delay_seconds,
            max_long_poll_seconds=max_long_poll_seconds,
            limits=self._limits,
            stream_limits=stream_limits or StreamLimits(),
            stream_throttle=stream_throttle,
            api_key=self.api_key,
            compartment_id=self.compartment_id,
            stream_pool_id=self.stream_pool_id,
            endpoint=lambda: self.url,
            wall_clock=wall_clock,
        )
        self.queues, self.streams = parts.queues, parts.streams
        self.counters, self.faults = parts.counters, parts.faults
        self._stopping, self._app, self._provisioner = parts.stopping, parts.app, parts.provisioner
        self._server: HttpServer | None = None
        if seed is not None:
            self._provisioner.seed(seed)

    def start(self) -> Emulator:
        """Bind and serve in a background thread; returns self."""
        if self._server is not None:
            raise RuntimeError("the emulator is already started")
        if self._stopping.is_set():
            raise RuntimeError("a stopped emulator cannot be restarted; create a new Emulator")
        self._server = HttpServer(
            host=self._host, port=self._port, app=self._app, max_request_bytes=self._limits.max_request_bytes
        )
        self._server.start()
        logger.info("OCI emulator listening on %s (compartment %s)", self.url, self.compartment_id)
        return self

    def stop(self) -> None:
        """Wake long polls and injected delays, close every connection and join every thread. Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        self.queues.close()
        server.stop()
        logger.info("OCI emulator stopped")

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server (no trailing slash); also the queues' messagesEndpoint."""
        if self._public_url is not None:
            return self._public_url
        if self._server is None:
            raise RuntimeError("the emulator is not started; call start() first")
        return _local_url(self._host, self._server.port)

    @property
    def oci_config(self) -> dict[str, str]:
        """An SDK config dict (user, tenancy, fingerprint, key_content, region) the emulator accepts."""
        return self.api_key.sdk_config()

    def write_config(self, path: Path, profile: str = "DEFAULT") -> Path:
        """Write an OCI CLI config (one profile) and its key file beside it (mode 0600); returns ``path``."""
        notes: tuple[str, ...] = (
            "OCI config written by the OKE Burst Scaler OCI emulator",
            f"emulator compartment: {self.compartment_id}",
        )
        if self._server is not None or self._public_url is not None:
            notes += (f"emulator endpoint: {self.url}",)
        write_oci_config(self.api_key, path, profile=profile, notes=notes)
        return path

    def create_queue(
        self,
        display_name: str,
        *,
        visibility_in_seconds: int = 30,
        retention_in_seconds: int = 86400,
        timeout_in_seconds: int = 30,
        dead_letter_queue_delivery_count: int = 0,
        channel_consumption_limit: int = 100,
        queue_id: str | None = None,
    ) -> str:
        """Create an ACTIVE queue in ``compartment_id`` without HTTP; returns its OCID."""
        settings = QueueSettings(
            retention_in_seconds=retention_in_seconds,
            visibility_in_seconds=visibility_in_seconds,
            timeout_in_seconds=timeout_in_seconds,
            dead_letter_queue_delivery_count=dead_letter_queue_delivery_count,
            channel_consumption_limit=channel_consumption_limit,
        )
        return self._provisioner.queue(display_name, settings, queue_id=queue_id)

    def create_stream(
        self, name: str, *, partitions: int = 1, retention_in_hours: int = 24, stream_id: str | None = None
    ) -> str:
        """Create an ACTIVE stream in ``compartment_id`` and the stream pool without HTTP; returns its OCID."""
        return self._provisioner.stream(
            name, partitions=partitions, retention_in_hours=retention_in_hours, stream_id=stream_id
        )

    def set_stream_throttle(self, enabled: bool) -> None:
        """Switch the Streaming GetMessages throttle (5 per second per partition and group) on or off."""
        self.streams.throttle.set_enabled(enabled)

    def apply_stream_retention(self) -> int:
        """Trim every stream by its retention at the clock's current time now; returns how many messages went.

        Retention is otherwise applied lazily when a stream is next used; after ``ManualClock.advance`` this makes
        the trim explicit and countable.
        """
        return self.streams.apply_retention()


def _local_url(host: str, port: int) -> str:
    """The URL a client on this machine uses: wildcard binds are reached on loopback; IPv6 hosts are bracketed."""
    host = _WILDCARD_HOSTS.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"
