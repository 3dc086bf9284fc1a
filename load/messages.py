"""The message body every burst-load producer writes and every reference consumer reads.

Each message carries its own sequence id and send time, so the consumer side (or the end-to-end harness) can prove
that nothing was lost and measure latency from send to done without sharing any state with the producer. The body
is compact JSON, ``{"seq": 7, "sentAt": 1700000000.25, "class": "heavy", "pad": "xxxx"}``, and the pad brings a
message to the size the run asked for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

HEAVY = "heavy"
LIGHT = "light"
CLASSES: tuple[str, ...] = (HEAVY, LIGHT)
PAD_CHAR = "x"


class EnvelopeError(ValueError):
    """A message body is not a burst-load envelope (another producer wrote to the queue or stream)."""


@dataclass(frozen=True)
class Envelope:
    """One message as burst-load writes it."""

    seq: int
    """Sequence id, unique per producer run, from 0; the no-loss check compares sets of these."""
    sent_at: float
    """Unix time (seconds) the producer handed the message to the service."""
    cls: str
    """Work class, ``heavy`` or ``light``; the consumer simulates work time per class."""
    pad: str = ""
    """Filler that brings the encoded body to the requested size."""

    def encode(self) -> str:
        body = {"seq": self.seq, "sentAt": self.sent_at, "class": self.cls, "pad": self.pad}
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str | bytes) -> Envelope:
        """Parse a body written by :meth:`encode`; raises EnvelopeError naming what is wrong."""
        try:
            body: Any = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise EnvelopeError(f"message body is not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise EnvelopeError(f"message body is not a JSON object: {str(text)[:60]!r}")
        seq, sent_at, kind, pad = body.get("seq"), body.get("sentAt"), body.get("class"), body.get("pad", "")
        problems = []
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            problems.append(f"seq must be a non-negative integer, got {seq!r}")
        if not isinstance(sent_at, int | float) or isinstance(sent_at, bool):
            problems.append(f"sentAt must be a number, got {sent_at!r}")
        if not isinstance(kind, str) or not kind:
            problems.append(f"class must be a non-empty string, got {kind!r}")
        if not isinstance(pad, str):
            problems.append(f"pad must be a string, got {type(pad).__name__}")
        if problems:
            raise EnvelopeError("not a burst-load message: " + "; ".join(problems))
        assert isinstance(seq, int)
        assert isinstance(sent_at, int | float)
        assert isinstance(kind, str)
        return cls(seq=seq, sent_at=float(sent_at), cls=kind, pad=str(pad))


def padded(*, seq: int, sent_at: float, cls: str, size: int) -> Envelope:
    """An envelope whose encoded body is ``size`` UTF-8 bytes, or as small as possible when ``size`` is smaller."""
    bare = len(Envelope(seq=seq, sent_at=sent_at, cls=cls).encode())
    return Envelope(seq=seq, sent_at=sent_at, cls=cls, pad=PAD_CHAR * max(0, size - bare))
