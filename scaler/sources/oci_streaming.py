"""OCI Streaming consumer-group lag via the official SDK, without touching the group.

OCI has no API for a partition's head offset and no lag metric, so lag is *counted*: for each partition, a plain
(non-group) cursor is opened right after the group's committed offset and messages are read until an empty page
or the read cap. Plain cursors never join the group, never commit and never move reservations; they are created
fresh on every read (cursors expire after five minutes). Costs are bounded: at most ``_MAX_PAGES`` GetMessages
per partition per read, and never more messages than ``StreamRef.read_cap`` (target x max replicas), beyond which
the count cannot change the decision.

``committedOffset`` is read as *the offset of the last message the group consumed*, so counting starts
AFTER_OFFSET; the emulator implements the same meaning. A committed offset already trimmed by retention falls
back to the oldest retained message (TRIM_HORIZON). A group that does not exist yet has committed nothing.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Final

import oci

from scaler.errors import UpstreamError
from scaler.metadata import StreamRef
from scaler.settings import OciSettings
from scaler.sources.oci_auth import OciCredentials
from scaler.sources.oci_queue import client_kwargs
from scaler.sources.throttling import upstream_failure
from scaler.values import PartitionLag, StreamLag

log = logging.getLogger(__name__)

_PAGE_LIMIT: Final = 10_000
"""GetMessages' documented maximum ``limit``."""
_MAX_PAGES: Final = 8
"""GetMessages calls per partition per read, at most; a partition still not drained is reported as capped."""


@dataclass(frozen=True)
class _StreamInfo:
    partitions: int
    messages_endpoint: str


def _service_error(operation: str, exc: Exception) -> UpstreamError:
    return upstream_failure(operation, exc)  # a 429 becomes ThrottledError: the refresh layer backs the source off


class OciStreamingSource:
    """Counts per-partition lag of a consumer group; thread-safe (called from the refresh thread pool)."""

    def __init__(self, *, settings: OciSettings, credentials: OciCredentials) -> None:
        self._settings = settings
        self._credentials = credentials
        self._lock = threading.Lock()
        self._admin: Any | None = None
        self._clients: dict[str, Any] = {}
        self._streams: dict[str, _StreamInfo] = {}
        self._previous: dict[tuple[str, str], dict[str, int | None]] = {}

    def read(self, ref: StreamRef) -> StreamLag:
        info = self._stream(ref)
        client = self._client(ref.messages_endpoint or info.messages_endpoint)
        committed = self._committed(client, ref)
        wanted = [str(p) for p in range(info.partitions)]
        if ref.partitions is not None:
            wanted = [p for p in wanted if p in set(ref.partitions)]
        with self._lock:
            previous = self._previous.get((ref.stream_id, ref.group_name), {})
        lags: list[PartitionLag] = []
        for partition in wanted:
            offset = committed.get(partition)
            lag, capped = self._count(client, ref, partition, offset)
            persistent = lag > 0 and offset is not None and partition in previous and previous[partition] == offset
            lags.append(PartitionLag(partition, lag, offset, capped, persistent))
        with self._lock:
            self._previous[(ref.stream_id, ref.group_name)] = {p.partition: p.committed_offset for p in lags}
        return StreamLag(partition_count=info.partitions, partitions=tuple(lags))

    def forget(self, ref: StreamRef) -> None:
        """Drop the group's last committed offsets and the stream's looked-up shape (looked up again if asked)."""
        with self._lock:
            self._previous.pop((ref.stream_id, ref.group_name), None)
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

    def _count(self, client: Any, ref: StreamRef, partition: str, committed: int | None) -> tuple[int, bool]:
        """Messages after ``committed`` in one partition, up to the read cap: (count, capped)."""
        if committed is None and not ref.start_uncommitted_at_earliest:
            return 0, False  # `latest`: a never-committed partition starts at the head, so nothing is owed
        cursor = self._cursor(client, ref, partition, committed)
        count = 0
        for _ in range(_MAX_PAGES):
            if count >= ref.read_cap:
                return count, True
            try:
                response = client.get_messages(ref.stream_id, cursor, limit=min(_PAGE_LIMIT, ref.read_cap - count))
            except Exception as exc:
                raise _service_error(f"GetMessages (partition {partition})", exc) from exc
            page = response.data
            if page is None:
                raise UpstreamError(f"GetMessages (partition {partition}) returned no message list")
            if not page:
                return count, False
            count += len(page)
            cursor = response.headers.get("opc-next-cursor")
            if not cursor:
                raise UpstreamError(f"GetMessages (partition {partition}) returned no opc-next-cursor")
        return count, True

    def _cursor(self, client: Any, ref: StreamRef, partition: str, committed: int | None) -> str:
        models = oci.streaming.models
        if committed is not None:
            details = models.CreateCursorDetails(partition=partition, type="AFTER_OFFSET", offset=committed)
            try:
                return str(client.create_cursor(ref.stream_id, details).data.value)
            except oci.exceptions.ServiceError as exc:
                if exc.status not in (400, 404):
                    raise _service_error(f"CreateCursor (partition {partition})", exc) from exc
                log.info(
                    "committed offset %d of partition %s is no longer retained; counting from the oldest message",
                    committed,
                    partition,
                )
            except Exception as exc:
                raise _service_error(f"CreateCursor (partition {partition})", exc) from exc
        details = models.CreateCursorDetails(partition=partition, type="TRIM_HORIZON")
        try:
            return str(client.create_cursor(ref.stream_id, details).data.value)
        except Exception as exc:
            raise _service_error(f"CreateCursor (partition {partition})", exc) from exc

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
