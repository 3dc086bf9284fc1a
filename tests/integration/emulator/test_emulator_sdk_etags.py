"""Optimistic concurrency through the real SDK: ``etag`` on reads and updates, ``if-match`` honoured with 412.

Each write is tried first with a stale or wrong tag, which must change nothing, then with the tag just read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import oci
import pytest
from oci.queue.models import PurgeQueueDetails, PutMessagesDetails, PutMessagesDetailsEntry, UpdateQueueDetails

from oci_emulator import Emulator
from tests.integration.emulator.conftest import QUIET, Clients


def refused(call: Callable[..., Any], *args: Any, **kwargs: Any) -> oci.exceptions.ServiceError:
    with pytest.raises(oci.exceptions.ServiceError) as error:
        call(*args, **kwargs)
    return error.value


def assert_no_etag_match(error: oci.exceptions.ServiceError) -> None:
    assert (error.status, error.code) == (412, "NoEtagMatch")
    assert error.message == "The ETag specified in the request does not match the ETag for the resource."


@pytest.fixture
def streams(emulator: Emulator) -> Iterator[Any]:
    client = oci.streaming.StreamAdminClient(emulator.oci_config, service_endpoint=emulator.url, **QUIET)
    yield client
    client.base_client.session.close()


def test_get_queue_carries_an_etag_that_changes_only_when_the_queue_does(emulator: Emulator, clients: Clients) -> None:
    queue_id = emulator.create_queue("tagged")
    first = clients.admin.get_queue(queue_id).headers["etag"]

    assert first
    assert clients.admin.get_queue(queue_id).headers["etag"] == first

    updated = clients.admin.update_queue(queue_id, UpdateQueueDetails(visibility_in_seconds=45), if_match=first)

    assert updated.status == 202
    assert updated.headers["etag"] != first
    assert updated.headers["etag"] == clients.admin.get_queue(queue_id).headers["etag"]


def test_update_queue_with_a_stale_etag_is_412_and_changes_nothing(emulator: Emulator, clients: Clients) -> None:
    queue_id = emulator.create_queue("contended")
    read_by_both = clients.admin.get_queue(queue_id).headers["etag"]
    clients.admin.update_queue(queue_id, UpdateQueueDetails(visibility_in_seconds=45), if_match=read_by_both)

    error = refused(
        clients.admin.update_queue, queue_id, UpdateQueueDetails(visibility_in_seconds=99), if_match=read_by_both
    )

    assert_no_etag_match(error)
    assert clients.admin.get_queue(queue_id).data.visibility_in_seconds == 45


def test_delete_queue_honours_if_match(emulator: Emulator, clients: Clients) -> None:
    queue_id = emulator.create_queue("guarded")

    assert_no_etag_match(refused(clients.admin.delete_queue, queue_id, if_match="not-the-etag"))
    current = clients.admin.get_queue(queue_id)
    assert current.data.lifecycle_state == "ACTIVE"

    assert clients.admin.delete_queue(queue_id, if_match=current.headers["etag"]).status == 202
    assert clients.admin.get_queue(queue_id).data.lifecycle_state in ("DELETING", "DELETED")


def test_purge_queue_honours_if_match(emulator: Emulator, clients: Clients) -> None:
    queue_id = emulator.create_queue("kept")
    entries = [PutMessagesDetailsEntry(content=f"m{i}") for i in range(3)]
    clients.data.put_messages(queue_id, PutMessagesDetails(messages=entries))
    purge = PurgeQueueDetails(purge_type="NORMAL")

    assert_no_etag_match(refused(clients.admin.purge_queue, queue_id, purge, if_match="not-the-etag"))
    assert clients.data.get_stats(queue_id).data.queue.visible_messages == 3

    etag = clients.admin.get_queue(queue_id).headers["etag"]
    clients.admin.purge_queue(queue_id, purge, if_match=etag)
    assert clients.data.get_stats(queue_id).data.queue.visible_messages == 0


def test_writes_without_if_match_are_unconditional(emulator: Emulator, clients: Clients) -> None:
    queue_id = emulator.create_queue("plain")

    assert clients.admin.update_queue(queue_id, UpdateQueueDetails(timeout_in_seconds=5)).status == 202
    assert clients.admin.get_queue(queue_id).data.timeout_in_seconds == 5


def test_get_stream_carries_an_etag_that_changes_with_the_stream(emulator: Emulator, streams: Any) -> None:
    stream_id = emulator.create_stream("tagged")
    first = streams.get_stream(stream_id).headers["etag"]

    assert first
    assert streams.get_stream(stream_id).headers["etag"] == first
    streams.delete_stream(stream_id, if_match=first)
    assert streams.get_stream(stream_id).headers["etag"] != first  # DELETING or DELETED now


def test_delete_stream_honours_if_match(emulator: Emulator, streams: Any) -> None:
    stream_id = emulator.create_stream("guarded")

    assert_no_etag_match(refused(streams.delete_stream, stream_id, if_match="not-the-etag"))
    current = streams.get_stream(stream_id)
    assert current.data.lifecycle_state == "ACTIVE"

    assert streams.delete_stream(stream_id, if_match=current.headers["etag"]).status == 202
    assert streams.get_stream(stream_id).data.lifecycle_state in ("DELETING", "DELETED")
