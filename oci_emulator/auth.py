"""Verify OCI API-key request signatures exactly as the OCI SDK produces them.

Other OCI emulators accept any ``Authorization`` header, so a client that builds its signer wrongly (wrong key file,
a workload-identity signer without a config, a proxy that rewrites the path) passes every test and fails on its
first call to real OCI. Verifying the draft-cavage HTTP signature here catches those mistakes locally.

The SDK signs ``date (request-target) host`` on every request and adds ``content-length content-type
x-content-sha256`` on POST/PUT/PATCH (``Signer`` in ``oci/signer.py``); ``(request-target)`` is the lower-case method,
a space and the path with query exactly as sent. The key id is ``<tenancy>/<user>/<fingerprint>``; the fingerprint is
not checked against the key, just as OCI looks the key up by id.

The signed ``date`` must be within 5 minutes of the emulator's wall clock, as OCI requires: a replayed request, or
a client on a machine whose clock drifted, gets OCI's 401 and its message here rather than in production. That
clock is the real time (injectable for tests), never the emulator's service clock, which tests move by hours.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import hmac
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from .errors import NotAuthenticated

_PARAMETER = re.compile(r'\s*([A-Za-z]+)="([^"]*)"\s*(?:,|$)')
GENERIC_HEADERS = ("date", "(request-target)", "host")
BODY_HEADERS = ("content-length", "content-type", "x-content-sha256")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
MAX_CLOCK_SKEW_SECONDS: Final = 300.0
"""How far the signed date may be from the service's clock, either way ("more than 5 minutes" is refused)."""


@dataclass(frozen=True)
class SignatureParameters:
    """The parsed ``Authorization: Signature ...`` header."""

    key_id: str
    algorithm: str
    headers: tuple[str, ...]
    signature: bytes


@dataclass(frozen=True)
class SignedRequest:
    """What a verifier needs from an HTTP request. ``headers`` keys are lower-case; ``target`` is the raw path+query."""

    method: str
    target: str
    headers: Mapping[str, str]
    body: bytes


def parse_authorization(value: str | None) -> SignatureParameters:
    """Parse a Signature authorization header, or raise NotAuthenticated saying what is missing."""
    if not value:
        raise NotAuthenticated(
            "the request has no Authorization header; sign it with an OCI API key (the SDK does so when built "
            "from the emulator's config)"
        )
    scheme, _, rest = value.partition(" ")
    if scheme.lower() != "signature":
        raise NotAuthenticated(f"the Authorization scheme must be 'Signature', got '{scheme}'")
    parameters: dict[str, str] = {}
    position = 0
    while position < len(rest):
        match = _PARAMETER.match(rest, position)
        if match is None:
            raise NotAuthenticated('the Authorization header is not a list of name="value" parameters')
        parameters[match.group(1)] = match.group(2)
        position = match.end()
    missing = [name for name in ("keyId", "signature") if name not in parameters]
    if missing:
        raise NotAuthenticated(f"the Authorization header lacks {', '.join(missing)}")
    try:
        signature = base64.b64decode(parameters["signature"], validate=True)
    except (binascii.Error, ValueError) as error:
        raise NotAuthenticated("the Authorization signature is not valid base64") from error
    return SignatureParameters(
        key_id=parameters["keyId"],
        algorithm=parameters.get("algorithm", "rsa-sha256"),
        headers=tuple(parameters.get("headers", "date").lower().split()),
        signature=signature,
    )


def signing_string(parameters: SignatureParameters, request: SignedRequest) -> bytes:
    """The exact byte string the client must have signed."""
    lines = []
    for name in parameters.headers:
        if name == "(request-target)":
            lines.append(f"(request-target): {request.method.lower()} {request.target}")
            continue
        value = request.headers.get(name)
        if value is None:
            raise NotAuthenticated(f"the signature covers header '{name}', which the request does not carry")
        lines.append(f"{name}: {value}")
    return "\n".join(lines).encode("utf-8")


