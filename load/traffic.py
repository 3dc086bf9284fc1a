"""What each produced message looks like: its work class, where it is routed, and how big it is.

Both choices are pure functions of the sequence id, so a run is reproducible and the consumer side can tell from
a sequence id alone which class and size the producer meant. The class mix is spread evenly (every ``1/f``-th
message is heavy, not a random draw), so short runs carry the exact fraction asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from load.messages import HEAVY, LIGHT

_MASK64 = (1 << 64) - 1


def _unit(seq: int, seed: int) -> float:
    """A deterministic uniform number in (0, 1) for one sequence id (SplitMix64 finaliser)."""
    z = (seq * 0x9E3779B97F4A7C15 + seed * 0xBF58476D1CE4E5B9 + 0x632BE59BD9B4E019) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    z ^= z >> 31
    return (z + 0.5) / 2.0**64


@dataclass(frozen=True)
class Mix:
    """The heavy/light mix and how each class is routed.

    Queue: ``metadata.channelId`` is the class's channel (None: no channel). Streaming: the message key is the class
    name, spread over ``keys_per_class`` keys (``heavy-0`` … ``heavy-7``) so a class still uses several partitions.
    """

    heavy_fraction: float = 0.2
    heavy_channel: str | None = HEAVY
    light_channel: str | None = LIGHT
    keys_per_class: int = 8

    def __post_init__(self) -> None:
        problems = []
        if not 0.0 <= self.heavy_fraction <= 1.0:
            problems.append(f"heavy_fraction must be between 0 and 1, got {self.heavy_fraction}")
        if self.keys_per_class < 1:
            problems.append(f"keys_per_class must be >= 1, got {self.keys_per_class}")
        if problems:
            raise ValueError("; ".join(problems))

    def class_of(self, seq: int) -> str:
        """``heavy`` for an evenly spread ``heavy_fraction`` of sequence ids, else ``light``."""
        f = self.heavy_fraction
        return HEAVY if math.floor((seq + 1) * f) > math.floor(seq * f) else LIGHT

    def channel_of(self, cls: str) -> str | None:
        return self.heavy_channel if cls == HEAVY else self.light_channel

    def key_of(self, seq: int, cls: str) -> bytes:
        if self.keys_per_class == 1:
            return cls.encode()
        return f"{cls}-{seq % self.keys_per_class}".encode()


@dataclass(frozen=True)
class SizeDistribution:
    """Encoded message sizes in bytes: lognormal around ``median`` (``sigma`` 0: every message the same size).

    Sizes are clamped to ``[0, maximum]``; a size below the envelope's own length yields the bare envelope.
    """

    median: int = 256
    sigma: float = 0.0
    maximum: int = 128 * 1024
    seed: int = 0

    def __post_init__(self) -> None:
        problems = []
        if self.median < 1:
            problems.append(f"median must be >= 1 byte, got {self.median}")
        if self.sigma < 0:
            problems.append(f"sigma must be >= 0, got {self.sigma}")
        if self.maximum < self.median:
            problems.append(f"maximum ({self.maximum}) must be >= median ({self.median})")
        if problems:
            raise ValueError("; ".join(problems))

    def size_of(self, seq: int) -> int:
        if self.sigma == 0:
            return self.median
        z = NormalDist().inv_cdf(_unit(seq, self.seed))
        return max(1, min(self.maximum, round(self.median * math.exp(self.sigma * z))))
