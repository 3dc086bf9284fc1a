"""The Queue data plane (``QueueClient``) over REST: messages, stats and channels.

Served under the same base URL as the control plane, which GetQueue advertises as ``messagesEndpoint``. Validation
follows the OCI reference: ``limit`` 1..32 (default 1), ``timeoutInSeconds`` 0..30 (unset = the queue's default long
poll, 0 = short poll), ``visibilityInSeconds`` 0..43200 (unset = the queue's default, 0 = peek). Batch operations
report per-entry failures (``errorCode`` 400 for a malformed receipt, 404 for a stale one) instead of failing the
whole request. Consumer groups are not emulated; a ``consumerGroupId`` is refused with 400.
"""

from __future__ import annotations

from typing import Any

from . import queue_render as render
from .errors import ApiError, InvalidParameter
from .message_values import NewMessage
from .queues import QueueStore
from .routing import ApiRequest, ApiResponse, JsonObject, Route
from .settings import CHANNEL_ID_LENGTH, TIMEOUT_IN_SECONDS, VISIBILITY_IN_SECONDS, IntRange, QueueLimits
from .wire import FieldReader, paginate, query_int, query_str, rfc3339

BASE = render.API_BASE
_DEFAULT_PAGE_SIZE = 100


class QueueDataApi:
    """Handlers for the QueueClient operations."""

    def __init__(self, store: QueueStore, *, limits: QueueLimits) -> None:
        self._store = store
        self._limits = limits
        self._get_limits = IntRange("limit", 1, limits.max_get_limit)
        self._page_sizes = IntRange("limit", 1, limits.max_page_size)

    def routes(self) -> list[Route]:
        messages = f"{BASE}/queues/{{queueId}}/messages"
        return [
            Route("POST", messages, "PutMessages", self.put_messages),
            Route("GET", messages, "GetMessages", self.get_messages),
            Route("DELETE", f"{messages}/{{messageReceipt}}", "DeleteMessage", self.delete_message),
            Route("PUT", f"{messages}/{{messageReceipt}}", "UpdateMessage", self.update_message),
            Route("POST", f"{messages}/actions/deleteMessages", "DeleteMessages", self.delete_messages),
            Route("POST", f"{messages}/actions/updateMessages", "UpdateMessages", self.update_messages),
            Route("GET", f"{BASE}/queues/{{queueId}}/stats", "GetStats", self.get_stats),
            Route("GET", f"{BASE}/queues/{{queueId}}/channels", "ListChannels", self.list_channels),
        ]

    # ------------------------------------------------------------------------------------------- handlers

    def put_messages(self, request: ApiRequest) -> ApiResponse:
        _refuse_consumer_groups(request)
        fields = FieldReader(request.json_body(), "")
        entries = fields.array("messages", required=True)
        new_messages: list[NewMessage] = []
        if entries is not None:
            if not 1 <= len(entries) <= self._limits.max_messages_per_put:
                fields.problem(
                    f"messages must hold 1 to {self._limits.max_messages_per_put} entries, got {len(entries)}"
                )
            for index, entry in enumerate(entries):
                parsed = _new_message(fields, entry, f"messages[{index}]", max_bytes=self._limits.max_message_bytes)
                if parsed is not None:
                    new_messages.append(parsed)
        fields.finish()
        stored = self._store.put_messages(request.params["queueId"], new_messages)
        wall_time = self._store.wall_time
        body = {"messages": [{"id": s.message_id, "expireAfter": rfc3339(wall_time(s.expire_after))} for s in stored]}
        return ApiResponse(body=body)

    def get_messages(self, request: ApiRequest) -> ApiResponse:
        _refuse_consumer_groups(request)
        visibility = query_int(request, "visibilityInSeconds", VISIBILITY_IN_SECONDS)
        timeout = query_int(request, "timeoutInSeconds", TIMEOUT_IN_SECONDS)
        limit = query_int(request, "limit", self._get_limits) or 1
        channel_filter = query_str(request, "channelFilter", max_length=CHANNEL_ID_LENGTH.maximum)
        deliveries = self._store.get_messages(
            request.params["queueId"],
            limit=limit,
            visibility_in_seconds=visibility,
            timeout_in_seconds=timeout,
            channel_filter=channel_filter,
        )
        wall_time = self._store.wall_time
        return ApiResponse(body={"messages": [render.message(d, wall_time=wall_time) for d in deliveries]})

    def delete_message(self, request: ApiRequest) -> ApiResponse:
        _refuse_consumer_groups(request)
        self._store.delete_message(request.params["queueId"], request.params["messageReceipt"])
        return ApiResponse()

    def update_message(self, request: ApiRequest) -> ApiResponse:
        _refuse_consumer_groups(request)
        fields = FieldReader(request.json_body(), "")
        visibility = fields.integer("visibilityInSeconds", required=True, bounds=VISIBILITY_IN_SECONDS)
        fields.finish()
        assert visibility is not None
        change = self._store.update_message(request.params["queueId"], request.params["messageReceipt"], visibility)
        visible_after = rfc3339(self._store.wall_time(change.visible_after))
        return ApiResponse(body={"id": change.message_id, "visibleAfter": visible_after})

    def delete_messages(self, request: ApiRequest) -> ApiResponse:
        _refuse_consumer_groups(request)
        fields = FieldReader(request.json_body(), "")
        receipts: list[str] = []
        for index, entry in enumerate(self._batch(fields)):
            reader = fields.child(entry, f"entries[{index}]")
            receipt = reader.string("receipt", required=True) if reader else None
            receipts.append(receipt or "")
        fields.finish()
        outcomes = self._store.delete_messages(request.params["queueId"], receipts)
        entries = [{} if error is None else _entry_error(error) for error in outcomes]
        return ApiResponse(body=_batch_result(entries, outcomes))

    def update_messages(self, request: ApiRequest) -> ApiResponse:
        _refuse_consumer_groups(request)
        fields = FieldReader(request.json_body(), "")
        changes: list[tuple[str, int]] = []
        for index, entry in enumerate(self._batch(fields)):
            reader = fields.child(entry, f"entries[{index}]")
            if reader is None:
                continue
            receipt = reader.string("receipt", required=True)
            visibility = reader.integer("visibilityInSeconds", required=True, bounds=VISIBILITY_IN_SECONDS)
            changes.append((receipt or "", visibility or 0))
        fields.finish()
        outcomes = self._store.update_messages(request.params["queueId"], changes)
        wall_time = self._store.wall_time
        entries: list[JsonObject] = [
            _entry_error(outcome)
            if isinstance(outcome, ApiError)
            else {"id": outcome.message_id, "visibleAfter": rfc3339(wall_time(outcome.visible_after))}
            for outcome in outcomes
        ]
        return ApiResponse(body=_batch_result(entries, outcomes))

    def get_stats(self, request: ApiRequest) -> ApiResponse:
        _refuse_consumer_groups(request)
        channel_id = query_str(request, "channelId", max_length=CHANNEL_ID_LENGTH.maximum)
        value = self._store.stats(request.params["queueId"], channel_id)
        return ApiResponse(body=render.queue_stats(value, channel_id=channel_id))

    def list_channels(self, request: ApiRequest) -> ApiResponse:
        _refuse_consumer_groups(request)
        limit = query_int(request, "limit", self._page_sizes) or _DEFAULT_PAGE_SIZE
        channel_filter = query_str(request, "channelFilter", max_length=CHANNEL_ID_LENGTH.maximum)
        channels = self._store.channels(request.params["queueId"])
        if channel_filter is not None:
            channels = [channel for channel in channels if channel == channel_filter]
        page, next_page = paginate(channels, limit=limit, page=query_str(request, "page"))
        headers = {} if next_page is None else {"opc-next-page": next_page}
        return ApiResponse(body={"items": page}, headers=headers)

    # ------------------------------------------------------------------------------------------- helpers

    def _batch(self, fields: FieldReader) -> list[Any]:
        entries = fields.array("entries", required=True)
        if entries is None:
            return []
        if not 1 <= len(entries) <= self._limits.max_batch_entries:
            fields.problem(f"entries must hold 1 to {self._limits.max_batch_entries} entries, got {len(entries)}")
        return entries


