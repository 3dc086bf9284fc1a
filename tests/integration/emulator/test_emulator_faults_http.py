"""Fault injection and counters, in process and over the unsigned control endpoints."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit

import oci
import pytest

from oci_emulator import Emulator
from tests.integration.emulator.conftest import Clients

GET_STATS = frozenset({"GetStats"})


def control(emulator: Emulator, method: str, path: str, document: object | None = None) -> tuple[int, Any]:
    url = urlsplit(emulator.url)
    assert url.hostname is not None
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        body = None if document is None else json.dumps(document).encode()
        connection.request(method, path, body=body, headers={"content-type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else None
    finally:
        connection.close()


@pytest.mark.parametrize(("status", "code"), [(429, "TooManyRequests"), (500, "InternalServerError")])
def test_injected_status_for_get_stats_only_then_success(
    emulator: Emulator, clients: Clients, status: int, code: str
) -> None:
    queue_id = emulator.create_queue("faulty")
    emulator.faults.inject(status, operations=GET_STATS, count=2)

    for _ in range(2):
        with pytest.raises(oci.exceptions.ServiceError) as error:
            clients.data.get_stats(queue_id)
        assert (error.value.status, error.value.code) == (status, code)
    clients.admin.get_queue(queue_id)  # other operations are unaffected
    assert clients.data.get_stats(queue_id).data.queue.visible_messages == 0

    assert emulator.counters.get("GetStats") == 3
    assert emulator.counters.snapshot() == {"GetStats": 3, "GetQueue": 1}


def test_a_retry_hint_is_sent_as_retry_after(emulator: Emulator, clients: Clients) -> None:
    queue_id = emulator.create_queue("hinted")

    def failure() -> tuple[int, str | None]:
        with pytest.raises(oci.exceptions.ServiceError) as error:
            clients.data.get_stats(queue_id)
        return error.value.status, error.value.headers.get("retry-after")

    emulator.faults.inject(429, operations=GET_STATS, count=1, retry_after_seconds=12)
    assert failure() == (429, "12")
    _, rule = control(emulator, "PUT", "/_emulator/faults", {"status": 429, "count": 1, "retry_after_seconds": 0.5})
    assert rule["retry_after_seconds"] == 0.5
    assert failure() == (429, "0.5")
    emulator.faults.inject(503, operations=GET_STATS, count=1)
    assert failure() == (503, None)


def test_injected_fault_never_half_applies(emulator: Emulator, clients: Clients) -> None:
    queue_id = emulator.create_queue("atomic")
    emulator.faults.inject(503, operations=frozenset({"PutMessages"}), count=1)
    details = oci.queue.models.PutMessagesDetails(messages=[oci.queue.models.PutMessagesDetailsEntry(content="x")])

    with pytest.raises(oci.exceptions.ServiceError) as error:
        clients.data.put_messages(queue_id, details)

    assert (error.value.status, error.value.code) == (503, "ServiceUnavailable")
    assert clients.data.get_stats(queue_id).data.queue.visible_messages == 0


def test_latency(emulator: Emulator, clients: Clients) -> None:
    queue_id = emulator.create_queue("slow")
    emulator.faults.inject(latency_seconds=0.3, operations=GET_STATS, count=1)

    started = time.monotonic()
    clients.data.get_stats(queue_id)
    slow = time.monotonic() - started
    started = time.monotonic()
    clients.data.get_stats(queue_id)
    fast = time.monotonic() - started

    assert slow >= 0.3
    assert fast < 0.25


def test_reset_connection_gives_no_response(emulator: Emulator, clients: Clients) -> None:
    queue_id = emulator.create_queue("reset")
    emulator.faults.inject(reset_connection=True, operations=GET_STATS, count=1)

    with pytest.raises((oci.exceptions.RequestException, oci.exceptions.ConnectTimeout)):
        clients.data.get_stats(queue_id)
    assert clients.data.get_stats(queue_id).status == 200


def test_control_endpoints(emulator: Emulator, clients: Clients) -> None:
    queue_id = emulator.create_queue("remote")

    assert control(emulator, "GET", "/_emulator/health") == (200, {"status": "ok"})
    status, rule = control(
        emulator, "PUT", "/_emulator/faults", {"status": 429, "operations": ["GetStats"], "count": 1}
    )
    assert status == 200
    assert rule["code"] == "TooManyRequests"
    assert control(emulator, "GET", "/_emulator/faults")[1]["faults"][0]["count"] == 1

    with pytest.raises(oci.exceptions.ServiceError):
        clients.data.get_stats(queue_id)
    clients.data.get_stats(queue_id)
    assert control(emulator, "GET", "/_emulator/counters") == (200, {"counters": {"GetStats": 2}})

    assert control(emulator, "POST", "/_emulator/counters/reset") == (204, None)
    assert control(emulator, "GET", "/_emulator/counters")[1] == {"counters": {}}

    control(emulator, "PUT", "/_emulator/faults", {"status": 500})
    assert control(emulator, "DELETE", "/_emulator/faults") == (204, None)
    assert control(emulator, "GET", "/_emulator/faults")[1] == {"faults": []}

    status, error = control(emulator, "PUT", "/_emulator/faults", {"status": 500, "operations": ["Nope"], "x": 1})
    assert status == 400
    assert "unknown fault fields ['x']" in error["message"]
    status, error = control(emulator, "PUT", "/_emulator/faults", {"operations": ["Nope"]})
    assert status == 400
    assert "unknown operations ['Nope']" in error["message"]
