"""Composition root: builds the scaler's parts from Settings and runs their lifecycle in the right order.

Start: metrics endpoint, gRPC server (NOT_SERVING), then SERVING. Stop: NOT_SERVING first, end the push streams
with OK, drain in-flight calls within the grace period, then release threads and sockets. Everything is passed
by keyword, so tests build the same app with a fake source or an emulator-backed one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import signal
import time
from collections.abc import Callable

from scaler import __version__
from scaler.cluster import ClusterView
from scaler.errors import ThrottledError
from scaler.evaluation import Evaluator
from scaler.kube import ClusterReader, connect
from scaler.metadata import QueueRef, SourceRef
from scaler.refresh import CacheTiming, RefreshCache
from scaler.resolution import Resolver
from scaler.series import Bookkeeping
from scaler.server import GrpcServer
from scaler.service import ExternalScalerService
from scaler.settings import Settings
from scaler.sources.base import BacklogSource
from scaler.sources.oci_auth import load_credentials
from scaler.sources.oci_queue import OciQueueSource
from scaler.sources.oci_streaming import OciStreamingSource
from scaler.sources.stream_budget import StreamReadSettings
from scaler.telemetry import MetricsEndpoint, Telemetry
from scaler.values import Reading, SourceKind

log = logging.getLogger(__name__)


def _split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)


def _source_timing(settings: Settings) -> CacheTiming:
    """The OCI reads' cache timing, from the flags."""
    return CacheTiming(
        ttl=settings.cache_ttl_seconds,
        max_staleness=settings.max_staleness_seconds,
        push_interval=settings.push_interval_seconds,
        throttle_backoff=settings.throttle_backoff_seconds,
        throttle_backoff_max=settings.throttle_backoff_max_seconds,
    )


class ScalerApp:
    """One running scaler: server, cache, sources, metrics."""

    def __init__(
        self,
        *,
        settings: Settings,
        queue_source: BacklogSource | None = None,
        stream_source: BacklogSource | None = None,
        telemetry: Telemetry | None = None,
        kube_reader: ClusterReader | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.telemetry = telemetry or Telemetry()
        self._queue_source = queue_source
        self._stream_source = stream_source
        self._clock = clock
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=settings.upstream_threads, thread_name_prefix="oci-read"
        )
        self.cache: RefreshCache[SourceRef, Reading] = RefreshCache(
            read=self._read,
            timing=_source_timing(settings),
            clock=clock,
            on_stale=self.telemetry.stale_served_total.inc,
            on_unavailable=self.telemetry.unavailable_total.inc,
        )
        reader = kube_reader if kube_reader is not None else connect(settings.kube)
        self.cluster = (
            ClusterView(
                reader=reader,
                executor=self._executor,
                timing=CacheTiming(
                    ttl=settings.kube_ttl_seconds, max_staleness=30.0, push_interval=settings.push_interval_seconds
                ),
                clock=clock,
            )
            if reader is not None
            else None
        )
        book = Bookkeeping(telemetry=self.telemetry)
        self.service = ExternalScalerService(
            cache=self.cache,
            telemetry=self.telemetry,
            resolver=Resolver(on_unknown_keys=book.unknown_keys),
            evaluator=Evaluator(cache=self.cache, book=book, cluster=self.cluster, clock=clock),
            book=book,
            rpc_deadline_seconds=settings.rpc_deadline_seconds,
            clock=clock,
        )
        self._server: GrpcServer | None = None
        self._metrics: MetricsEndpoint | None = None
        self._stopped = asyncio.Event()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the scaler is not started")
        return self._server.port

    @property
    def metrics_port(self) -> int | None:
        return self._metrics.port if self._metrics else None

    def _build_sources(self) -> None:
        """Real OCI sources for whatever the caller did not inject; credentials are loaded once, at start-up."""
        if self._queue_source is not None and self._stream_source is not None:
            return
        credentials = load_credentials(self.settings.oci)
        if self._queue_source is None:
            self._queue_source = OciQueueSource(settings=self.settings.oci, credentials=credentials)
        if self._stream_source is None:
            unread = min(StreamReadSettings.max_unread_seconds, self.settings.max_staleness_seconds / 2)
            reading = StreamReadSettings(max_unread_seconds=unread)
            oci_settings = self.settings.oci
            self._stream_source = OciStreamingSource(settings=oci_settings, credentials=credentials, reading=reading)

    def _source_for(self, ref: SourceRef) -> tuple[SourceKind, BacklogSource]:
        source = self._queue_source if isinstance(ref, QueueRef) else self._stream_source
        if source is None:
            raise RuntimeError("sources are built in start(); the app is not started")
        return (SourceKind.QUEUE if isinstance(ref, QueueRef) else SourceKind.STREAMING), source

    async def _read(self, ref: SourceRef) -> Reading:
        kind, source = self._source_for(ref)
        started = self._clock()
        loop = asyncio.get_running_loop()
        try:
            reading = await loop.run_in_executor(self._executor, source.read, ref)
        except ThrottledError:
            self.telemetry.upstream_total.labels(kind, "throttled").inc()
            raise
        except Exception:
            self.telemetry.upstream_total.labels(kind, "error").inc()
            raise
        finally:
            self.telemetry.upstream_seconds.labels(kind).observe(self._clock() - started)
        self.telemetry.upstream_total.labels(kind, "ok").inc()
        return reading

    async def start(self) -> None:
        log.info("burst-scaler %s starting with %s", __version__, json.dumps(self.settings.redacted(), default=str))
        self._build_sources()  # fail fast on broken credentials, before reporting SERVING
        if self.settings.metrics_address:
            host, port = _split_address(self.settings.metrics_address)
            self._metrics = MetricsEndpoint(telemetry=self.telemetry, host=host, port=port)
        self._server = GrpcServer(service=self.service, address=self.settings.address, tls=self.settings.tls)
        await self._server.start()
        await self._server.mark_serving()
        log.info(
            "serving externalscaler.ExternalScaler on port %d%s; metrics on %s",
            self._server.port,
            " (TLS)" if self.settings.tls else "",
            self.settings.metrics_address or "(disabled)",
        )

    async def stop(self) -> None:
        """Graceful stop; safe to call twice."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._server is not None:
            log.info("shutting down: health NOT_SERVING, ending streams, grace %.1fs", self.settings.grace_seconds)
            await self._server.mark_not_serving()
            await self.service.end_streams()
            await self._server.stop(self.settings.grace_seconds)
        await self.cache.close()
        if self.cluster is not None:
            await self.cluster.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._metrics is not None:
            self._metrics.close()
        log.info("stopped")

    async def run_until_signal(self) -> None:
        """Serve until SIGTERM or SIGINT, then stop gracefully."""
        await self.start()
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            await self.stop()
