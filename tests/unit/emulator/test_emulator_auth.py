"""Signature verification against requests signed by the OCI SDK's own signer."""

from __future__ import annotations

import pytest
from oci._vendor import requests
from oci.signer import Signer

from oci_emulator import ApiKey
from oci_emulator.auth import SignatureVerifier, SignedRequest, parse_authorization
from oci_emulator.errors import NotAuthenticated

URL = "http://127.0.0.1:12000/20210201/queues/ocid1.queue.oc1.iad.x/stats?channelId=ch+a%2Fb"


@pytest.fixture(scope="module")
def key() -> ApiKey:
    return ApiKey.generate()


@pytest.fixture(scope="module")
def other_key(key: ApiKey) -> ApiKey:
    return ApiKey.generate(tenancy=key.tenancy, user=key.user)


def signed(key: ApiKey, method: str, url: str = URL, body: bytes | None = None) -> SignedRequest:
    """Sign like the SDK does, then convert to what the server sees."""
    signer = Signer(key.tenancy, key.user, key.fingerprint, None, private_key_content=key.private_key_pem)
    prepared = requests.Request(method, url, data=body, headers={"accept": "application/json"}).prepare()
    signer(prepared)
    headers = {name.lower(): str(value) for name, value in prepared.headers.items()}
    headers.setdefault("host", "127.0.0.1:12000")
    return SignedRequest(method, prepared.path_url, headers, body or b"")


def verifier_for(key: ApiKey) -> SignatureVerifier:
    return SignatureVerifier({key.key_id: key.public_key()})


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_sdk_signed_requests_without_body_verify(key: ApiKey, method: str) -> None:
    assert verifier_for(key).verify(signed(key, method)) == key.key_id


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_sdk_signed_requests_with_body_verify(key: ApiKey, method: str) -> None:
    request = signed(key, method, body=b'{"messages":[{"content":"x"}]}')

    assert "x-content-sha256" in parse_authorization(request.headers["authorization"]).headers
    assert verifier_for(key).verify(request) == key.key_id


def test_same_key_id_with_another_private_key_is_refused(key: ApiKey, other_key: ApiKey) -> None:
    forged = ApiKey(key.tenancy, key.user, key.fingerprint, other_key.private_key_pem)

    with pytest.raises(NotAuthenticated, match="does not verify"):
        verifier_for(key).verify(signed(forged, "GET"))


def test_tampered_body_is_refused(key: ApiKey) -> None:
    request = signed(key, "POST", body=b'{"a":1}')
    tampered = SignedRequest(request.method, request.target, request.headers, b'{"a":2}')

    with pytest.raises(NotAuthenticated, match="x-content-sha256"):
        verifier_for(key).verify(tampered)


def test_changed_query_is_refused(key: ApiKey) -> None:
    request = signed(key, "GET")
    moved = SignedRequest(request.method, request.target.replace("ch+a", "ch+b"), request.headers, b"")

    with pytest.raises(NotAuthenticated, match="does not verify"):
        verifier_for(key).verify(moved)


def test_unknown_key_and_missing_header_are_refused(key: ApiKey, other_key: ApiKey) -> None:
    with pytest.raises(NotAuthenticated, match="not known"):
        verifier_for(other_key).verify(signed(key, "GET"))
    with pytest.raises(NotAuthenticated, match="no Authorization header"):
        verifier_for(key).verify(SignedRequest("GET", "/x", {}, b""))


def test_body_headers_must_be_signed_unless_the_route_relaxes_them(key: ApiKey) -> None:
    request = signed(key, "GET")
    as_post = SignedRequest("POST", request.target, request.headers, b"")

    with pytest.raises(NotAuthenticated, match="must cover the headers content-length"):
        verifier_for(key).verify(as_post)
    with pytest.raises(NotAuthenticated, match="does not verify"):  # the method is part of the signed string
        verifier_for(key).verify(as_post, sign_body=False)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Basic abc", "scheme must be 'Signature'"),
        ('Signature keyId="a"', "lacks signature"),
        ('Signature keyId="a",signature="%%%"', "not valid base64"),
        ("Signature keyId=a", 'name="value"'),
    ],
)
def test_malformed_authorization_headers(header: str, message: str) -> None:
    with pytest.raises(NotAuthenticated, match=message):
        parse_authorization(header)
