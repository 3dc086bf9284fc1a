"""Opaque message receipts: base64url tokens naming one delivery of one message.

OCI documents a receipt only as "a base64urlencode opaque token" that DeleteMessage and UpdateMessage accept. The
emulator binds a receipt to a single delivery by packing the message id with a random per-delivery nonce, so a
consumer holding the receipt of an earlier delivery cannot delete or extend a message that has since been redelivered
to someone else (the emulator answers 404, as for a message that no longer exists). Tokens carry no padding, so they
are safe as a URL path segment without escaping.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass

_VERSION = 1
_LAYOUT = struct.Struct(">BQQ")


@dataclass(frozen=True)
class Receipt:
    """The decoded content of a receipt token."""

    message_id: int
    nonce: int

    def encode(self) -> str:
        raw = _LAYOUT.pack(_VERSION, self.message_id, self.nonce)
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_receipt(token: str) -> Receipt | None:
    """The receipt a token encodes, or None when the token was not issued by this emulator."""
    padded = token + "=" * (-len(token) % 4)
    try:
        raw = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    if len(raw) != _LAYOUT.size:
        return None
    version, message_id, nonce = _LAYOUT.unpack(raw)
    if version != _VERSION:
        return None
    return Receipt(message_id=message_id, nonce=nonce)
