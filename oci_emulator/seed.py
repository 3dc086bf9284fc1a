"""Seed files: queues and streams (and their messages) that exist as soon as the emulator starts.

Demo scripts and benchmarks need queues and streams with known OCIDs before any client runs, so ``--seed FILE``
reads a JSON document and ``provisioning`` creates them directly (ACTIVE at once). Format::

    {"queues": [{"displayName": "orders",
                 "id": "ocid1.queue.oc1.iad.orders",          # optional fixed OCID
                 "compartmentId": "...",                       # optional; default the emulator's compartment
                 "retentionInSeconds": 86400, "visibilityInSeconds": 30, "timeoutInSeconds": 30,
                 "deadLetterQueueDeliveryCount": 0, "channelConsumptionLimit": 100,
                 "messages": [{"content": "hello", "channelId": "tenant-a", "customProperties": {"k": "v"}}]}],
     "streams": [{"name": "invoices",
                  "id": "ocid1.stream.oc1.iad.invoices",       # optional fixed OCID
                  "compartmentId": "...",                      # optional; default the emulator's compartment
                  "partitions": 4, "retentionInHours": 24,     # optional; defaults 1 and 24
                  "messages": [{"key": "customer-1", "value": "invoice 1"}, {"value": "no key"}]}]}

Stream message keys and values are UTF-8 text here (the REST API's base64 is for binary payloads; seeds are written
by hand). Keyed messages land where the REST API would put them. Every problem in the file is reported at once,
with its JSON location.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ApiError
from .message_values import NewMessage
from .settings import (
    CHANNEL_ID_LENGTH,
    DISPLAY_NAME_LENGTH,
    QueueLimits,
    QueueSettings,
)
from .stream_settings import RETENTION_IN_HOURS, STREAM_NAME_LENGTH, StreamLimits
from .stream_values import NewStreamMessage
from .wire import FieldReader, or_default, read_queue_settings

_QUEUE_ID = re.compile(r"^ocid1\.queue\.[A-Za-z0-9._-]+$")
_STREAM_ID = re.compile(r"^ocid1\.stream\.[A-Za-z0-9._-]+$")


class SeedError(ValueError):
    """The seed file cannot be used; the message lists every problem."""


@dataclass(frozen=True)
class SeedQueue:
    display_name: str
    queue_id: str | None
    compartment_id: str | None
    settings: QueueSettings
    messages: tuple[NewMessage, ...]


@dataclass(frozen=True)
class SeedStream:
    name: str
    stream_id: str | None
    compartment_id: str | None
    partitions: int
    retention_in_hours: int
    messages: tuple[NewStreamMessage, ...]


def load_seed(path: Path, *, limits: QueueLimits) -> list[SeedQueue]:
    """Parse and validate the queues of a seed file."""
    document = _read(path)
    fields = FieldReader(document, "")
    entries = fields.array("queues") or []
    queues = [_queue(fields, entry, f"queues[{i}]", limits) for i, entry in enumerate(entries)]
    ids = [str(entry["id"]) for entry in entries if isinstance(entry, dict) and isinstance(entry.get("id"), str)]
    duplicates = sorted({queue_id for queue_id in ids if ids.count(queue_id) > 1})
    if duplicates:
        fields.problem(f"queue ids appear more than once: {', '.join(duplicates)}")
    try:
        fields.finish()
    except ApiError as error:
        raise SeedError(f"seed file {path}: {error.message}") from error
    return [queue for queue in queues if queue is not None]


def load_stream_seed(path: Path, *, limits: StreamLimits) -> list[SeedStream]:
    """Parse and validate the streams of a seed file."""
    document = _read(path)
    fields = FieldReader(document, "")
    entries = fields.array("streams") or []
    streams = [_stream(fields, entry, f"streams[{i}]", limits) for i, entry in enumerate(entries)]
    ids = [str(entry["id"]) for entry in entries if isinstance(entry, dict) and isinstance(entry.get("id"), str)]
    duplicates = sorted({stream_id for stream_id in ids if ids.count(stream_id) > 1})
    if duplicates:
        fields.problem(f"stream ids appear more than once: {', '.join(duplicates)}")
    try:
        fields.finish()
    except ApiError as error:
        raise SeedError(f"seed file {path}: {error.message}") from error
    return [stream for stream in streams if stream is not None]


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SeedError(f"seed file {path} cannot be read: {error}") from error
    except json.JSONDecodeError as error:
        raise SeedError(f"seed file {path} is not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise SeedError(f"seed file {path} must hold a JSON object with 'queues' and/or 'streams' arrays")
    return document


def _stream(fields: FieldReader, entry: Any, where: str, limits: StreamLimits) -> SeedStream | None:
    reader = fields.child(entry, where)
    if reader is None:
        return None
    name = reader.string("name", required=True, length=STREAM_NAME_LENGTH)
    stream_id = reader.string("id")
    if stream_id is not None and not _STREAM_ID.match(stream_id):
        reader.problem(
            f"{where}.id must look like ocid1.stream.<...> (letters, digits, '.', '_', '-'), got {stream_id}"
        )
    partitions = or_default(reader.integer("partitions", bounds=limits.partitions), 1)
    retention = or_default(reader.integer("retentionInHours", bounds=RETENTION_IN_HOURS), 24)
    compartment_id = reader.string("compartmentId")
    messages = []
    for index, item in enumerate(reader.array("messages") or []):
        at = f"{where}.messages[{index}]"
        message_reader = reader.child(item, at)
        if message_reader is None:
            continue
        key = message_reader.string("key")
        value = message_reader.string("value", required=True)
        if key is not None and len(key.encode("utf-8")) > limits.max_key_bytes:
            message_reader.problem(f"{at}.key must be at most {limits.max_key_bytes} bytes")
        elif value is not None and len(value.encode("utf-8")) > limits.max_request_bytes:
            message_reader.problem(f"{at}.value must be at most {limits.max_request_bytes} bytes")
        elif value is not None:
            encoded_key = None if key is None else key.encode("utf-8")
            messages.append(NewStreamMessage(value=value.encode("utf-8"), key=encoded_key))
    if name is None:
        return None
    return SeedStream(name, stream_id, compartment_id, partitions, retention, tuple(messages))


def _queue(fields: FieldReader, entry: Any, where: str, limits: QueueLimits) -> SeedQueue | None:
    reader = fields.child(entry, where)
    if reader is None:
        return None
    display_name = reader.string("displayName", required=True, length=DISPLAY_NAME_LENGTH)
    queue_id = reader.string("id")
    if queue_id is not None and not _QUEUE_ID.match(queue_id):
        reader.problem(f"{where}.id must look like ocid1.queue.<...> (letters, digits, '.', '_', '-'), got {queue_id}")
    settings = read_queue_settings(reader)
    compartment_id = reader.string("compartmentId")
    messages = []
    for index, item in enumerate(reader.array("messages") or []):
        message_reader = reader.child(item, f"{where}.messages[{index}]")
        if message_reader is None:
            continue
        content = message_reader.string("content", required=True)
        channel_id = message_reader.string("channelId", length=CHANNEL_ID_LENGTH)
        properties = message_reader.string_map("customProperties") or {}
        if content is not None and not 1 <= len(content.encode("utf-8")) <= limits.max_message_bytes:
            message_reader.problem(f"{where}.messages[{index}].content must be 1 to {limits.max_message_bytes} bytes")
        elif content is not None:
            messages.append(NewMessage(content=content, channel_id=channel_id, custom_properties=properties))
    if display_name is None:
        return None
    return SeedQueue(display_name, queue_id, compartment_id, settings, tuple(messages))
