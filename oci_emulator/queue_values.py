"""The values the queue store hands out and takes in: lifecycle and work-request states, snapshots, updates.

They sit apart from the store so that its collaborators (registry, lifecycle, messaging), the REST handlers and
the renderers share one definition without importing the store itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from .settings import QueueSettings


class LifecycleState(Enum):
    CREATING = "CREATING"
    UPDATING = "UPDATING"
    ACTIVE = "ACTIVE"
    DELETING = "DELETING"
    DELETED = "DELETED"
    FAILED = "FAILED"
    INACTIVE = "INACTIVE"


class OperationType(Enum):
    CREATE_QUEUE = "CREATE_QUEUE"
    UPDATE_QUEUE = "UPDATE_QUEUE"
    DELETE_QUEUE = "DELETE_QUEUE"
    PURGE_QUEUE = "PURGE_QUEUE"


class WorkRequestStatus(Enum):
    ACCEPTED = "ACCEPTED"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"


@dataclass(frozen=True)
class QueueInfo:
    """A snapshot of one queue's control-plane record. Times are on the store's clock; see ``wall_time``."""

    queue_id: str
    display_name: str
    compartment_id: str
    lifecycle_state: LifecycleState
    settings: QueueSettings
    created_at: float
    updated_at: float
    freeform_tags: Mapping[str, str]
    defined_tags: Mapping[str, Mapping[str, object]]


@dataclass(frozen=True)
class WorkRequestInfo:
    """A snapshot of one work request, with status derived from the clock."""

    work_request_id: str
    operation_type: OperationType
    status: WorkRequestStatus
    compartment_id: str
    queue_id: str
    action_type: str
    percent_complete: float
    accepted_at: float
    finished_at: float | None


@dataclass(frozen=True)
class QueueUpdate:
    """UpdateQueue: fields left None keep their value."""

    display_name: str | None = None
    settings: QueueSettings | None = None
    freeform_tags: Mapping[str, str] | None = None
    defined_tags: Mapping[str, Mapping[str, object]] | None = None
