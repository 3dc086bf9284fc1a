"""The real QueueClient over HTTP against the emulator: messages, stats, channels."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import oci
import pytest
from oci.queue.models import (
    DeleteMessagesDetails,
    DeleteMessagesDetailsEntry,
    MessageMetadata,
    PurgeQueueDetails,
    PutMessagesDetails,
    PutMessagesDetailsEntry,
    UpdateMessageDetails,
    UpdateMessagesDetails,
    UpdateMessagesDetailsEntry,
)

from oci_emulator import Emulator, ManualClock
from tests.integration.emulator.conftest import Clients, MakeClients


def entry(content: str, channel: str | None = None, **properties: str) -> PutMessagesDetailsEntry:
    metadata = None if channel is None else MessageMetadata(channel_id=channel, custom_properties=properties or None)
    return PutMessagesDetailsEntry(content=content, metadata=metadata)


def put(clients: Clients, queue_id: str, *entries: PutMessagesDetailsEntry) -> Any:
    return clients.data.put_messages(queue_id, PutMessagesDetails(messages=list(entries))).data


def error_of(call: Callable[..., Any], *args: Any, **kwargs: Any) -> oci.exceptions.ServiceError:
    with pytest.raises(oci.exceptions.ServiceError) as error:
        call(*args, **kwargs)
    return error.value


def test_put_then_stats_in_total_and_per_channel(emulator: Emulator, clients: Clients) -> None:
    queue_id = emulator.create_queue("stats")

    stored = put(clients, queue_id, entry("a"), entry("bb", "tenant a/1"), entry("ccc", "tenant a/1"), entry("d", "t2"))

    assert [message.id for message in stored.messages] == [1, 2, 3, 4]
    total = clients.data.get_stats(queue_id).data
    assert (total.queue.visible_messages, total.queue.in_flight_messages, total.queue.size_in_bytes) == (4, 0, 7)
    assert total.dlq.visible_messages == 0
    assert total.channel_id is None
    per_channel = clients.data.get_stats(queue_id, channel_id="tenant a/1").data
    assert (per_channel.queue.visible_messages, per_channel.channel_id) == (2, "tenant a/1")
    assert clients.data.list_channels(queue_id).data.items == ["t2", "tenant a/1"]
    page = clients.data.list_channels(queue_id, limit=1)
    assert page.data.items == ["t2"]
    assert clients.data.list_channels(queue_id, limit=1, page=page.next_page).data.items == ["tenant a/1"]


def test_get_messages_shape_and_channel_filter(emulator: Emulator, clients: Clients) -> None:
    queue_id = emulator.create_queue("shape")
    put(clients, queue_id, entry("plain"), entry("tagged", "c1", region="iad"))

    (message,) = clients.data.get_messages(queue_id, channel_filter="c1", limit=5, timeout_in_seconds=0).data.messages

    assert (message.content, message.delivery_count) == ("tagged", 1)
    assert message.metadata.channel_id == "c1"
    assert message.metadata.custom_properties == {"region": "iad"}
    assert message.visible_after > message.created_at
    assert message.expire_after > message.visible_after
    assert "=" not in message.receipt


def test_long_poll_returns_when_a_message_arrives(
    emulator: Emulator, clients: Clients, make_clients: MakeClients
) -> None:
    queue_id = emulator.create_queue("poll")
    producer_clients = make_clients(emulator.oci_config, emulator.url)
    producer = threading.Timer(0.3, lambda: put(producer_clients, queue_id, entry("late")))
    started = time.monotonic()
    producer.start()
    try:
        messages = clients.data.get_messages(queue_id, timeout_in_seconds=20).data.messages
    finally:
        producer.join()

    assert [message.content for message in messages] == ["late"]
    assert 0.2 < time.monotonic() - started < 5


def test_visibility_timeout_in_flight_then_visible_again(
    emulator: Emulator, clients: Clients, clock: ManualClock
) -> None:
    queue_id = emulator.create_queue("visibility", visibility_in_seconds=30)
    put(clients, queue_id, entry("a"))

    (first,) = clients.data.get_messages(queue_id, timeout_in_seconds=0).data.messages
    during = clients.data.get_stats(queue_id).data.queue
    assert (during.visible_messages, during.in_flight_messages) == (0, 1)
    assert clients.data.get_messages(queue_id, timeout_in_seconds=0).data.messages == []

    clock.advance(30)
    after = clients.data.get_stats(queue_id).data.queue
    assert (after.visible_messages, after.in_flight_messages) == (1, 0)
    (second,) = clients.data.get_messages(queue_id, timeout_in_seconds=0, visibility_in_seconds=0).data.messages
    assert second.delivery_count == 2

    stale = error_of(clients.data.delete_message, queue_id, first.receipt)
    assert (stale.status, stale.code) == (404, "NotAuthorizedOrNotFound")


def test_update_and_delete_single_and_batch(emulator: Emulator, clients: Clients, clock: ManualClock) -> None:
    queue_id = emulator.create_queue("batch", visibility_in_seconds=10)
    put(clients, queue_id, entry("a"), entry("b"), entry("c"))
    received = clients.data.get_messages(queue_id, limit=3, timeout_in_seconds=0).data.messages
    receipts = [message.receipt for message in received]

    updated = clients.data.update_message(queue_id, receipts[0], UpdateMessageDetails(visibility_in_seconds=100)).data
    assert updated.id == received[0].id
    batch = clients.data.update_messages(
        queue_id,
        UpdateMessagesDetails(
            entries=[
                UpdateMessagesDetailsEntry(receipt=receipts[1], visibility_in_seconds=100),
                UpdateMessagesDetailsEntry(receipt="bogus", visibility_in_seconds=100),
            ]
        ),
    ).data
    assert (batch.client_failures, batch.server_failures) == (1, 0)
    assert batch.entries[0].id == received[1].id
    assert batch.entries[1].error_code == 400

    clock.advance(10)  # only "c" was not extended
    assert clients.data.get_stats(queue_id).data.queue.visible_messages == 1

    clients.data.delete_message(queue_id, receipts[0])
    deleted = clients.data.delete_messages(
        queue_id,
        DeleteMessagesDetails(
            entries=[DeleteMessagesDetailsEntry(receipt=receipts[1]), DeleteMessagesDetailsEntry(receipt=receipts[0])]
        ),
    ).data
    assert [e.error_code for e in deleted.entries] == [None, 404]
    assert deleted.client_failures == 1
    stats = clients.data.get_stats(queue_id).data.queue
    assert (stats.visible_messages, stats.in_flight_messages) == (1, 0)


def test_dead_letter_queue_after_the_configured_deliveries(
    emulator: Emulator, clients: Clients, clock: ManualClock
) -> None:
    queue_id = emulator.create_queue("dlq", visibility_in_seconds=5, dead_letter_queue_delivery_count=2)
    put(clients, queue_id, entry("poison", "c"))

    for _ in range(2):
        assert len(clients.data.get_messages(queue_id, timeout_in_seconds=0).data.messages) == 1
        clock.advance(5)

    assert clients.data.get_messages(queue_id, timeout_in_seconds=0).data.messages == []
    stats = clients.data.get_stats(queue_id).data
    assert (stats.queue.visible_messages, stats.dlq.visible_messages, stats.dlq.size_in_bytes) == (0, 1, 6)
    assert clients.data.get_stats(queue_id, channel_id="c").data.dlq.visible_messages == 1

    purged = clients.admin.purge_queue(queue_id, PurgeQueueDetails(purge_type="DLQ"))
    assert purged.status == 202
    assert clients.data.get_stats(queue_id).data.dlq.visible_messages == 0


def test_purge_normal_keeps_nothing_visible(emulator: Emulator, clients: Clients) -> None:
    queue_id = emulator.create_queue("purge")
    put(clients, queue_id, entry("a"), entry("b", "x"))

    clients.admin.purge_queue(queue_id, PurgeQueueDetails(purge_type="NORMAL"))

    assert clients.data.get_stats(queue_id).data.queue.visible_messages == 0
    assert clients.data.list_channels(queue_id).data.items == []


def test_request_validation_and_unknown_queue(emulator: Emulator, clients: Clients) -> None:
    queue_id = emulator.create_queue("limits")

    too_many = error_of(clients.data.get_messages, queue_id, limit=33)
    assert (too_many.status, too_many.code) == (400, "InvalidParameter")
    assert "limit must be between 1 and 32, got 33" in too_many.message
    assert error_of(clients.data.get_messages, queue_id, timeout_in_seconds=31).status == 400
    big = error_of(clients.data.put_messages, queue_id, PutMessagesDetails(messages=[entry("x" * (128 * 1024 + 1))]))
    assert "messages[0].content must be 1 to 131072 bytes" in big.message
    crowded = error_of(clients.data.put_messages, queue_id, PutMessagesDetails(messages=[entry("x")] * 21))
    assert "1 to 20 entries" in crowded.message
    missing = error_of(clients.data.get_stats, "ocid1.queue.oc1.iad.unknown")
    assert (missing.status, missing.code) == (404, "NotAuthorizedOrNotFound")
