"""The Queue control plane (``QueueAdminClient``) over REST: queues and their work requests.

Create, update, delete and purge answer 202 with an ``opc-work-request-id`` header and no body, as OCI does, so the
SDK's ``QueueAdminClientCompositeOperations.*_and_wait_for_state`` helpers work unmodified. GetQueue and UpdateQueue
carry the queue's ``etag``; update, delete and purge honour ``if-match`` (``etags``). Compartments other than
the emulator's own (and the tenancy root) answer 404 NotAuthorizedOrNotFound, like a compartment the caller may not
see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from . import queue_render as render
from .errors import InvalidParameter, NotAuthorizedOrNotFound
from .etags import Conditional, etag
from .message_values import PurgeType
from .queue_values import LifecycleState, QueueInfo, QueueUpdate
from .queues import QueueStore
from .routing import ApiRequest, ApiResponse, JsonObject, Route
from .settings import (
    CHANNEL_CONSUMPTION_LIMIT,
    CHANNEL_ID_LENGTH,
    DEAD_LETTER_QUEUE_DELIVERY_COUNT,
    DISPLAY_NAME_LENGTH,
    TIMEOUT_IN_SECONDS,
    VISIBILITY_IN_SECONDS,
    IntRange,
    QueueLimits,
    QueueSettings,
)
from .wire import FieldReader, or_default, paginate, query_int, query_str, read_queue_settings

BASE = render.API_BASE
_DEFAULT_PAGE_SIZE = 100


class QueueAdminApi:
    """Handlers for the QueueAdminClient operations."""

    def __init__(
        self,
        store: QueueStore,
        *,
        compartments: frozenset[str],
        endpoint: Callable[[], str],
        limits: QueueLimits,
    ) -> None:
        self._store = store
        self._compartments = compartments
        self._endpoint = endpoint
        self._page_sizes = IntRange("limit", 1, limits.max_page_size)
        self._conditional = Conditional()

    def routes(self) -> list[Route]:
        return [
            Route("POST", f"{BASE}/queues", "CreateQueue", self.create_queue),
            Route("GET", f"{BASE}/queues", "ListQueues", self.list_queues),
            Route("GET", f"{BASE}/queues/{{queueId}}", "GetQueue", self.get_queue),
            Route("PUT", f"{BASE}/queues/{{queueId}}", "UpdateQueue", self.update_queue),
            Route("DELETE", f"{BASE}/queues/{{queueId}}", "DeleteQueue", self.delete_queue),
            Route("POST", f"{BASE}/queues/{{queueId}}/actions/purge", "PurgeQueue", self.purge_queue),
            Route("GET", f"{BASE}/workRequests/{{workRequestId}}", "GetWorkRequest", self.get_work_request),
        ]

    # ------------------------------------------------------------------------------------------- handlers

    def create_queue(self, request: ApiRequest) -> ApiResponse:
        fields = FieldReader(request.json_body(), "")
        display_name = fields.string("displayName", required=True, length=DISPLAY_NAME_LENGTH)
        compartment_id = fields.string("compartmentId", required=True)
        settings = read_queue_settings(fields)
        freeform_tags = fields.string_map("freeformTags")
        defined_tags = fields.nested_map("definedTags")
        if fields.array("capabilities"):
            fields.problem("capabilities (CONSUMER_GROUPS, LARGE_MESSAGES) are not supported by the emulator")
        fields.finish()
        assert display_name is not None
        assert compartment_id is not None
        self._check_compartment(compartment_id)
        _, work_request_id = self._store.create_queue(
            display_name=display_name,
            compartment_id=compartment_id,
            settings=settings,
            freeform_tags=freeform_tags,
            defined_tags=defined_tags,
        )
        return _accepted(work_request_id)

    def get_queue(self, request: ApiRequest) -> ApiResponse:
        body = self._rendered(request.params["queueId"])
        return ApiResponse(body=body, headers={"etag": etag(body)})

    def list_queues(self, request: ApiRequest) -> ApiResponse:
        compartment_id = query_str(request, "compartmentId")
        if compartment_id is not None:
            self._check_compartment(compartment_id)
        state_name = query_str(request, "lifecycleState")
        states = {state.value: state for state in LifecycleState}
        if state_name is not None and state_name not in states:
            raise InvalidParameter(f"lifecycleState must be one of {', '.join(states)}, got '{state_name}'")
        sort_by = query_str(request, "sortBy") or "timeCreated"
        if sort_by not in ("timeCreated", "displayName"):
            raise InvalidParameter(f"sortBy must be timeCreated or displayName, got '{sort_by}'")
        sort_order = query_str(request, "sortOrder") or ("DESC" if sort_by == "timeCreated" else "ASC")
        if sort_order not in ("ASC", "DESC"):
            raise InvalidParameter(f"sortOrder must be ASC or DESC, got '{sort_order}'")
        limit = query_int(request, "limit", self._page_sizes) or _DEFAULT_PAGE_SIZE
        found = self._store.list_queues(
            compartment_id=compartment_id,
            display_name=query_str(request, "displayName"),
            lifecycle_state=states[state_name] if state_name is not None else None,
            queue_id=query_str(request, "id"),
        )

        def key(info: QueueInfo) -> tuple[str | float, str]:
            return (info.display_name if sort_by == "displayName" else info.created_at, info.queue_id)

        found.sort(key=key, reverse=sort_order == "DESC")
        page, next_page = paginate(found, limit=limit, page=query_str(request, "page"))
        endpoint = self._endpoint()
        items = [render.queue_summary(info, endpoint=endpoint, wall_time=self._store.wall_time) for info in page]
        return ApiResponse(body={"items": items}, headers=_next_page(next_page))

    def update_queue(self, request: ApiRequest) -> ApiResponse:
        queue_id = request.params["queueId"]
        fields = FieldReader(request.json_body(), "")
        current = self._store.get_queue(queue_id).settings
        display_name = fields.string("displayName", length=DISPLAY_NAME_LENGTH)
        settings = _updated_settings(fields, current)
        freeform_tags = fields.string_map("freeformTags")
        defined_tags = fields.nested_map("definedTags")
        if fields.array("capabilities"):
            fields.problem("capabilities (CONSUMER_GROUPS, LARGE_MESSAGES) are not supported by the emulator")
        fields.finish()
        update = QueueUpdate(
            display_name=display_name, settings=settings, freeform_tags=freeform_tags, defined_tags=defined_tags
        )
        with self._conditional.write(request, lambda: self._etag(queue_id)):
            work_request_id = self._store.update_queue(queue_id, update)
            updated = self._etag(queue_id)
        return ApiResponse(status=202, headers={"opc-work-request-id": work_request_id, "etag": updated})

    def delete_queue(self, request: ApiRequest) -> ApiResponse:
        queue_id = request.params["queueId"]
        with self._conditional.write(request, lambda: self._etag(queue_id)):
            return _accepted(self._store.delete_queue(queue_id))

    def purge_queue(self, request: ApiRequest) -> ApiResponse:
        fields = FieldReader(request.json_body(), "")
        purge_type = fields.choice("purgeType", [kind.value for kind in PurgeType], required=True)
        channel_ids = fields.array("channelIds")
        if channel_ids is not None and not all(
            isinstance(channel, str) and CHANNEL_ID_LENGTH.minimum <= len(channel) <= CHANNEL_ID_LENGTH.maximum
            for channel in channel_ids
        ):
            fields.problem("channelIds must be an array of channel IDs (1 to 256 characters)")
        if fields.string("consumerGroupId") is not None:
            fields.problem("consumerGroupId: consumer groups are not supported by the emulator")
        fields.finish()
        assert purge_type is not None
        queue_id = request.params["queueId"]
        with self._conditional.write(request, lambda: self._etag(queue_id)):
            return _accepted(self._store.purge_queue(queue_id, PurgeType(purge_type), channel_ids))

    def get_work_request(self, request: ApiRequest) -> ApiResponse:
        info = self._store.get_work_request(request.params["workRequestId"])
        return ApiResponse(body=render.work_request(info, wall_time=self._store.wall_time))

    # ------------------------------------------------------------------------------------------- helpers

    def _rendered(self, queue_id: str) -> JsonObject:
        info = self._store.get_queue(queue_id)
        return render.queue(info, endpoint=self._endpoint(), wall_time=self._store.wall_time)

    def _etag(self, queue_id: str) -> str:
        return etag(self._rendered(queue_id))

    def _check_compartment(self, compartment_id: str) -> None:
        if compartment_id not in self._compartments:
            raise NotAuthorizedOrNotFound(
                f"compartment {compartment_id} not found or not authorized; the emulator serves only "
                f"{', '.join(sorted(self._compartments))}"
            )


def _accepted(work_request_id: str) -> ApiResponse:
    return ApiResponse(status=202, headers={"opc-work-request-id": work_request_id})


def _next_page(token: str | None) -> dict[str, str]:
    return {} if token is None else {"opc-next-page": token}


def _updated_settings(fields: FieldReader, current: QueueSettings) -> QueueSettings:
    """UpdateQueue's settings: each setting the request names replaces the current value, the others stay."""
    return replace(
        current,
        visibility_in_seconds=or_default(
            fields.integer("visibilityInSeconds", bounds=VISIBILITY_IN_SECONDS), current.visibility_in_seconds
        ),
        timeout_in_seconds=or_default(
            fields.integer("timeoutInSeconds", bounds=TIMEOUT_IN_SECONDS), current.timeout_in_seconds
        ),
        dead_letter_queue_delivery_count=or_default(
            fields.integer("deadLetterQueueDeliveryCount", bounds=DEAD_LETTER_QUEUE_DELIVERY_COUNT),
            current.dead_letter_queue_delivery_count,
        ),
        channel_consumption_limit=or_default(
            fields.integer("channelConsumptionLimit", bounds=CHANNEL_CONSUMPTION_LIMIT),
            current.channel_consumption_limit,
        ),
        custom_encryption_key_id=or_default(fields.string("customEncryptionKeyId"), current.custom_encryption_key_id),
    )
