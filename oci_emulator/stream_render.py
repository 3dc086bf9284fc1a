"""Render Streaming API values as the camelCase JSON the OCI SDK models expect (``oci.streaming.models``).

Kept apart from the handlers so the admin and data-plane modules and the tests share one shape per model. Streaming
differs from Queue on the wire in ways clients notice: lists are bare JSON arrays, keys and values are base64, and
partitions are strings.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime

from .errors import ApiError
from .routing import JsonObject
from .stream_values import Appended, GroupInfo, StreamInfo, StreamMessage
from .wire import rfc3339

WallTime = Callable[[float], datetime]

API_BASE = "/20180418"


def stream_summary(info: StreamInfo, *, endpoint: str, wall_time: WallTime) -> JsonObject:
    """StreamSummary (ListStreams items)."""
    return {
        "id": info.stream_id,
        "name": info.name,
        "partitions": info.partitions,
        "compartmentId": info.compartment_id,
        "streamPoolId": info.stream_pool_id,
        "lifecycleState": info.lifecycle_state.value,
        "timeCreated": rfc3339(wall_time(info.created_at)),
        "messagesEndpoint": endpoint,
        "freeformTags": dict(info.freeform_tags),
        "definedTags": {key: dict(value) for key, value in info.defined_tags.items()},
    }


def stream(info: StreamInfo, *, endpoint: str, wall_time: WallTime) -> JsonObject:
    """Stream (CreateStream, GetStream)."""
    document = stream_summary(info, endpoint=endpoint, wall_time=wall_time)
    document["retentionInHours"] = info.retention_in_hours
    return document


def put_result(outcomes: list[Appended | ApiError], *, wall_time: WallTime) -> JsonObject:
    """PutMessagesResult: one entry per message, in request order."""
    entries: list[JsonObject] = []
    for outcome in outcomes:
        if isinstance(outcome, ApiError):
            entries.append({"error": str(outcome.status), "errorMessage": outcome.message})
        else:
            entries.append(
                {
                    "partition": str(outcome.partition),
                    "offset": outcome.offset,
                    "timestamp": rfc3339(wall_time(outcome.timestamp)),
                }
            )
    return {"failures": sum(1 for outcome in outcomes if isinstance(outcome, ApiError)), "entries": entries}


def message(value: StreamMessage, *, wall_time: WallTime) -> JsonObject:
    """Message (an item of GetMessages)."""
    return {
        "stream": value.stream_name,
        "partition": str(value.partition),
        "key": None if value.key is None else _b64(value.key),
        "value": _b64(value.value),
        "offset": value.offset,
        "timestamp": rfc3339(wall_time(value.timestamp)),
    }


def group(info: GroupInfo, *, wall_time: WallTime) -> JsonObject:
    """Group (GetGroup): every partition, with ``committedOffset`` null where the group never committed."""
    reservations: list[JsonObject] = []
    for reservation in info.reservations:
        document: JsonObject = {
            "partition": str(reservation.partition),
            "committedOffset": reservation.committed_offset,
        }
        if reservation.instance is not None and reservation.reserved_until is not None:
            document["reservedInstance"] = reservation.instance
            document["timeReservedUntil"] = rfc3339(wall_time(reservation.reserved_until))
        reservations.append(document)
    return {"streamId": info.stream_id, "groupName": info.group_name, "reservations": reservations}


def cursor(value: str) -> JsonObject:
    """Cursor (CreateCursor, CreateGroupCursor, ConsumerCommit, ConsumerHeartbeat)."""
    return {"value": value}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
