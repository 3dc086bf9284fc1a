"""The ``partitionLimitation`` value: which partitions of a stream a trigger counts, as ids and ranges.

Parsing it is kept apart from ``scaler.metadata`` (as ``scaler.queue_ids`` is) only so that module stays one screenful
of declarations; ``scaler.metadata`` imports it for the key's ``Param`` and is its only reader.
"""

from __future__ import annotations

from scaler.params import quote


def parse_partitions(text: str) -> tuple[str, ...]:
    """``"0,2,4-6"`` → ``("0", "2", "4", "5", "6")``; the order and duplicates of the input do not matter."""
    found: set[int] = set()
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        low, dash, high = item.partition("-")
        try:
            first = int(low, 10)
            last = int(high, 10) if dash else first
        except ValueError:
            raise ValueError(f"expected partition ids or ranges like 0,2,4-7, got {quote(item)}") from None
        if first < 0 or last < first:
            raise ValueError(f"invalid partition range {quote(item)}")
        if last - first > 10_000:
            raise ValueError(f"partition range {quote(item)} is too large")
        found.update(range(first, last + 1))
    if not found:
        raise ValueError("expected at least one partition id")
    return tuple(str(p) for p in sorted(found))
