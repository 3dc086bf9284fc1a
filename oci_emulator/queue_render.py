"""Render Queue API values as the camelCase JSON the OCI SDK models expect.

Kept apart from the handlers so the admin and data-plane modules and the tests share one rendering of times and one
shape per model (``oci.queue.models`` attribute maps); ``stream_render`` does the same for Streaming.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .message_values import Delivery, QueueStats, Stats
from .queue_values import QueueInfo, WorkRequestInfo
from .routing import JsonObject
from .wire import rfc3339

WallTime = Callable[[float], datetime]

API_BASE = "/20210201"


def queue_summary(info: QueueInfo, *, endpoint: str, wall_time: WallTime) -> JsonObject:
    """QueueSummary (ListQueues items)."""
    return {
        "id": info.queue_id,
        "displayName": info.display_name,
        "compartmentId": info.compartment_id,
        "timeCreated": rfc3339(wall_time(info.created_at)),
        "timeUpdated": rfc3339(wall_time(info.updated_at)),
        "lifecycleState": info.lifecycle_state.value,
        "lifecycleDetails": "",
        "messagesEndpoint": endpoint,
        "freeformTags": dict(info.freeform_tags),
        "definedTags": {key: dict(value) for key, value in info.defined_tags.items()},
        "systemTags": {},
        "capabilities": [],
    }


def queue(info: QueueInfo, *, endpoint: str, wall_time: WallTime) -> JsonObject:
    """Queue (GetQueue)."""
    document = queue_summary(info, endpoint=endpoint, wall_time=wall_time)
    settings = info.settings
    document.update(
        {
            "retentionInSeconds": settings.retention_in_seconds,
            "visibilityInSeconds": settings.visibility_in_seconds,
            "timeoutInSeconds": settings.timeout_in_seconds,
            "deadLetterQueueDeliveryCount": settings.dead_letter_queue_delivery_count,
            "channelConsumptionLimit": settings.channel_consumption_limit,
        }
    )
    if settings.custom_encryption_key_id is not None:
        document["customEncryptionKeyId"] = settings.custom_encryption_key_id
    return document


def work_request(info: WorkRequestInfo, *, wall_time: WallTime) -> JsonObject:
    """WorkRequest (GetWorkRequest)."""
    document: JsonObject = {
        "id": info.work_request_id,
        "operationType": info.operation_type.value,
        "status": info.status.value,
        "compartmentId": info.compartment_id,
        "resources": [
            {
                "entityType": "queue",
                "actionType": info.action_type,
                "identifier": info.queue_id,
                "entityUri": f"{API_BASE}/queues/{info.queue_id}",
            }
        ],
        "percentComplete": info.percent_complete,
        "timeAccepted": rfc3339(wall_time(info.accepted_at)),
    }
    if info.status.value != "ACCEPTED":
        document["timeStarted"] = rfc3339(wall_time(info.accepted_at))
    if info.finished_at is not None:
        document["timeFinished"] = rfc3339(wall_time(info.finished_at))
    return document


def message(delivery: Delivery, *, wall_time: WallTime) -> JsonObject:
    """GetMessage (an item of GetMessages)."""
    document: JsonObject = {
        "id": delivery.message_id,
        "content": delivery.content,
        "receipt": delivery.receipt,
        "deliveryCount": delivery.delivery_count,
        "visibleAfter": rfc3339(wall_time(delivery.visible_after)),
        "expireAfter": rfc3339(wall_time(delivery.expire_after)),
        "createdAt": rfc3339(wall_time(delivery.created_at)),
    }
    if delivery.channel_id is not None:
        metadata: JsonObject = {"channelId": delivery.channel_id}
        if delivery.custom_properties:
            metadata["customProperties"] = dict(delivery.custom_properties)
        document["metadata"] = metadata
    return document


def stats(value: Stats) -> JsonObject:
    return {
        "visibleMessages": value.visible_messages,
        "inFlightMessages": value.in_flight_messages,
        "sizeInBytes": value.size_in_bytes,
    }


def queue_stats(value: QueueStats, *, channel_id: str | None) -> JsonObject:
    """QueueStats (GetStats); ``channelId`` is echoed when the request named one."""
    document: JsonObject = {"queue": stats(value.queue), "dlq": stats(value.dlq)}
    if channel_id is not None:
        document["channelId"] = channel_id
    return document
