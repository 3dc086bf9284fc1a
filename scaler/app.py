"""Composition root: builds the scaler's parts from Settings and runs their lifecycle in the right order.

Start: metrics endpoint, gRPC server (NOT_SERVING), then SERVING and the sweep that forgets ScaledObjects that
stopped asking. Stop: NOT_SERVING first, end the push streams with OK, drain in-flight calls within the grace
period, then release threads and sockets. Everything is passed by keyword, so tests build the same app with a fake
source or an emulator-backed one, and on a fake ``Clock`` (every reading of time and every wait goes through it; a
bare ``() -> float`` is read for "now" while waits run on the event loop).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import signal
import time
from collections.abc import Awaitable, Callable

from scaler import __version__
from scaler.cluster import ClusterView
from scaler.errors import ThrottledError
from scaler.evaluation import Evaluator
from scaler.forgetting import Forgets, Forgetting
from scaler.kube import ClusterReader, connect
from scaler.metadata import QueueRef, SourceRef
from scaler.refresh import CacheTiming, Clock, RefreshCache, as_clock
from scaler.resolution import Resolver
from scaler.series import Bookkeeping
from scaler.server import GrpcServer
from scaler.service import ExternalScalerService
from scaler.settings import Settings
from scaler.sources.base import BacklogSource, ForgetsSources
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


def _timing(settings: Settings, *, ttl: float, max_staleness: float) -> CacheTiming:
    """A refresh cache's timing: its own TTL and staleness bound; pushes, throttle back-off and forgetting as the
    scaler's flags say."""
    return CacheTiming(
        ttl=ttl,
        max_staleness=max_staleness,
        push_interval=settings.push_interval_seconds,
        throttle_backoff=settings.throttle_backoff_seconds,
        throttle_backoff_max=settings.throttle_backoff_max_seconds,
        prune_after=settings.forget_after_seconds,
    )


def _cluster_view(
    settings: Settings, reader: ClusterReader | None, executor: concurrent.futures.Executor, clock: Clock
) -> ClusterView | None:
    """Kubernetes answers for the RPC path, or None without API access."""
    if reader is None:
        return None
    timing = _timing(settings, ttl=settings.kube_ttl_seconds, max_staleness=30.0)
    return ClusterView(reader=reader, executor=executor, timing=timing, clock=clock)


def _source_cache(
    settings: Settings,
    telemetry: Telemetry,
    *,
    read: Callable[[SourceRef], Awaitable[Reading]],
    clock: Clock,
    forget: Callable[[SourceRef], None],
) -> RefreshCache[SourceRef, Reading]:
    """The shared cache of OCI reads: one read per source per TTL, whichever triggers name it."""
    return RefreshCache(
        read=read,
        timing=_timing(settings, ttl=settings.cache_ttl_seconds, max_staleness=settings.max_staleness_seconds),
        clock=clock,
        on_stale=telemetry.stale_served_total.inc,
        on_unavailable=telemetry.unavailable_total.inc,
        on_hit=telemetry.cache_lookups_total.labels("hit").inc,
        on_miss=telemetry.cache_lookups_total.labels("miss").inc,
        on_forget=forget,
    )


def _stream_reading(settings: Settings) -> StreamReadSettings:
    """A partition left unread (throttled, over budget) must not outlast half the staleness bound."""
    unread = min(StreamReadSettings.max_unread_seconds, settings.max_staleness_seconds / 2)
    return StreamReadSettings(max_unread_seconds=unread)


def _sources(
    settings: Settings, queue: BacklogSource | None, stream: BacklogSource | None
) -> tuple[BacklogSource, BacklogSource]:
    """Real OCI sources for whatever the caller did not inject; credentials are loaded once, at start-up."""
    if queue is not None and stream is not None:
        return queue, stream
    credentials = load_credentials(settings.oci)
    if queue is None:
        queue = OciQueueSource(settings=settings.oci, credentials=credentials)
    if stream is None:
        stream = OciStreamingSource(settings=settings.oci, credentials=credentials, reading=_stream_reading(settings))
    return queue, stream


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
        clock: Clock | Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.telemetry = telemetry or Telemetry()
        self._queue_source = queue_source
        self._stream_source = stream_source
        self._time = as_clock(clock)
        self._clock = now = self._time.now
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=settings.upstream_threads, thread_name_prefix="oci-read"
        )
        self.cache = _source_cache(
            settings, self.telemetry, read=self._read, clock=self._time, forget=self._forget_source
        )
        self.telemetry.max_staleness.set(settings.max_staleness_seconds)
        reader = kube_reader if kube_reader is not None else connect(settings.kube)
        self.cluster = _cluster_view(settings, reader, self._executor, self._time)
        self.book = Bookkeeping(telemetry=self.telemetry)
        self.resolver = Resolver(on_unknown_keys=self.book.unknown_keys)
        parts: tuple[Forgets, ...] = (self.resolver, self.book, *([self.cluster] if self.cluster else []))
        self.forgetting = Forgetting(
            forget_after=settings.forget_after_seconds,
            clock=self._time,
            parts=parts,
            on_forgotten=self.telemetry.forgotten_total.inc,
        )
        self.service = ExternalScalerService(
            cache=self.cache,
            telemetry=self.telemetry,
            resolver=self.resolver,
            evaluator=Evaluator(cache=self.cache, book=self.book, cluster=self.cluster, clock=now),
            book=self.book,
            rpc_deadline_seconds=settings.rpc_deadline_seconds,
            clock=now,
            asked=self.forgetting.asked,
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
        self._queue_source, self._stream_source = _sources(self.settings, self._queue_source, self._stream_source)

    def _source_for(self, ref: SourceRef) -> tuple[SourceKind, BacklogSource]:
        source = self._queue_source if isinstance(ref, QueueRef) else self._stream_source
        if source is None:
            raise RuntimeError("sources are built in start(); the app is not started")
        return (SourceKind.QUEUE if isinstance(ref, QueueRef) else SourceKind.STREAMING), source

    def _forget_source(self, ref: SourceRef) -> None:
        """The refresh cache dropped ``ref`` (nobody watched or polled it for --forget-after): so does its source."""
        source = self._queue_source if isinstance(ref, QueueRef) else self._stream_source
        if isinstance(source, ForgetsSources):
            source.forget(ref)

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
        self.forgetting.start()
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
        await self.forgetting.stop()
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
