"""The OCI calls of one partition's count: plain cursors and GetMessages, with the partition's budget and rest.

Kept apart from the counting logic (``stream_reader``) so that what a call costs is decided in one place: every
GetMessages is charged to the partition's budget (one GET, its payload), every 429 rests the partition and ends its
count for now (the clients' retry strategy never retries a 429, ``scaler.oci_retry``; OCI's ``retry-after`` hint
lengthens the rest), and every answer is checked before the ledger believes it (ordered integer offsets, a next
cursor).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import oci

from scaler.errors import UpstreamError
from scaler.sources.stream_budget import PartitionBudget
from scaler.sources.stream_ledger import PartitionLedger
from scaler.sources.throttling import retry_hint, upstream_failure

log = logging.getLogger(__name__)


@dataclass
class PartitionState:
    """Everything one replica remembers about one partition, shared by every trigger and group that counts it."""

    budget: PartitionBudget
    ledger: PartitionLedger = field(default_factory=PartitionLedger)
    lock: threading.Lock = field(default_factory=threading.Lock)
    """Held for a whole count: concurrent counts of one partition run one after the other, the second one cheap."""
    read_at: float | None = None
    """When a GetMessages of this partition last succeeded: how old what the ledger knows may be."""


def _decoded_length(text: Any) -> int:
    if not isinstance(text, str):
        return 0
    return len(text) * 3 // 4 - (2 if text.endswith("==") else 1 if text.endswith("=") else 0)


def _error(operation: str, partition: str, exc: Exception) -> UpstreamError:
    return upstream_failure(f"{operation} (partition {partition})", exc)


class Paused(Exception):
    """This partition's count ends here for now: OCI answered 429 (the budget rests it) or its budget is spent."""


class PartitionCalls:
    """CreateCursor and GetMessages on one partition of one stream."""

    def __init__(
        self,
        *,
        client: Any,
        stream_id: str,
        partition: str,
        state: PartitionState,
        clock: Callable[[], float],
    ) -> None:
        self._client = client
        self.stream_id = stream_id
        self.partition = partition
        self._state = state
        self._clock = clock

    def create_cursor(self, kind: str, offset: int | None = None) -> str | None:
        """A plain cursor; None when OCI refuses the offset (400/404: outside the retained range)."""
        details = oci.streaming.models.CreateCursorDetails(partition=self.partition, type=kind, offset=offset)
        try:
            response = self._client.create_cursor(self.stream_id, details)
        except oci.exceptions.ServiceError as exc:
            if exc.status == 429:
                self._rest(self._clock(), exc)
            if offset is not None and exc.status in (400, 404):
                return None
            raise _error("CreateCursor", self.partition, exc) from exc
        except Exception as exc:
            raise _error("CreateCursor", self.partition, exc) from exc
        value = getattr(response.data, "value", None)
        if not isinstance(value, str) or not value:
            raise UpstreamError(f"CreateCursor (partition {self.partition}) returned no cursor")
        return value

    def page(self, cursor: str, limit: int, now: float) -> tuple[list[int], str]:
        """One GetMessages: the offsets it returned and the next cursor; its payload is charged to the budget."""
        try:
            response = self._client.get_messages(self.stream_id, cursor, limit=limit)
        except oci.exceptions.ServiceError as exc:
            if exc.status == 429:
                self._rest(now, exc)
            raise _error("GetMessages", self.partition, exc) from exc
        except Exception as exc:
            raise _error("GetMessages", self.partition, exc) from exc
        page = response.data
        if page is None:
            raise UpstreamError(f"GetMessages (partition {self.partition}) returned no message list")
        next_cursor = response.headers.get("opc-next-cursor")
        if not next_cursor:
            raise UpstreamError(f"GetMessages (partition {self.partition}) returned no opc-next-cursor")
        offsets: list[int] = []
        payload = 0
        for message in page:
            offset = getattr(message, "offset", None)
            if not isinstance(offset, int) or (offsets and offset <= offsets[-1]):
                raise UpstreamError(
                    f"GetMessages (partition {self.partition}) returned an invalid or unordered offset {offset!r}"
                )
            offsets.append(offset)
            payload += _decoded_length(getattr(message, "value", None)) + _decoded_length(getattr(message, "key", None))
        self._state.budget.spend(now, messages=len(offsets), payload_bytes=payload)
        self._state.read_at = now
        return offsets, str(next_cursor)

    def _rest(self, now: float, exc: oci.exceptions.ServiceError) -> None:
        rest = self._state.budget.throttled(now, retry_hint(getattr(exc, "headers", None)))
        log.warning(
            "OCI throttled reads of partition %s of stream %s (429); resting it %.1fs, other partitions go on",
            self.partition,
            self.stream_id,
            rest,
        )
        raise Paused() from exc
