"""The Streaming data plane (``StreamClient``) over REST: messages, cursors and consumer groups.

Served under the same base URL as the control plane, which GetStream advertises as ``messagesEndpoint``. Semantics
live in ``streams`` and its collaborators; this module validates the wire format and renders results:

- PutMessages is the one POST the SDK signs without body headers (``enforce_content_headers=False``), so its route
  relaxes the signature check to ``date (request-target) host``. Keys and values are base64. A malformed request
  (not JSON, no ``messages``, invalid base64, a missing value) or one whose decoded keys and values exceed 1 MiB in
  total is refused whole with 400 InvalidParameter, as OCI documents a request limit. A key over 256 bytes fails
  only its own entry (``{"error": "400", "errorMessage": ...}``), the form in which OCI reports per-message
  failures such as per-partition throttling ("429").
- GetMessages takes ``cursor`` (required) and ``limit`` (1 to 10000; the default is 10000, since OCI returns "as many
  messages as possible"), answers a bare array and always sets ``opc-next-cursor``.
- Both count the message payload they carry (decoded keys and values) on the shared ``RequestCounters``, so tests
  and benchmarks can assert what a reader cost in bytes, not only in calls.
- ConsumerCommit and ConsumerHeartbeat take the cursor as a query parameter and an empty body; both answer a fresh
  Cursor. UpdateGroup answers 200 without a body.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from . import stream_render as render
from .errors import ApiError, MissingParameter
from .faults import RequestCounters
from .routing import ApiRequest, ApiResponse, Route
from .stream_settings import CURSOR_LENGTH, GROUP_NAME_LENGTH, INSTANCE_NAME_LENGTH, TIMEOUT_IN_MS, StreamLimits
from .stream_values import GROUP_CURSOR_TYPES, CursorType, NewStreamMessage
from .streams import StreamStore
from .wire import FieldReader, query_int, query_str

BASE = render.API_BASE
_CURSOR_TYPES = [kind.value for kind in CursorType]
_GROUP_TYPES = [kind.value for kind in GROUP_CURSOR_TYPES]


class StreamDataApi:
    """Handlers for the StreamClient operations."""

    def __init__(self, store: StreamStore, *, limits: StreamLimits, counters: RequestCounters | None = None) -> None:
        self._store = store
        self._limits = limits
        self._counters = counters or RequestCounters()

    def routes(self) -> list[Route]:
        stream = f"{BASE}/streams/{{streamId}}"
        return [
            Route("POST", f"{stream}/messages", "PutStreamMessages", self.put_messages, sign_body=False),
            Route("GET", f"{stream}/messages", "GetStreamMessages", self.get_messages),
            Route("POST", f"{stream}/cursors", "CreateCursor", self.create_cursor),
            Route("POST", f"{stream}/groupCursors", "CreateGroupCursor", self.create_group_cursor),
            Route("POST", f"{stream}/commit", "ConsumerCommit", self.consumer_commit),
            Route("POST", f"{stream}/heartbeat", "ConsumerHeartbeat", self.consumer_heartbeat),
            Route("GET", f"{stream}/groups/{{groupName}}", "GetGroup", self.get_group),
            Route("PUT", f"{stream}/groups/{{groupName}}", "UpdateGroup", self.update_group),
        ]

    # ------------------------------------------------------------------------------------------- handlers

    def put_messages(self, request: ApiRequest) -> ApiResponse:
        fields = FieldReader(request.json_body(), "")
        entries = fields.array("messages", required=True)
        messages: list[NewStreamMessage] = []
        if entries is not None and not entries:
            fields.problem("messages must hold at least one message")
        for index, entry in enumerate(entries or []):
            parsed = _new_message(fields, entry, f"messages[{index}]")
            if parsed is not None:
                messages.append(parsed)
        size = sum(len(m.value) + (len(m.key) if m.key is not None else 0) for m in messages)
        if size > self._limits.max_request_bytes:
            fields.problem(
                f"the request holds {size} bytes of keys and values after base64 decoding; "
                f"the limit is {self._limits.max_request_bytes}"
            )
        fields.finish()
        outcomes = self._store.put_messages(request.params["streamId"], messages)
        stored = sum(_size(m.key, m.value) for m, outcome in zip(messages, outcomes, strict=True) if _stored(outcome))
        self._counters.add_bytes("PutStreamMessages", payload=stored)
        return ApiResponse(body=render.put_result(outcomes, wall_time=self._store.wall_time))

    def get_messages(self, request: ApiRequest) -> ApiResponse:
        cursor = _cursor_param(request)
        limit = query_int(request, "limit", self._limits.get_limit) or self._limits.max_get_limit
        batch = self._store.get_messages(request.params["streamId"], cursor, limit=limit)
        wall_time = self._store.wall_time
        body = [render.message(message, wall_time=wall_time) for message in batch.messages]
        self._counters.add_bytes("GetStreamMessages", payload=sum(_size(m.key, m.value) for m in batch.messages))
        return ApiResponse(body=body, headers={"opc-next-cursor": batch.next_cursor})

    def create_cursor(self, request: ApiRequest) -> ApiResponse:
        fields = FieldReader(request.json_body(), "")
        partition = fields.string("partition", required=True)
        kind = fields.choice("type", _CURSOR_TYPES, required=True)
        offset = fields.integer("offset")
        at = fields.timestamp("time")
        if kind in ("AT_OFFSET", "AFTER_OFFSET") and offset is None:
            fields.problem(f"offset is required for a {kind} cursor")
        if kind == "AT_TIME" and at is None:
            fields.problem("time is required for an AT_TIME cursor")
        fields.finish()
        assert partition is not None
        assert kind is not None
        token = self._store.create_cursor(request.params["streamId"], partition, CursorType(kind), offset=offset, at=at)
        return ApiResponse(body=render.cursor(token))

    def create_group_cursor(self, request: ApiRequest) -> ApiResponse:
        fields = FieldReader(request.json_body(), "")
        group_name = fields.string("groupName", required=True, length=GROUP_NAME_LENGTH)
        kind = fields.choice("type", _GROUP_TYPES, required=True)
        at = fields.timestamp("time")
        instance_name = fields.string("instanceName", length=INSTANCE_NAME_LENGTH)
        timeout_ms = fields.integer("timeoutInMs", bounds=TIMEOUT_IN_MS)
        commit_on_get = fields.boolean("commitOnGet")
        if kind == "AT_TIME" and at is None:
            fields.problem("time is required for an AT_TIME cursor")
        fields.finish()
        assert group_name is not None
        assert kind is not None
        token = self._store.create_group_cursor(
            request.params["streamId"],
            group_name,
            CursorType(kind),
            at=at,
            instance_name=instance_name,
            timeout_ms=timeout_ms,
            commit_on_get=True if commit_on_get is None else commit_on_get,
        )
        return ApiResponse(body=render.cursor(token))

    def consumer_commit(self, request: ApiRequest) -> ApiResponse:
        token = self._store.consumer_commit(request.params["streamId"], _cursor_param(request))
        return ApiResponse(body=render.cursor(token))

    def consumer_heartbeat(self, request: ApiRequest) -> ApiResponse:
        token = self._store.consumer_heartbeat(request.params["streamId"], _cursor_param(request))
        return ApiResponse(body=render.cursor(token))

    def get_group(self, request: ApiRequest) -> ApiResponse:
        info = self._store.get_group(request.params["streamId"], request.params["groupName"])
        return ApiResponse(body=render.group(info, wall_time=self._store.wall_time))

    def update_group(self, request: ApiRequest) -> ApiResponse:
        fields = FieldReader(request.json_body(), "")
        kind = fields.choice("type", _GROUP_TYPES, required=True)
        at = fields.timestamp("time")
        if kind == "AT_TIME" and at is None:
            fields.problem("time is required to move a group to AT_TIME")
        fields.finish()
        assert kind is not None
        self._store.update_group(request.params["streamId"], request.params["groupName"], CursorType(kind), at=at)
        return ApiResponse()


def _size(key: bytes | None, value: bytes) -> int:
    return len(value) + (len(key) if key is not None else 0)


def _stored(outcome: object) -> bool:
    return not isinstance(outcome, ApiError)


def _cursor_param(request: ApiRequest) -> str:
    cursor = query_str(request, "cursor", max_length=CURSOR_LENGTH)
    if cursor is None:
        raise MissingParameter("cursor is required; create one with CreateCursor or CreateGroupCursor")
    return cursor


def _new_message(fields: FieldReader, entry: Any, where: str) -> NewStreamMessage | None:
    reader = fields.child(entry, where)
    if reader is None:
        return None
    key = _decoded(reader, "key", where, required=False)
    value = _decoded(reader, "value", where, required=True)
    return None if value is None else NewStreamMessage(value=value, key=key)


def _decoded(reader: FieldReader, name: str, where: str, *, required: bool) -> bytes | None:
    text = reader.string(name, required=required)
    if text is None:
        return None
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        reader.problem(f"{where}.{name} must be base64")
        return None
