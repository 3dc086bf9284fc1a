"""Signature checks over real HTTP: forged keys, unsigned requests, tampered bodies."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import oci
import pytest
from oci._vendor import requests
from oci.signer import Signer

from oci_emulator import ApiKey, Emulator
from tests.integration.emulator.conftest import MakeClients


def raw_request(
    emulator: Emulator, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], dict[str, Any]]:
    url = urlsplit(emulator.url)
    assert url.hostname is not None
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        payload = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(payload or b"{}")
    finally:
        connection.close()


def test_same_key_id_signed_with_another_key_is_401(emulator: Emulator, make_clients: MakeClients) -> None:
    impostor = ApiKey.generate()
    config = dict(emulator.oci_config, key_content=impostor.private_key_pem)
    clients = make_clients(config, emulator.url)
    queue_id = emulator.create_queue("guarded")

    with pytest.raises(oci.exceptions.ServiceError) as error:
        clients.data.get_stats(queue_id)

    assert (error.value.status, error.value.code) == (401, "NotAuthenticated")
    assert "does not verify" in error.value.message
    assert emulator.counters.get("GetStats") == 1


def test_unknown_identity_is_401(emulator: Emulator, make_clients: MakeClients) -> None:
    clients = make_clients(ApiKey.generate().sdk_config(), emulator.url)

    with pytest.raises(oci.exceptions.ServiceError) as error:
        clients.admin.list_queues(compartment_id=emulator.compartment_id)

    assert (error.value.status, error.value.code) == (401, "NotAuthenticated")


def test_unsigned_request_is_401_with_an_oci_error_body(emulator: Emulator) -> None:
    queue_id = emulator.create_queue("open")

    status, headers, body = raw_request(emulator, "GET", f"/20210201/queues/{queue_id}/stats")

    assert status == 401
    assert body["code"] == "NotAuthenticated"
    assert "Authorization" in body["message"]
    assert headers["content-type"] == "application/json"
    assert len(headers["opc-request-id"]) == 32


def test_tampered_body_is_401(emulator: Emulator) -> None:
    queue_id = emulator.create_queue("tamper")
    key = emulator.api_key
    signer = Signer(key.tenancy, key.user, key.fingerprint, None, private_key_content=key.private_key_pem)
    original = b'{"messages":[{"content":"pay 1"}]}'
    prepared = requests.Request("POST", f"{emulator.url}/20210201/queues/{queue_id}/messages", data=original).prepare()
    signer(prepared)
    headers = {name: str(value) for name, value in prepared.headers.items()}

    status, _, body = raw_request(emulator, "POST", prepared.path_url, original.replace(b"1", b"9"), headers)
    assert (status, body["code"]) == (401, "NotAuthenticated")
    assert "x-content-sha256" in body["message"]

    status, _, body = raw_request(emulator, "POST", prepared.path_url, original, headers)
    assert status == 200
    assert body["messages"][0]["id"] == 1


def test_unknown_path_is_404_and_request_id_is_echoed(emulator: Emulator) -> None:
    status, headers, body = raw_request(emulator, "GET", "/20210201/nothing", headers={"opc-request-id": "ABC"})

    assert (status, body["code"]) == (404, "NotAuthorizedOrNotFound")
    assert headers["opc-request-id"] == "ABC"
    assert emulator.counters.snapshot() == {}
