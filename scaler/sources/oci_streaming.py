"""OCI Streaming consumer-group lag via the official SDK, without touching the group, at the cost of one extra reader.

OCI has no API for a partition's head offset and no lag metric, so lag is *counted* by reading messages with plain
(non-group) cursors, which never join the group, never commit and never move reservations. Counting the whole
backlog on every refresh would cost the backlog in bytes per refresh; instead each partition's offsets already seen
are remembered (``stream_ledger``), so a refresh costs one GetGroup plus, per partition, what arrived since the last
one (an empty GetMessages when nothing did). ``stream_reader`` does the partition reads, ``stream_budget`` bounds
them below OCI's per-partition limits and rests a partition that OCI throttles.

Counting stops at ``StreamRef.read_cap`` (target x max replicas + 1) *across the whole source*: beyond it the decision
is at its cap whatever the rest holds. Partitions left unread are reported with what this replica already knew and
marked ``capped`` (a lower bound), as are partitions whose count stopped at the cap or a budget. Suspected stuck
partitions (``excludePersistentLag``) do not use up that budget, since a trigger that excludes them must still see
the others counted in full.

``committedOffset`` is read as *the offset of the last message the group consumed*, so counting starts after it;
the emulator implements the same meaning. A committed offset already trimmed by retention counts from the oldest
retained message. A group that does not exist yet has committed nothing. Several scaler replicas each keep their own
memory of offsets and never depend on one another's: a replica that forgets costs one bounded cold read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import oci

from scaler.bounded import Bounded
from scaler.errors import UpstreamError
from scaler.metadata import StreamRef
from scaler.settings import OciSettings
from scaler.sources.oci_auth import OciCredentials
from scaler.sources.oci_queue import client_kwargs
from scaler.sources.stream_budget import PartitionBudget, StreamReadSettings
from scaler.sources.stream_calls import PartitionState
from scaler.sources.stream_cap import count_to_cap
from scaler.sources.stream_persistence import StillOffsets
from scaler.sources.stream_reader import PartitionReader
from scaler.sources.throttling import upstream_failure
from scaler.values import StreamLag

log = logging.getLogger(__name__)

PARTITION_CAPACITY: Final = 4096
"""Partitions whose offsets one replica remembers; past that the least recently counted is forgotten."""


@dataclass(frozen=True)
class _StreamInfo:
    partitions: int
    messages_endpoint: str


@dataclass
class _RefState:
    """What one shared read (one ``StreamRef``) carries from refresh to refresh."""

    still: StillOffsets = field(default_factory=StillOffsets)
    turn: int = 0
    """Rotates which partition is counted first, so that stopping at the cap does not always skip the same ones."""


def _service_error(operation: str, exc: Exception) -> UpstreamError:
    return upstream_failure(operation, exc)  # a 429 becomes ThrottledError: the refresh layer backs the source off


class OciStreamingSource:
    """Counts per-partition lag of a consumer group; thread-safe (called from the refresh thread pool)."""

    def __init__(
        self,
        *,
        settings: OciSettings,
        credentials: OciCredentials,
        reading: StreamReadSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._credentials = credentials
        self._reading = reading or StreamReadSettings()
        self._clock = clock
        self._lock = threading.Lock()
        self._admin: Any | None = None
        self._clients: dict[str, Any] = {}
        self._streams: dict[str, _StreamInfo] = {}
        self._partitions: Bounded[tuple[str, str], PartitionState] = Bounded(PARTITION_CAPACITY)
        self._refs: Bounded[StreamRef, _RefState] = Bounded()

    def read(self, ref: StreamRef) -> StreamLag:
        info = self._stream(ref)
        client = self._client(ref.messages_endpoint or info.messages_endpoint)
        committed = self._committed(client, ref)
        wanted = [str(p) for p in range(info.partitions)]
        if ref.partitions is not None:
            chosen = set(ref.partitions)
            wanted = [p for p in wanted if p in chosen]
        with self._lock:
            state = self._refs.get(ref)
            if state is None:
                state = _RefState()
                self._refs.put(ref, state)
            still = state.still.counts(committed, wanted)
            turn = state.turn % max(len(wanted), 1)
            state.turn += 1
        readers = {p: self._reader(client, ref.stream_id, p) for p in wanted}
        order = wanted[turn:] + wanted[:turn]
        lags = count_to_cap(ref, committed, order, still, readers, max_unread_seconds=self._reading.max_unread_seconds)
        with self._lock:
            state.still.keep(committed, still)
        return StreamLag(partition_count=info.partitions, partitions=tuple(lags[p] for p in wanted))

    def _reader(self, client: Any, stream_id: str, partition: str) -> PartitionReader:
        return PartitionReader(
            client=client,
            stream_id=stream_id,
            partition=partition,
            state=self._partition(stream_id, partition),
            settings=self._reading,
            clock=self._clock,
        )

    def _partition(self, stream_id: str, partition: str) -> PartitionState:
        key = (stream_id, partition)
        with self._lock:
            state = self._partitions.get(key)
            if state is None:
                state = PartitionState(budget=PartitionBudget(self._reading, self._clock()))
                self._partitions.put(key, state)
            return state

    def forget(self, ref: StreamRef) -> None:
        """Drop what this read carried between refreshes (unchanged-offset counts, rotation) and the stream's
        looked-up shape (looked up again if asked). The partitions' heads stay: other reads of the stream share them,
        and they are bounded on their own."""
        with self._lock:
            self._refs.discard(ref)
            self._streams.pop(ref.stream_id, None)

    def _stream(self, ref: StreamRef) -> _StreamInfo:
        """Partition count and messages endpoint: fixed for a stream's lifetime, so looked up once."""
        with self._lock:
            cached = self._streams.get(ref.stream_id)
        if cached is not None:
            return cached
        try:
            stream = self._admin_client().get_stream(ref.stream_id).data
        except Exception as exc:
            raise _service_error("GetStream", exc) from exc
        partitions = getattr(stream, "partitions", None)
        endpoint = self._settings.endpoint or getattr(stream, "messages_endpoint", None)
        if not isinstance(partitions, int) or partitions < 1:
            raise UpstreamError(f"GetStream response has no valid partitions (got {partitions!r})")
        if not isinstance(endpoint, str) or not endpoint:
            raise UpstreamError("GetStream response has no messagesEndpoint")
        info = _StreamInfo(partitions=partitions, messages_endpoint=endpoint.rstrip("/"))
        with self._lock:
            self._streams[ref.stream_id] = info
        return info

    def _committed(self, client: Any, ref: StreamRef) -> dict[str, int | None]:
        try:
            group = client.get_group(ref.stream_id, ref.group_name).data
        except oci.exceptions.ServiceError as exc:
            if exc.status == 404:
                return {}  # the group was never created: nothing committed anywhere
            raise _service_error("GetGroup", exc) from exc
        except Exception as exc:
            raise _service_error("GetGroup", exc) from exc
        committed: dict[str, int | None] = {}
        for reservation in getattr(group, "reservations", None) or []:
            partition = getattr(reservation, "partition", None)
            offset = getattr(reservation, "committed_offset", None)
            if not isinstance(partition, str):
                raise UpstreamError(f"GetGroup reservation has no partition (got {partition!r})")
            if offset is not None and (not isinstance(offset, int) or offset < 0):
                raise UpstreamError(f"GetGroup partition {partition} has an invalid committedOffset {offset!r}")
            committed[partition] = offset
        return committed

    def _admin_client(self) -> Any:
        with self._lock:
            if self._admin is None:
                extra = {"service_endpoint": self._settings.endpoint} if self._settings.endpoint else {}
                self._admin = oci.streaming.StreamAdminClient(
                    self._credentials.config,
                    **client_kwargs(self._settings, self._credentials, "stream-admin"),
                    **extra,
                )
            return self._admin

    def _client(self, endpoint: str) -> Any:
        with self._lock:
            client = self._clients.get(endpoint)
            if client is None:
                client = oci.streaming.StreamClient(
                    self._credentials.config,
                    service_endpoint=endpoint,
                    **client_kwargs(self._settings, self._credentials, "stream"),
                )
                self._clients[endpoint] = client
            return client
