"""The real QueueAdminClient over HTTP against the emulator."""

from __future__ import annotations

import oci
import pytest
from oci.queue.models import CreateQueueDetails, PurgeQueueDetails, UpdateQueueDetails

from oci_emulator import ApiKey, Emulator
from tests.integration.emulator.conftest import Clients, MakeClients


def create_details(emulator: Emulator, name: str, **extra: object) -> CreateQueueDetails:
    return CreateQueueDetails(display_name=name, compartment_id=emulator.compartment_id, **extra)


def test_create_and_wait_for_state_then_get_and_list(emulator_api_key: ApiKey, make_clients: MakeClients) -> None:
    with Emulator(create_delay_seconds=0.3, api_key=emulator_api_key) as emulator:
        clients = make_clients(emulator.oci_config, emulator.url)
        details = create_details(emulator, "orders", visibility_in_seconds=45, dead_letter_queue_delivery_count=3)

        result = clients.composite.create_queue_and_wait_for_state(
            details, wait_for_states=["SUCCEEDED"], waiter_kwargs={"max_interval_seconds": 0.1, "max_wait_seconds": 5}
        )

        work_request = result.data
        assert (work_request.operation_type, work_request.status) == ("CREATE_QUEUE", "SUCCEEDED")
        assert work_request.time_finished >= work_request.time_accepted
        queue_id = work_request.resources[0].identifier
        queue = clients.admin.get_queue(queue_id).data
        assert queue.lifecycle_state == "ACTIVE"
        assert queue.display_name == "orders"
        assert queue.messages_endpoint == emulator.url
        assert (queue.visibility_in_seconds, queue.dead_letter_queue_delivery_count) == (45, 3)
        assert (queue.retention_in_seconds, queue.timeout_in_seconds) == (86400, 30)

        listed = clients.admin.list_queues(compartment_id=emulator.compartment_id, display_name="orders").data
        assert [summary.id for summary in listed.items] == [queue_id]


def test_queue_is_creating_before_its_work_request_succeeds(
    emulator_api_key: ApiKey, make_clients: MakeClients
) -> None:
    with Emulator(create_delay_seconds=30, api_key=emulator_api_key) as emulator:
        clients = make_clients(emulator.oci_config, emulator.url)
        response = clients.admin.create_queue(create_details(emulator, "slow"))

        assert response.status == 202
        assert response.data is None
        work_request = clients.admin.get_work_request(response.headers["opc-work-request-id"]).data
        assert work_request.status in ("ACCEPTED", "IN_PROGRESS")
        queue = clients.admin.get_queue(work_request.resources[0].identifier).data
        assert queue.lifecycle_state == "CREATING"
        with pytest.raises(oci.exceptions.ServiceError) as error:
            clients.data.get_stats(queue.id)
        assert (error.value.status, error.value.code) == (409, "IncorrectState")


def test_list_queues_pages_with_opc_next_page(emulator: Emulator, clients: Clients) -> None:
    for name in ("c", "a", "b"):
        emulator.create_queue(name)

    first = clients.admin.list_queues(compartment_id=emulator.compartment_id, limit=2, sort_by="displayName")
    everything = oci.pagination.list_call_get_all_results(
        clients.admin.list_queues, compartment_id=emulator.compartment_id, limit=1, sort_by="displayName"
    )

    assert [item.display_name for item in first.data.items] == ["a", "b"]
    assert first.next_page is not None
    assert [item.display_name for item in everything.data] == ["a", "b", "c"]


def test_update_purge_and_delete(emulator: Emulator, clients: Clients) -> None:
    queue_id = emulator.create_queue("work")

    clients.admin.update_queue(queue_id, UpdateQueueDetails(display_name="renamed", visibility_in_seconds=7))
    queue = clients.admin.get_queue(queue_id).data
    assert (queue.display_name, queue.visibility_in_seconds) == ("renamed", 7)

    purged = clients.admin.purge_queue(queue_id, PurgeQueueDetails(purge_type="BOTH"))
    assert purged.status == 202
    assert clients.admin.get_work_request(purged.headers["opc-work-request-id"]).data.operation_type == "PURGE_QUEUE"

    deleted = clients.composite.delete_queue_and_wait_for_state(
        queue_id, wait_for_states=["SUCCEEDED"], waiter_kwargs={"max_interval_seconds": 0.1, "max_wait_seconds": 5}
    )
    assert deleted.data.resources[0].action_type == "DELETED"
    assert clients.admin.get_queue(queue_id).data.lifecycle_state == "DELETED"
    assert clients.admin.list_queues(compartment_id=emulator.compartment_id).data.items == []


def test_unknown_queue_is_404(clients: Clients) -> None:
    with pytest.raises(oci.exceptions.ServiceError) as error:
        clients.admin.get_queue("ocid1.queue.oc1.iad.doesnotexist")

    assert (error.value.status, error.value.code) == (404, "NotAuthorizedOrNotFound")
    assert error.value.request_id


def test_invalid_create_reports_every_problem(emulator: Emulator, clients: Clients) -> None:
    details = create_details(emulator, "x" * 300, retention_in_seconds=1, timeout_in_seconds=31)

    with pytest.raises(oci.exceptions.ServiceError) as error:
        clients.admin.create_queue(details)

    assert (error.value.status, error.value.code) == (400, "InvalidParameter")
    for fragment in ("displayName must be 1 to 255", "retentionInSeconds must be between", "timeoutInSeconds"):
        assert fragment in error.value.message


def test_unknown_compartment_is_404(clients: Clients) -> None:
    details = CreateQueueDetails(display_name="x", compartment_id="ocid1.compartment.oc1..elsewhere")

    with pytest.raises(oci.exceptions.ServiceError) as error:
        clients.admin.create_queue(details)

    assert error.value.status == 404
