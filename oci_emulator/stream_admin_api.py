"""The Streaming control plane (``StreamAdminClient``) over REST: CreateStream, GetStream, ListStreams, DeleteStream.

Unlike Queue, CreateStream answers 200 with the Stream body (CREATING while ``create_delay_seconds`` run, then
ACTIVE), DeleteStream answers 202 without a body (the stream is DELETING, then DELETED, its messages gone at once),
and ListStreams returns a bare JSON array paged with ``limit`` (1 to 50, default 10), ``page`` and
``opc-next-page``. ListStreams and CreateStream take exactly one of ``compartmentId`` and ``streamPoolId``, as the
API reference requires. The emulator has one stream pool (``Emulator.stream_pool_id``) in its compartment;
compartments and pools it does not serve answer 404 NotAuthorizedOrNotFound. Stream names are not required to be
unique (OCI's rule for duplicates within a pool is not emulated). GetStream carries the stream's ``etag`` and
DeleteStream honours ``if-match`` (``etags``); UpdateStream is not emulated.
"""

from __future__ import annotations

from collections.abc import Callable

from . import stream_render as render
from .errors import InvalidParameter, MissingParameter, NotAuthorizedOrNotFound
from .etags import Conditional, etag
from .routing import ApiRequest, ApiResponse, JsonObject, Route
from .stream_settings import DEFAULT_LIST_LIMIT, LIST_LIMIT, RETENTION_IN_HOURS, STREAM_NAME_LENGTH, StreamLimits
from .stream_values import StreamInfo, StreamState
from .streams import StreamStore
from .wire import FieldReader, or_default, paginate, query_int, query_str

BASE = render.API_BASE


class StreamAdminApi:
    """Handlers for the StreamAdminClient stream operations."""

    def __init__(
        self,
        store: StreamStore,
        *,
        compartments: frozenset[str],
        stream_pool_id: str,
        pool_compartment_id: str,
        endpoint: Callable[[], str],
        limits: StreamLimits,
    ) -> None:
        self._store = store
        self._compartments = compartments
        self._pool_id = stream_pool_id
        self._pool_compartment = pool_compartment_id
        self._endpoint = endpoint
        self._partitions = limits.partitions
        self._conditional = Conditional()

    def routes(self) -> list[Route]:
        return [
            Route("POST", f"{BASE}/streams", "CreateStream", self.create_stream),
            Route("GET", f"{BASE}/streams", "ListStreams", self.list_streams),
            Route("GET", f"{BASE}/streams/{{streamId}}", "GetStream", self.get_stream),
            Route("DELETE", f"{BASE}/streams/{{streamId}}", "DeleteStream", self.delete_stream),
        ]

    # ------------------------------------------------------------------------------------------- handlers

    def create_stream(self, request: ApiRequest) -> ApiResponse:
        fields = FieldReader(request.json_body(), "")
        name = fields.string("name", required=True, length=STREAM_NAME_LENGTH)
        partitions = fields.integer("partitions", required=True, bounds=self._partitions)
        retention = or_default(fields.integer("retentionInHours", bounds=RETENTION_IN_HOURS), 24)
        compartment_id = fields.string("compartmentId")
        pool_id = fields.string("streamPoolId")
        if compartment_id is not None and pool_id is not None:
            fields.problem("compartmentId and streamPoolId exclude each other; give one")
        freeform_tags = fields.string_map("freeformTags")
        defined_tags = fields.nested_map("definedTags")
        fields.finish()
        if compartment_id is None and pool_id is None:
            raise MissingParameter("one of compartmentId and streamPoolId is required")
        assert name is not None
        assert partitions is not None
        compartment_id = self._scope(compartment_id, pool_id)
        info = self._store.create_stream(
            name=name,
            compartment_id=compartment_id,
            stream_pool_id=self._pool_id,
            partitions=partitions,
            retention_in_hours=retention,
            freeform_tags=freeform_tags,
            defined_tags=defined_tags,
        )
        return ApiResponse(body=render.stream(info, endpoint=self._endpoint(), wall_time=self._store.wall_time))

    def get_stream(self, request: ApiRequest) -> ApiResponse:
        body = self._rendered(self._store.get_stream(request.params["streamId"]))
        return ApiResponse(body=body, headers={"etag": etag(body)})

    def list_streams(self, request: ApiRequest) -> ApiResponse:
        compartment_id = query_str(request, "compartmentId")
        pool_id = query_str(request, "streamPoolId")
        if compartment_id is not None and pool_id is not None:
            raise InvalidParameter("compartmentId and streamPoolId exclude each other; give one")
        if compartment_id is None and pool_id is None:
            raise MissingParameter("one of compartmentId and streamPoolId is required")
        self._scope(compartment_id, pool_id)
        state_name = query_str(request, "lifecycleState")
        states = {state.value: state for state in StreamState}
        if state_name is not None and state_name.upper() not in states:
            raise InvalidParameter(f"lifecycleState must be one of {', '.join(states)}, got '{state_name}'")
        sort_by = query_str(request, "sortBy") or "TIMECREATED"
        if sort_by not in ("TIMECREATED", "NAME"):
            raise InvalidParameter(f"sortBy must be TIMECREATED or NAME, got '{sort_by}'")
        sort_order = (query_str(request, "sortOrder") or ("DESC" if sort_by == "TIMECREATED" else "ASC")).upper()
        if sort_order not in ("ASC", "DESC"):
            raise InvalidParameter(f"sortOrder must be ASC or DESC, got '{sort_order}'")
        limit = query_int(request, "limit", LIST_LIMIT) or DEFAULT_LIST_LIMIT
        found = self._store.list_streams(
            compartment_id=compartment_id,
            stream_pool_id=pool_id,
            name=query_str(request, "name"),
            stream_id=query_str(request, "id"),
            lifecycle_state=states[state_name.upper()] if state_name is not None else None,
        )

        def key(info: StreamInfo) -> tuple[str | float, str]:
            return (info.name if sort_by == "NAME" else info.created_at, info.stream_id)

        found.sort(key=key, reverse=sort_order == "DESC")
        page, next_page = paginate(found, limit=limit, page=query_str(request, "page"))
        endpoint = self._endpoint()
        items = [render.stream_summary(info, endpoint=endpoint, wall_time=self._store.wall_time) for info in page]
        return ApiResponse(body=items, headers={} if next_page is None else {"opc-next-page": next_page})

    def delete_stream(self, request: ApiRequest) -> ApiResponse:
        stream_id = request.params["streamId"]
        with self._conditional.write(request, lambda: etag(self._rendered(self._store.get_stream(stream_id)))):
            self._store.delete_stream(stream_id)
        return ApiResponse(status=202)

    # ------------------------------------------------------------------------------------------- helpers

    def _rendered(self, info: StreamInfo) -> JsonObject:
        return render.stream(info, endpoint=self._endpoint(), wall_time=self._store.wall_time)

    def _scope(self, compartment_id: str | None, pool_id: str | None) -> str:
        """The compartment a request addresses, or raise 404 for a compartment or pool the emulator does not serve."""
        if pool_id is not None:
            if pool_id != self._pool_id:
                raise NotAuthorizedOrNotFound(
                    f"stream pool {pool_id} not found or not authorized; the emulator serves only {self._pool_id}"
                )
            return self._pool_compartment
        assert compartment_id is not None
        if compartment_id not in self._compartments:
            raise NotAuthorizedOrNotFound(
                f"compartment {compartment_id} not found or not authorized; the emulator serves only "
                f"{', '.join(sorted(self._compartments))}"
            )
        return compartment_id
