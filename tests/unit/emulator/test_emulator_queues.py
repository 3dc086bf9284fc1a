"""Queue registry: lifecycle, work requests and long polling, with an injected clock."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from oci_emulator import ManualClock
from oci_emulator.errors import IncorrectState, InvalidParameter, NotAuthorizedOrNotFound
from oci_emulator.messages import NewMessage
from oci_emulator.queues import LifecycleState, QueueStore, QueueUpdate, WorkRequestStatus
from oci_emulator.settings import QueueSettings

COMPARTMENT = "ocid1.compartment.oc1..test"


def create(store: QueueStore, name: str = "q", **settings: Any) -> tuple[str, str]:
    info, work_request_id = store.create_queue(
        display_name=name, compartment_id=COMPARTMENT, settings=QueueSettings(**settings)
    )
    return info.queue_id, work_request_id


def test_queue_is_creating_until_the_delay_passes_and_its_work_request_tracks_it() -> None:
    clock = ManualClock()
    store = QueueStore(clock=clock, create_delay_seconds=10)
    queue_id, work_request_id = create(store)

    assert store.get_queue(queue_id).lifecycle_state is LifecycleState.CREATING
    assert store.get_work_request(work_request_id).status is WorkRequestStatus.ACCEPTED
    with pytest.raises(IncorrectState, match="CREATING"):
        store.stats(queue_id)

    clock.advance(4)
    progress = store.get_work_request(work_request_id)
    assert progress.status is WorkRequestStatus.IN_PROGRESS
    assert progress.percent_complete == 40.0
    assert progress.action_type == "IN_PROGRESS"

    clock.advance(6)
    done = store.get_work_request(work_request_id)
    assert (done.status, done.action_type, done.queue_id) == (WorkRequestStatus.SUCCEEDED, "CREATED", queue_id)
    assert store.get_queue(queue_id).lifecycle_state is LifecycleState.ACTIVE
    assert store.stats(queue_id).queue.visible_messages == 0


def test_delete_empties_the_queue_and_hides_it_from_listings() -> None:
    clock = ManualClock()
    store = QueueStore(clock=clock, create_delay_seconds=1)
    queue_id, _ = create(store)
    clock.advance(1)
    store.put_messages(queue_id, [NewMessage("a")])

    store.delete_queue(queue_id)
    assert store.get_queue(queue_id).lifecycle_state is LifecycleState.DELETING
    with pytest.raises(IncorrectState):
        store.put_messages(queue_id, [NewMessage("b")])

    clock.advance(1)
    assert store.get_queue(queue_id).lifecycle_state is LifecycleState.DELETED
    assert store.list_queues() == []
    assert [q.queue_id for q in store.list_queues(lifecycle_state=LifecycleState.DELETED)] == [queue_id]
    with pytest.raises(NotAuthorizedOrNotFound):
        store.stats(queue_id)


def test_unknown_queue_and_work_request_are_not_found() -> None:
    store = QueueStore()
    with pytest.raises(NotAuthorizedOrNotFound):
        store.get_queue("ocid1.queue.oc1.iad.nope")
    with pytest.raises(NotAuthorizedOrNotFound):
        store.get_work_request("ocid1.queueworkrequest.oc1.iad.nope")


def test_fixed_queue_ids_must_be_unique() -> None:
    store = QueueStore()
    store.create_queue(display_name="a", compartment_id=COMPARTMENT, settings=QueueSettings(), queue_id="ocid1.queue.x")
    with pytest.raises(InvalidParameter, match="already exists"):
        store.create_queue(
            display_name="b", compartment_id=COMPARTMENT, settings=QueueSettings(), queue_id="ocid1.queue.x"
        )


def test_list_filters_by_name_compartment_and_id() -> None:
    store = QueueStore()
    first, _ = create(store, "a")
    create(store, "b")

    assert [q.display_name for q in store.list_queues(display_name="a")] == ["a"]
    assert [q.queue_id for q in store.list_queues(queue_id=first)] == [first]
    assert store.list_queues(compartment_id="ocid1.compartment.oc1..other") == []
    assert len(store.list_queues(compartment_id=COMPARTMENT)) == 2


def test_update_changes_the_default_visibility() -> None:
    clock = ManualClock()
    store = QueueStore(clock=clock)
    queue_id, _ = create(store, visibility_in_seconds=30)
    store.update_queue(queue_id, QueueUpdate(display_name="renamed", settings=QueueSettings(visibility_in_seconds=5)))
    store.put_messages(queue_id, [NewMessage("a")])

    (delivery,) = store.get_messages(queue_id, limit=1, timeout_in_seconds=0)

    assert delivery.visible_after == clock() + 5
    assert store.get_queue(queue_id).display_name == "renamed"


def test_short_poll_returns_at_once_when_empty() -> None:
    store = QueueStore()
    queue_id, _ = create(store)
    started = time.monotonic()

    assert store.get_messages(queue_id, limit=1, timeout_in_seconds=0) == []
    assert time.monotonic() - started < 0.2


def test_long_poll_returns_as_soon_as_a_message_arrives() -> None:
    store = QueueStore()
    queue_id, _ = create(store)
    timer = threading.Timer(0.2, lambda: store.put_messages(queue_id, [NewMessage("late")]))
    started = time.monotonic()
    timer.start()
    try:
        got = store.get_messages(queue_id, limit=5, timeout_in_seconds=10)
    finally:
        timer.join()

    assert [d.content for d in got] == ["late"]
    assert time.monotonic() - started < 2


def test_long_poll_notices_an_advanced_clock_and_close() -> None:
    clock = ManualClock()
    store = QueueStore(clock=clock, max_wait_slice_seconds=0.05)
    queue_id, _ = create(store)
    store.put_messages(queue_id, [NewMessage("a")])
    store.get_messages(queue_id, limit=1, visibility_in_seconds=30, timeout_in_seconds=0)
    timer = threading.Timer(0.1, lambda: clock.advance(30))
    timer.start()
    try:
        redelivered = store.get_messages(queue_id, limit=1, timeout_in_seconds=5)
    finally:
        timer.join()
    assert [d.delivery_count for d in redelivered] == [2]

    closer = threading.Timer(0.1, store.close)
    started = time.monotonic()
    closer.start()
    try:
        assert store.get_messages(queue_id, limit=1, timeout_in_seconds=20) == []
    finally:
        closer.join()
    assert time.monotonic() - started < 2


def test_long_poll_is_capped() -> None:
    store = QueueStore(max_long_poll_seconds=0.1)
    queue_id, _ = create(store, timeout_in_seconds=30)
    started = time.monotonic()

    assert store.get_messages(queue_id, limit=1) == []
    assert time.monotonic() - started < 1


def test_batch_outcomes_are_per_entry() -> None:
    store = QueueStore()
    queue_id, _ = create(store)
    store.put_messages(queue_id, [NewMessage("a"), NewMessage("b")])
    receipts = [d.receipt for d in store.get_messages(queue_id, limit=2, timeout_in_seconds=0)]

    updated = store.update_messages(queue_id, [(receipts[0], 60), ("garbage", 60)])
    deleted = store.delete_messages(queue_id, [receipts[0], receipts[0], "garbage"])

    assert isinstance(updated[1], InvalidParameter)
    assert deleted[0] is None
    assert isinstance(deleted[1], NotAuthorizedOrNotFound)
    assert isinstance(deleted[2], InvalidParameter)