def _utc(instant: float) -> str:
    """An instant the way OCI writes it in its clock-skew message: ``Sun, 11 Mar 2018 16:39:04 UTC``."""
    return email.utils.formatdate(instant, usegmt=True).replace(" GMT", " UTC")


def check_date(value: str | None, now: float, *, max_skew: float = MAX_CLOCK_SKEW_SECONDS) -> None:
    """Refuse a signed ``date`` more than ``max_skew`` seconds from ``now`` (epoch seconds) with OCI's message.

    OCI prints the window with the current time rounded down and its ends rounded outwards, to whole seconds.
    """
    if value is None:
        raise NotAuthenticated("the request has no date header; OCI requires a signed date")
    try:
        sent = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError) as error:
        raise NotAuthenticated(
            f"the date header '{value}' is not an HTTP date such as 'Sun, 06 Nov 1994 08:49:37 GMT'"
        ) from error
    if sent.tzinfo is None:  # "-0000" (or no zone) means UTC in HTTP dates; never the emulator's local zone
        sent = sent.replace(tzinfo=UTC)
    at = sent.timestamp()
    if now - max_skew <= at <= now + max_skew:
        return
    raise NotAuthenticated(
        f"Date '{_utc(at)}' is not within allowed clock skew. Current '{_utc(math.floor(now))}', valid datetime "
        f"range: ['{_utc(math.floor(now - max_skew))}', '{_utc(math.ceil(now + max_skew))}']"
    )


class SignatureVerifier:
    """Checks requests against a fixed set of API keys (key id to RSA public key) and the service's wall clock."""

    def __init__(
        self,
        keys: Mapping[str, RSAPublicKey],
        *,
        wall_clock: Callable[[], float] = time.time,
        max_skew_seconds: float = MAX_CLOCK_SKEW_SECONDS,
    ) -> None:
        """``wall_clock``: epoch seconds the signed date is compared with (a test skews it instead of the client)."""
        self._keys = dict(keys)
        self._wall_clock = wall_clock
        self._max_skew = max_skew_seconds

    def verify(self, request: SignedRequest, *, sign_body: bool = True) -> str:
        """Return the key id that signed ``request``, or raise NotAuthenticated.

        ``sign_body=False`` relaxes the body headers for operations the SDK signs without them.
        """
        parameters = parse_authorization(request.headers.get("authorization"))
        if parameters.algorithm != "rsa-sha256":
            raise NotAuthenticated(f"signature algorithm must be rsa-sha256, got '{parameters.algorithm}'")
        key = self._keys.get(parameters.key_id)
        if key is None:
            raise NotAuthenticated(
                f"keyId '{parameters.key_id}' is not known to the emulator; use the config the emulator wrote "
                "(Emulator.oci_config or --write-config)"
            )
        required = list(GENERIC_HEADERS)
        if sign_body and request.method.upper() in _BODY_METHODS:
            required += BODY_HEADERS
        unsigned = [name for name in required if name not in parameters.headers]
        if unsigned:
            raise NotAuthenticated(f"the signature must cover the headers {' '.join(unsigned)}")
        check_date(request.headers.get("date"), self._wall_clock(), max_skew=self._max_skew)
        self._check_body(parameters, request)
        try:
            key.verify(parameters.signature, signing_string(parameters, request), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as error:
            raise NotAuthenticated(
                f"the signature does not verify with the public key of keyId '{parameters.key_id}': the request "
                "was signed with another private key, or altered after signing"
            ) from error
        return parameters.key_id

    @staticmethod
    def _check_body(parameters: SignatureParameters, request: SignedRequest) -> None:
        if "x-content-sha256" in parameters.headers:
            digest = base64.b64encode(hashlib.sha256(request.body).digest()).decode("ascii")
            if not hmac.compare_digest(digest, request.headers.get("x-content-sha256", "")):
                raise NotAuthenticated("x-content-sha256 does not match the SHA-256 of the request body")
        if "content-length" in parameters.headers and request.headers.get("content-length") != str(len(request.body)):
            raise NotAuthenticated("content-length does not match the length of the request body")
