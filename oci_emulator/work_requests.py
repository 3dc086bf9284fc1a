"""Queue work requests: the asynchronous-operation records CreateQueue, UpdateQueue, DeleteQueue and PurgeQueue return.

The SDK's ``*_and_wait_for_state`` helpers poll GetWorkRequest until SUCCEEDED, so each request's progress is
derived from the injected clock (ACCEPTED at its start, IN_PROGRESS with a percentage, SUCCEEDED once its delay has
passed) rather than driven by a timer. Not thread-safe: the queue lifecycle calls it under the registry's lock.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import NotAuthorizedOrNotFound
from .ocids import new_ocid
from .queue_values import OperationType, WorkRequestInfo, WorkRequestStatus

_ACTION_TYPES = {
    OperationType.CREATE_QUEUE: "CREATED",
    OperationType.UPDATE_QUEUE: "UPDATED",
    OperationType.DELETE_QUEUE: "DELETED",
    OperationType.PURGE_QUEUE: "UPDATED",
}


@dataclass(frozen=True)
class _WorkRequest:
    work_request_id: str
    operation_type: OperationType
    compartment_id: str
    queue_id: str
    accepted_at: float
    done_at: float


class WorkRequests:
    """Every work request of the emulator's queues, by id."""

    def __init__(self, *, region_key: str) -> None:
        self._region_key = region_key
        self._requests: dict[str, _WorkRequest] = {}

    def new(self, operation: OperationType, *, compartment_id: str, queue_id: str, now: float, delay: float) -> str:
        """Record a request accepted at ``now`` that succeeds ``delay`` seconds later; returns its id."""
        request = _WorkRequest(
            work_request_id=new_ocid("queueworkrequest", region_key=self._region_key),
            operation_type=operation,
            compartment_id=compartment_id,
            queue_id=queue_id,
            accepted_at=now,
            done_at=now + delay,
        )
        self._requests[request.work_request_id] = request
        return request.work_request_id

    def info(self, work_request_id: str, now: float) -> WorkRequestInfo:
        request = self._requests.get(work_request_id)
        if request is None:
            raise NotAuthorizedOrNotFound(f"work request {work_request_id} not found")
        if now >= request.done_at:
            status, percent, finished = WorkRequestStatus.SUCCEEDED, 100.0, request.done_at
        elif now <= request.accepted_at:
            status, percent, finished = WorkRequestStatus.ACCEPTED, 0.0, None
        else:
            elapsed = (now - request.accepted_at) / (request.done_at - request.accepted_at)
            status, percent, finished = WorkRequestStatus.IN_PROGRESS, round(100.0 * elapsed, 1), None
        return WorkRequestInfo(
            work_request_id=request.work_request_id,
            operation_type=request.operation_type,
            status=status,
            compartment_id=request.compartment_id,
            queue_id=request.queue_id,
            action_type=_ACTION_TYPES[request.operation_type] if finished is not None else "IN_PROGRESS",
            percent_complete=percent,
            accepted_at=request.accepted_at,
            finished_at=finished,
        )
