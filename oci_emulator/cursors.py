"""Opaque Streaming cursors: signed base64url tokens carrying where a reader is.

OCI documents a cursor only as the value to pass to the next GetMessages; clients must not decode it, and the scaler
does not. The emulator keeps reading state in the token itself, as the real service appears to (a cursor can be
replayed, and a consumer commits "the offsets associated with the provided cursor"):

- a *plain* cursor names one partition and the next offset to read;
- a *group* cursor names the group, the instance, and for each partition the instance reserved, the next offset to
  read, the reservation epoch it belongs to and whether this cursor's lineage may commit it (it delivered from that
  partition, or started from a committed offset). A cursor is stale for a partition when the partition has been
  re-reserved since (new epoch) or the group was reset by UpdateGroup (new generation); the store then falls back
  to the group's committed position.

Tokens are ``base64url(json) "." base64url(hmac)``, keyed per emulator, so a token altered by hand or issued by
another emulator is refused with 400 InvalidParameter instead of reading an arbitrary offset. Tokens carry the issue
time; the store refuses them five minutes later ("cursor expired").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from .errors import InvalidParameter

_VERSION = 1
_MAC_BYTES = 16


@dataclass(frozen=True)
class Position:
    """A group cursor's state for one reserved partition."""

    partition: int
    offset: int
    """Next offset to read."""
    epoch: int
    """Reservation epoch of the partition when this position was taken."""
    committable: bool
    """Whether ConsumerCommit (or commit-on-get) may commit ``offset - 1`` for this partition."""


@dataclass(frozen=True)
class PlainCursor:
    stream_id: str
    partition: int
    offset: int
    issued_at: float


@dataclass(frozen=True)
class GroupCursor:
    stream_id: str
    group_name: str
    instance_name: str
    generation: int
    """The group incarnation (creation or last UpdateGroup) the positions belong to."""
    timeout_ms: int
    commit_on_get: bool
    positions: tuple[Position, ...]
    last_partition: int | None
    """Partition the previous GetMessages delivered from; the next one starts looking after it."""
    issued_at: float

    def position(self, partition: int) -> Position | None:
        for position in self.positions:
            if position.partition == partition:
                return position
        return None


Cursor = PlainCursor | GroupCursor


class CursorCodec:
    """Encodes and authenticates cursor tokens with a per-emulator secret."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    def encode(self, cursor: Cursor) -> str:
        document: dict[str, Any]
        if isinstance(cursor, PlainCursor):
            document = {"s": cursor.stream_id, "p": cursor.partition, "o": cursor.offset}
        else:
            document = {
                "s": cursor.stream_id,
                "g": cursor.group_name,
                "i": cursor.instance_name,
                "n": cursor.generation,
                "t": cursor.timeout_ms,
                "c": cursor.commit_on_get,
                "ps": [[p.partition, p.offset, p.epoch, int(p.committable)] for p in cursor.positions],
                "l": cursor.last_partition,
            }
        document["v"] = _VERSION
        document["at"] = cursor.issued_at
        payload = json.dumps(document, separators=(",", ":")).encode("utf-8")
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def decode(self, token: str) -> Cursor:
        """The cursor a token encodes, or raise InvalidParameter when this emulator did not issue it."""
        body, _, mac = token.partition(".")
        payload = _unb64(body)
        signature = _unb64(mac)
        if payload is None or signature is None or not hmac.compare_digest(signature, self._mac(payload)):
            raise InvalidParameter("the cursor is not valid; pass a cursor returned by this service")
        try:
            document = json.loads(payload)
            if document["v"] != _VERSION:
                raise ValueError(document["v"])
            issued_at = float(document["at"])
            if "g" not in document:
                return PlainCursor(str(document["s"]), int(document["p"]), int(document["o"]), issued_at)
            positions = tuple(Position(int(p), int(o), int(e), bool(c)) for p, o, e, c in document["ps"])
            last = document["l"]
            return GroupCursor(
                stream_id=str(document["s"]),
                group_name=str(document["g"]),
                instance_name=str(document["i"]),
                generation=int(document["n"]),
                timeout_ms=int(document["t"]),
                commit_on_get=bool(document["c"]),
                positions=positions,
                last_partition=None if last is None else int(last),
                issued_at=issued_at,
            )
        except (KeyError, TypeError, ValueError) as error:  # signed but unreadable: a version mismatch
            raise InvalidParameter("the cursor is not valid; pass a cursor returned by this service") from error

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes | None:
    try:
        return base64.b64decode((text + "=" * (-len(text) % 4)).encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
