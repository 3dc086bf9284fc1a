"""OCI refuses a signed date more than 5 minutes from its own clock; so does the emulator, through the real SDK.

The SDK signs the real time, so the emulator's wall clock is the one moved: a client whose clock drifted is the
same request seen from the other side. The message is OCI's own, as Oracle's tools print it.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import oci
import pytest

from tests.integration.conftest import StartEmulator
from tests.integration.emulator.conftest import MakeClients

SKEW_MESSAGE = re.compile(
    r"^Date '(?P<date>[^']+)' is not within allowed clock skew\. Current '(?P<now>[^']+)', "
    r"valid datetime range: \['(?P<low>[^']+)', '(?P<high>[^']+)'\]$"
)


def _offset_clock(seconds: float) -> tuple[list[float], Callable[[], float]]:
    """A wall clock ``seconds`` ahead of the real one, remembering every reading (the emulator's "now")."""
    readings: list[float] = []

    def now() -> float:
        readings.append(time.time() + seconds)
        return readings[-1]

    return readings, now


def _epoch(text: str) -> float:
    return parsedate_to_datetime(text.replace(" UTC", " GMT")).timestamp()


@pytest.mark.parametrize("offset", [301.0, -301.0, 3 * 3600.0, -2 * 86400.0])
def test_a_signed_date_more_than_five_minutes_off_is_401_with_ocis_message(
    start_emulator: StartEmulator, make_clients: MakeClients, offset: float
) -> None:
    readings, wall_clock = _offset_clock(offset)
    emulator = start_emulator(wall_clock=wall_clock)
    queue_id = emulator.create_queue("skewed")
    clients = make_clients(emulator.oci_config, emulator.url)

    sent_before = math.floor(time.time())
    with pytest.raises(oci.exceptions.ServiceError) as refused:
        clients.data.get_stats(queue_id)
    sent_after = math.ceil(time.time())

    error = refused.value
    assert (error.status, error.code) == (401, "NotAuthenticated")
    match = SKEW_MESSAGE.match(error.message)
    assert match, error.message
    now = readings[-1]
    assert sent_before <= _epoch(match["date"]) <= sent_after  # the date the SDK signed, echoed
    assert _epoch(match["now"]) == math.floor(now)
    assert _epoch(match["low"]) == math.floor(now - 300)
    assert _epoch(match["high"]) == math.ceil(now + 300)
    assert match["now"].endswith(" UTC")
    assert emulator.counters.get("GetStats") == 1


@pytest.mark.parametrize("offset", [240.0, -240.0])
def test_a_date_within_five_minutes_is_served(
    start_emulator: StartEmulator, make_clients: MakeClients, offset: float
) -> None:
    _, wall_clock = _offset_clock(offset)
    emulator = start_emulator(wall_clock=wall_clock)
    queue_id = emulator.create_queue("close-enough")
    clients = make_clients(emulator.oci_config, emulator.url)

    assert clients.data.get_stats(queue_id).data.queue.visible_messages == 0


def test_the_skew_applies_to_every_signed_api_streaming_included(start_emulator: StartEmulator) -> None:
    _, wall_clock = _offset_clock(-600.0)
    behind = start_emulator(wall_clock=wall_clock)
    stream_id = behind.create_stream("late")
    admin = oci.streaming.StreamAdminClient(
        behind.oci_config, service_endpoint=behind.url, retry_strategy=oci.retry.NoneRetryStrategy()
    )
    try:
        with pytest.raises(oci.exceptions.ServiceError) as refused:
            admin.get_stream(stream_id)
    finally:
        admin.base_client.session.close()

    assert (refused.value.status, refused.value.code) == (401, "NotAuthenticated")
    assert SKEW_MESSAGE.match(refused.value.message), refused.value.message
