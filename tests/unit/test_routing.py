"""Spill-over split: table and properties (sums, caps, virtual hands back first)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaler.routing import Split, split

caps = st.one_of(st.none(), st.integers(min_value=0, max_value=500))


@pytest.mark.parametrize(
    ("total", "managed_cap", "virtual_cap", "ready", "managed", "virtual"),
    [
        (0, 10, 50, 0, 0, 0),
        (30, 10, 50, 0, 10, 30),  # burst: managed nodes not there yet, virtual absorbs everything
        (30, 10, 50, 6, 10, 24),  # Karpenter nodes arriving: virtual hands back
        (30, 10, 50, 10, 10, 20),  # managed full: virtual keeps only the overflow
        (8, 10, 50, 10, 8, 0),  # managed covers it all (ready above need during scale-down)
        (30, 10, 15, 0, 10, 15),  # virtual cap
        (30, 10, 50, None, 10, 20),  # no API access: pure overflow above the managed cap
        (30, None, None, None, 30, 30),  # nothing known: over- rather than under-provision
    ],
)
def test_table(
    total: int, managed_cap: int | None, virtual_cap: int | None, ready: int | None, managed: int, virtual: int
) -> None:
    shares = split(total, managed_cap=managed_cap, virtual_cap=virtual_cap, managed_ready=ready)
    # the need and the readiness it was split on are reported as given (logs and metrics show them)
    assert shares == Split(total=total, managed=managed, virtual=virtual, managed_ready=ready)


@given(total=st.integers(0, 1000), managed_cap=caps, virtual_cap=caps, ready=st.one_of(st.none(), st.integers(0, 600)))
def test_never_negative_and_within_caps(
    total: int, managed_cap: int | None, virtual_cap: int | None, ready: int | None
) -> None:
    shares = split(total, managed_cap=managed_cap, virtual_cap=virtual_cap, managed_ready=ready)
    assert 0 <= shares.managed <= total
    assert shares.virtual >= 0
    if managed_cap is not None:
        assert shares.managed <= managed_cap
    if virtual_cap is not None:
        assert shares.virtual <= virtual_cap


@given(total=st.integers(0, 1000), managed_cap=st.integers(0, 500))
def test_pure_overflow_sums_to_the_need(total: int, managed_cap: int) -> None:
    shares = split(total, managed_cap=managed_cap, virtual_cap=None, managed_ready=None)
    assert shares.managed + shares.virtual == total


@given(total=st.integers(0, 1000), managed_cap=caps, ready=st.integers(0, 600))
def test_ready_managed_plus_virtual_covers_the_need(total: int, managed_cap: int | None, ready: int) -> None:
    shares = split(total, managed_cap=managed_cap, virtual_cap=None, managed_ready=ready)
    assert ready + shares.virtual >= total


@given(
    total=st.integers(0, 1000),
    managed_cap=caps,
    virtual_cap=caps,
    ready=st.integers(0, 600),
    more=st.integers(1, 100),
)
def test_virtual_hands_back_first(
    total: int, managed_cap: int | None, virtual_cap: int | None, ready: int, more: int
) -> None:
    before = split(total, managed_cap=managed_cap, virtual_cap=virtual_cap, managed_ready=ready)
    after = split(total, managed_cap=managed_cap, virtual_cap=virtual_cap, managed_ready=ready + more)
    assert after.virtual <= before.virtual  # more managed pods Ready never grows the virtual tier
    assert after.managed == before.managed  # ... and never shrinks the managed request
