"""Resource quantities and toleration matching, read as Kubernetes reads them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from scaler.placement import (
    parse_quantity,
    tolerates,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("2", Decimal(2)),
        (2, Decimal(2)),
        (1.5, Decimal("1.5")),
        ("1Gi", Decimal(2**30)),
        ("15G", Decimal(15 * 10**9)),
        ("1e3", Decimal(1000)),
        ("1E", Decimal(10**18)),
        ("100k", Decimal(100000)),
        ("abc", None),
        ("1e999999999", None),
        (True, None),
        (None, None),
    ],
)
def test_parse_quantity(text: Any, value: Decimal | None) -> None:
    assert parse_quantity(text) == value


def test_toleration_matching_follows_kubernetes() -> None:
    assert tolerates([{"key": "a", "operator": "Equal", "value": "b"}], "a", "b", "NoSchedule")
    assert not tolerates([{"key": "a", "value": "c"}], "a", "b", "NoSchedule")
    assert tolerates([{"key": "a", "value": "c"}], "a", None, "NoSchedule")
    assert not tolerates([{"key": "a", "operator": "Exists", "effect": "NoExecute"}], "a", "b", "NoSchedule")
    assert tolerates([{"operator": "Exists"}], "anything", "b", "NoExecute")
    assert not tolerates([{"operator": "Equal", "value": "b"}], "a", "b", "NoSchedule")
