"""Message semantics of one emulated queue, stepped with explicit times (no sleeping, no HTTP)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oci_emulator.errors import InvalidParameter, NotAuthorizedOrNotFound
from oci_emulator.message_index import QueuedMessage
from oci_emulator.messages import MessageStore, NewMessage, PurgeType, QueueStats, Stats
from oci_emulator.receipts import Receipt, decode_receipt
from oci_emulator.settings import QueueSettings


def store(**settings: Any) -> MessageStore:
    return MessageStore(QueueSettings(**settings))


def put(messages: MessageStore, *contents: str, channel: str | None = None, now: float = 0.0) -> None:
    messages.put([NewMessage(content, channel) for content in contents], now)


def test_put_then_get_delivers_in_put_order_and_hides_for_the_visibility() -> None:
    messages = store(visibility_in_seconds=30)
    put(messages, "a", "b", "c")

    got = messages.get(limit=2, visibility_in_seconds=10, channel_filter=None, now=1.0)

    assert [d.content for d in got] == ["a", "b"]
    assert all(d.delivery_count == 1 and d.visible_after == 11.0 for d in got)
    assert messages.stats(None, 1.0).queue == Stats(visible_messages=1, in_flight_messages=2, size_in_bytes=3)


def test_in_flight_messages_become_visible_again_after_the_visibility_timeout() -> None:
    messages = store()
    put(messages, "a")
    first = messages.get(limit=1, visibility_in_seconds=5, channel_filter=None, now=0.0)

    assert messages.get(limit=1, visibility_in_seconds=5, channel_filter=None, now=4.9) == []
    again = messages.get(limit=1, visibility_in_seconds=5, channel_filter=None, now=5.0)

    assert [d.content for d in again] == ["a"]
    assert again[0].delivery_count == 2
    assert again[0].receipt != first[0].receipt


def test_visibility_zero_peeks_but_counts_the_delivery() -> None:
    messages = store()
    put(messages, "a")

    peeked = messages.get(limit=1, visibility_in_seconds=0, channel_filter=None, now=0.0)
    again = messages.get(limit=1, visibility_in_seconds=0, channel_filter=None, now=0.0)

    assert [d.delivery_count for d in peeked + again] == [1, 2]
    assert messages.stats(None, 0.0).queue.visible_messages == 1


def test_delete_with_current_receipt_removes_the_message() -> None:
    messages = store()
    put(messages, "a")
    (delivery,) = messages.get(limit=1, visibility_in_seconds=5, channel_filter=None, now=0.0)

    messages.delete(delivery.receipt, 1.0)

    assert messages.stats(None, 1.0).queue == Stats()
    with pytest.raises(NotAuthorizedOrNotFound):
        messages.delete(delivery.receipt, 1.0)


def test_receipt_of_an_earlier_delivery_is_stale_after_redelivery() -> None:
    messages = store()
    put(messages, "a")
    (first,) = messages.get(limit=1, visibility_in_seconds=5, channel_filter=None, now=0.0)
    (second,) = messages.get(limit=1, visibility_in_seconds=5, channel_filter=None, now=6.0)

    with pytest.raises(NotAuthorizedOrNotFound, match="redelivered"):
        messages.delete(first.receipt, 7.0)
    messages.delete(second.receipt, 7.0)


def test_malformed_receipt_is_invalid_parameter() -> None:
    with pytest.raises(InvalidParameter, match="malformed"):
        store().delete("not-a-receipt!", 0.0)


def test_receipts_round_trip_without_padding() -> None:
    token = Receipt(message_id=7, nonce=2**64 - 1).encode()

    assert "=" not in token
    assert decode_receipt(token) == Receipt(7, 2**64 - 1)
    assert decode_receipt(token[:-2]) is None
    assert decode_receipt("***") is None


def test_change_visibility_extends_or_releases_an_in_flight_message() -> None:
    messages = store()
    put(messages, "a")
    (delivery,) = messages.get(limit=1, visibility_in_seconds=5, channel_filter=None, now=0.0)

    change = messages.change_visibility(delivery.receipt, 60, 4.0)
    assert change.visible_after == 64.0
    assert messages.get(limit=1, visibility_in_seconds=5, channel_filter=None, now=10.0) == []

    messages.change_visibility(delivery.receipt, 0, 11.0)
    assert [d.content for d in messages.get(limit=1, visibility_in_seconds=5, channel_filter=None, now=11.0)] == ["a"]


def test_message_moves_to_dlq_after_the_configured_deliveries() -> None:
    messages = store(dead_letter_queue_delivery_count=2)
    put(messages, "a")
    messages.get(limit=1, visibility_in_seconds=5, channel_filter=None, now=0.0)
    messages.get(limit=1, visibility_in_seconds=5, channel_filter=None, now=5.0)

    assert messages.get(limit=1, visibility_in_seconds=5, channel_filter=None, now=10.0) == []
    stats = messages.stats(None, 10.0)
    assert stats.queue == Stats()
    assert stats.dlq == Stats(visible_messages=1, size_in_bytes=1)


def test_peeking_the_last_allowed_delivery_dead_letters_at_once() -> None:
    messages = store(dead_letter_queue_delivery_count=1)
    put(messages, "a")

    messages.get(limit=1, visibility_in_seconds=0, channel_filter=None, now=0.0)

    assert messages.stats(None, 0.0).dlq.visible_messages == 1


def test_retention_removes_messages_everywhere() -> None:
    messages = store(retention_in_seconds=100, dead_letter_queue_delivery_count=1)
    put(messages, "dead", now=0.0)
    messages.get(limit=1, visibility_in_seconds=1, channel_filter=None, now=0.0)
    put(messages, "flying", now=10.0)
    messages.get(limit=1, visibility_in_seconds=500, channel_filter=None, now=10.0)
    put(messages, "waiting", now=50.0)

    assert messages.stats(None, 99.0).queue.in_flight_messages == 1
    assert messages.stats(None, 99.0).dlq.visible_messages == 1
    after = messages.stats(None, 110.0)
    assert after.dlq == Stats()
    assert after.queue == Stats(visible_messages=1, size_in_bytes=len("waiting"))
    assert messages.stats(None, 150.0).queue == Stats()


def test_get_serves_one_channel_per_call_and_filters_exactly() -> None:
    messages = store()
    put(messages, "x1", channel="x", now=0.0)
    put(messages, "y1", "y2", channel="y", now=1.0)
    put(messages, "x2", channel="x", now=2.0)

    filtered = messages.get(limit=10, visibility_in_seconds=5, channel_filter="y", now=3.0)
    oldest = messages.get(limit=10, visibility_in_seconds=5, channel_filter=None, now=3.0)

    assert [d.content for d in filtered] == ["y1", "y2"]
    assert [d.content for d in oldest] == ["x1", "x2"]
    assert messages.get(limit=10, visibility_in_seconds=5, channel_filter="yy", now=3.0) == []


def test_stats_and_channels_per_channel() -> None:
    messages = store()
    put(messages, "aa", channel="a")
    put(messages, "bbb", "b", channel="b")
    put(messages, "none")
    messages.get(limit=1, visibility_in_seconds=5, channel_filter="b", now=0.0)

    assert messages.stats("b", 0.0).queue == Stats(visible_messages=1, in_flight_messages=1, size_in_bytes=4)
    assert messages.stats("zzz", 0.0).queue == Stats()
    assert messages.stats(None, 0.0).queue == Stats(visible_messages=3, in_flight_messages=1, size_in_bytes=10)
    assert messages.channels(0.0) == ["a", "b"]


def test_purge_by_type_and_channel() -> None:
    messages = store(dead_letter_queue_delivery_count=1)
    put(messages, "dead", channel="a")
    messages.get(limit=1, visibility_in_seconds=0, channel_filter=None, now=0.0)
    put(messages, "a", channel="a")
    put(messages, "b", channel="b")

    messages.purge(PurgeType.NORMAL, ["b"])
    assert messages.channels(0.0) == ["a"]
    messages.purge(PurgeType.DLQ)
    assert messages.stats(None, 0.0).dlq == Stats()
    messages.purge(PurgeType.BOTH)
    assert messages.stats(None, 0.0).queue == Stats()


_CHANNELS = st.sampled_from([None, "a", "b"])
_OPERATIONS = st.lists(
    st.one_of(
        st.builds(lambda channel, size: ("put", channel, size), _CHANNELS, st.integers(1, 4)),
        st.builds(lambda channel, visibility: ("get", channel, visibility), _CHANNELS, st.sampled_from([0, 1, 5])),
        st.builds(lambda pick: ("delete", pick, 0), st.integers(0, 50)),
        st.builds(lambda pick, visibility: ("update", pick, visibility), st.integers(0, 50), st.sampled_from([0, 3])),
        st.builds(lambda seconds: ("wait", None, seconds), st.integers(1, 8)),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(operations=_OPERATIONS, dlq=st.sampled_from([0, 2]))
def test_tallies_always_agree_with_a_brute_force_count(operations: list[tuple[str, Any, int]], dlq: int) -> None:
    messages = store(retention_in_seconds=20, dead_letter_queue_delivery_count=dlq)
    receipts: list[str] = []
    now = 0.0
    for kind, argument, amount in operations:
        if kind == "put":
            put(messages, "m" * amount, channel=argument, now=now)
        elif kind == "get":
            got = messages.get(limit=3, visibility_in_seconds=amount, channel_filter=argument, now=now)
            receipts += [delivery.receipt for delivery in got]
        elif kind == "wait":
            now += amount
        elif receipts:
            receipt = receipts[argument % len(receipts)]
            with contextlib.suppress(NotAuthorizedOrNotFound):
                if kind == "delete":
                    messages.delete(receipt, now)
                else:
                    messages.change_visibility(receipt, amount, now)
        assert messages.stats(None, now) == _brute_force(messages, now)


def _brute_force(messages: MessageStore, now: float) -> QueueStats:
    """Recount from the raw records (white-box: reads the store's private maps)."""
    main = list(messages._main.values())
    dlq = list(messages._dead.messages.values())

    def count(items: list[QueuedMessage]) -> Stats:
        return Stats(
            visible_messages=sum(1 for m in items if not m.in_flight),
            in_flight_messages=sum(1 for m in items if m.in_flight),
            size_in_bytes=sum(m.size for m in items),
        )

    assert all(m.expire_at > now for m in main + dlq)
    assert all(not m.in_flight or m.visible_at > now for m in main)
    return QueueStats(queue=count(main), dlq=count(dlq))
