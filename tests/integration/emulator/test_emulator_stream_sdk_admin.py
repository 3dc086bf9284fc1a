"""The real StreamAdminClient over HTTP against the emulator: lifecycle, shapes, bare-array listing and paging."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import oci
import pytest
from oci.streaming.models import CreateStreamDetails

from oci_emulator import ApiKey, Emulator, ManualClock

QUIET = {
    "retry_strategy": oci.retry.NoneRetryStrategy(),
    "circuit_breaker_strategy": oci.circuit_breaker.NoCircuitBreakerStrategy(),
}


@pytest.fixture
def admin(emulator: Emulator) -> Iterator[Any]:
    client = oci.streaming.StreamAdminClient(emulator.oci_config, service_endpoint=emulator.url, **QUIET)
    yield client
    client.base_client.session.close()


def error_of(call: Callable[..., Any], *args: Any, **kwargs: Any) -> oci.exceptions.ServiceError:
    with pytest.raises(oci.exceptions.ServiceError) as error:
        call(*args, **kwargs)
    return error.value


def test_create_stream_is_creating_then_active_with_the_documented_shape(
    emulator_api_key: ApiKey, clock: ManualClock
) -> None:
    with Emulator(clock=clock, api_key=emulator_api_key, create_delay_seconds=2.0) as emu:
        admin = oci.streaming.StreamAdminClient(emu.oci_config, service_endpoint=emu.url, **QUIET)
        try:
            details = CreateStreamDetails(
                name="invoices", partitions=4, compartment_id=emu.compartment_id, freeform_tags={"team": "billing"}
            )
            created = admin.create_stream(details)
            stream = created.data

            assert created.status == 200
            assert stream.lifecycle_state == "CREATING"
            assert (stream.name, stream.partitions, stream.retention_in_hours) == ("invoices", 4, 24)
            assert (stream.compartment_id, stream.stream_pool_id) == (emu.compartment_id, emu.stream_pool_id)
            assert stream.id.startswith("ocid1.stream.oc1.")
            assert stream.messages_endpoint == emu.url
            assert stream.freeform_tags == {"team": "billing"}
            assert stream.time_created is not None

            clock.advance(2.0)
            ready = oci.wait_until(admin, admin.get_stream(stream.id), "lifecycle_state", "ACTIVE", max_wait_seconds=5)
            assert ready.data.lifecycle_state == "ACTIVE"
            assert emu.counters.get("CreateStream") == 1
        finally:
            admin.base_client.session.close()


def test_list_streams_is_a_bare_array_paged_with_opc_next_page(
    emulator: Emulator, admin: Any, clock: ManualClock
) -> None:
    names = ["delta", "alpha", "echo", "charlie", "bravo"]
    ids = {}
    for name in names:
        ids[name] = emulator.create_stream(name, partitions=2)
        clock.advance(1.0)

    first = admin.list_streams(compartment_id=emulator.compartment_id, limit=2)
    everything = oci.pagination.list_call_get_all_results(
        admin.list_streams, compartment_id=emulator.compartment_id, limit=2
    ).data
    by_name = admin.list_streams(stream_pool_id=emulator.stream_pool_id, sort_by="NAME", limit=50).data

    assert [summary.name for summary in first.data] == ["bravo", "charlie"]  # TIMECREATED, newest first
    assert first.next_page is not None
    assert [summary.name for summary in everything] == list(reversed(names))
    assert [summary.name for summary in by_name] == sorted(names)
    summary = everything[0]
    assert (summary.partitions, summary.messages_endpoint, summary.lifecycle_state) == (2, emulator.url, "ACTIVE")
    named = admin.list_streams(compartment_id=emulator.compartment_id, name="echo").data
    assert [s.id for s in named] == [ids["echo"]]
    assert [s.name for s in admin.list_streams(compartment_id=emulator.compartment_id, id=ids["alpha"]).data] == [
        "alpha"
    ]
    assert admin.list_streams(compartment_id=emulator.compartment_id, lifecycle_state="CREATING").data == []
    assert admin.list_streams(compartment_id=emulator.api_key.tenancy).data == []


def test_delete_stream_drops_its_content_and_it_answers_deleted(emulator: Emulator, admin: Any) -> None:
    stream_id = emulator.create_stream("doomed")

    response = admin.delete_stream(stream_id)

    assert (response.status, response.data) == (202, None)
    assert admin.get_stream(stream_id).data.lifecycle_state == "DELETED"
    assert admin.list_streams(compartment_id=emulator.compartment_id).data == []
    assert len(admin.list_streams(compartment_id=emulator.compartment_id, lifecycle_state="DELETED").data) == 1
    assert error_of(admin.delete_stream, stream_id).status == 404


def test_invalid_requests_name_every_problem(emulator: Emulator, admin: Any) -> None:
    bad = CreateStreamDetails(name="x", partitions=0, retention_in_hours=200, compartment_id=emulator.compartment_id)
    both = CreateStreamDetails(
        name="x", partitions=1, compartment_id=emulator.compartment_id, stream_pool_id=emulator.stream_pool_id
    )
    elsewhere = CreateStreamDetails(name="x", partitions=1, compartment_id="ocid1.compartment.oc1..elsewhere")

    error = error_of(admin.create_stream, bad)
    assert (error.status, error.code) == (400, "InvalidParameter")
    assert "partitions must be between 1 and 50, got 0" in error.message
    assert "retentionInHours must be between 24 and 168, got 200" in error.message
    assert "exclude each other" in error_of(admin.create_stream, both).message
    missing = error_of(admin.create_stream, CreateStreamDetails(name="x", partitions=1))
    assert (missing.status, missing.code) == (400, "MissingParameter")
    assert error_of(admin.create_stream, elsewhere).status == 404
    assert error_of(admin.list_streams).code == "MissingParameter"
    assert error_of(admin.list_streams, stream_pool_id="ocid1.streampool.oc1..other").status == 404
    unknown = error_of(admin.get_stream, "ocid1.stream.oc1.iad.unknown")
    assert (unknown.status, unknown.code) == (404, "NotAuthorizedOrNotFound")
    pooled = admin.create_stream(CreateStreamDetails(name="p", partitions=1, stream_pool_id=emulator.stream_pool_id))
    assert pooled.data.compartment_id == emulator.compartment_id