def _new_message(fields: FieldReader, entry: Any, where: str, *, max_bytes: int) -> NewMessage | None:
    reader = fields.child(entry, where)
    if reader is None:
        return None
    content = reader.string("content", required=True)
    if content is not None:
        size = len(content.encode("utf-8"))
        if not 1 <= size <= max_bytes:
            reader.problem(f"{where}.content must be 1 to {max_bytes} bytes (UTF-8), got {size}")
    channel_id: str | None = None
    properties: dict[str, str] = {}
    metadata = entry.get("metadata")
    if metadata is not None:
        meta = reader.child(metadata, f"{where}.metadata")
        if meta is not None:
            channel_id = meta.string("channelId", required=True, length=CHANNEL_ID_LENGTH)
            properties = meta.string_map("customProperties") or {}
    if content is None:
        return None
    return NewMessage(content=content, channel_id=channel_id, custom_properties=properties)


def _refuse_consumer_groups(request: ApiRequest) -> None:
    if request.query_value("consumerGroupId") is not None:
        raise InvalidParameter("consumerGroupId: consumer groups are not supported by the emulator")


def _entry_error(error: ApiError) -> JsonObject:
    return {"errorCode": error.status, "errorMessage": error.message}


def _batch_result(entries: list[JsonObject], outcomes: list[Any]) -> JsonObject:
    failures = [outcome for outcome in outcomes if isinstance(outcome, ApiError)]
    return {
        "serverFailures": sum(1 for failure in failures if failure.status >= 500),
        "clientFailures": sum(1 for failure in failures if failure.status < 500),
        "entries": entries,
    }
