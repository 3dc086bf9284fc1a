"""Metric names: stable across calls, unique per source, and valid HPA path segments.

The HPA is built once from GetMetricSpec, so a name must never change while the metadata is the same; it must
match ``^[A-Za-z0-9][A-Za-z0-9._-]*$`` (no ``/`` or ``%``). A readable tail of the OCID helps operators; a short
hash of the full identity keeps names unique when tails collide.
"""

from __future__ import annotations

import hashlib
import re

from scaler.metadata import QueueRef, QueueSetRef, TriggerRef
from scaler.values import SourceKind

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe(text: str, limit: int) -> str:
    return _UNSAFE.sub("-", text).strip("-.")[:limit] or "x"


def metric_name(ref: TriggerRef) -> str:
    if isinstance(ref, QueueSetRef):
        queues = ",".join(f"{q.queue_id}:{q.channel_id or ''}" for q in ref.queues)
        identity = f"{SourceKind.QUEUE}|set|{ref.operation}|{queues}"
        first = ref.queues[0].queue_id.rsplit(".", 1)[-1][-12:]
        parts = ["oci-queues", f"{len(ref.queues)}x", ref.operation.value, _safe(first, 12)]
    elif isinstance(ref, QueueRef):
        identity = f"{SourceKind.QUEUE}|{ref.queue_id}|{ref.channel_id or ''}"
        parts = [SourceKind.QUEUE.value, _safe(ref.queue_id.rsplit(".", 1)[-1][-12:], 12)]
        if ref.channel_id:
            parts.append("ch-" + _safe(ref.channel_id, 32))
    else:
        identity = f"{SourceKind.STREAMING}|{ref.stream_id}|{ref.group_name}|{ref.partitions}"
        parts = ["oci-stream", _safe(ref.stream_id.rsplit(".", 1)[-1][-12:], 12), "g-" + _safe(ref.group_name, 32)]
    digest = hashlib.sha256(identity.encode()).hexdigest()[:8]
    return "-".join([*parts, digest])
