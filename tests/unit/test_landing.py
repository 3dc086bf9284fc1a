"""Landing past the HPA tolerance band (scaler.landing), checked against the HPA arithmetic oracle of the policy
tests (tests/unit/landing_oracle.py): at every size from 1 to 100, for desired counts below and above it, under
KEDA's rounding and truncation, each rule lands the HPA where the rule says."""

from __future__ import annotations

import pytest

from scaler.kube import tolerance_of
from scaler.landing import Landed, Tolerance, hpa_readings, land, rule_for, value_for
from scaler.values import Landing
from tests.unit.landing_oracle import DEFAULT_BAND, Band, expected, reachable_counts, readings

SIZES = range(1, 101)
RULES = (Landing.DOWN, Landing.HOLD, Landing.NEAREST)
BANDS = {"default": DEFAULT_BAND, "zero": Band(0.0, 0.0), "asymmetric": Band(up=0.05, down=0.2)}


def desired_counts(current: int) -> range:
    """Counts from well below the band to well above it: every count in it, and a few reachable on each side."""
    return range(max(0, current * 7 // 10 - 2), current * 13 // 10 + 3)


@pytest.mark.parametrize("band_name", list(BANDS))
@pytest.mark.parametrize("target", [10.0, 4.35], ids=["target-10", "target-4.35"])
@pytest.mark.parametrize("rule", RULES)
def test_every_size_lands_where_the_rule_says(rule: Landing, target: float, band_name: str) -> None:
    """4.35 is a target whose float form truncates to 4349 milli-units: KEDA 2.17-2.19 read it one milli short."""
    band = BANDS[band_name]
    tolerance = Tolerance(scale_up=band.up, scale_down=band.down)
    checked = 0
    for current in SIZES:
        cap = current * 13 // 10 + 8
        counts = reachable_counts(current, target, band, cap)
        for desired in desired_counts(current):
            landed = land(
                desired, desired * target, current=current, rule=rule, tolerance=tolerance, target_size=target, cap=cap
            )
            assert landed.replicas == expected(rule, desired, current, counts), (current, desired)
            assert readings(landed.value, target, current, band) == {landed.replicas}, (current, desired, landed)
            checked += 1
    assert checked == sum(len(desired_counts(c)) for c in SIZES)


@pytest.mark.parametrize("target", [10.0, 4.35], ids=["target-10", "target-4.35"])
def test_with_tolerance_zero_every_count_is_reached_exactly(target: float) -> None:
    tolerance = Tolerance(scale_up=0.0, scale_down=0.0)
    for current in SIZES:
        for desired in desired_counts(current):
            for rule in RULES:
                landed = land(
                    desired,
                    desired * target,
                    current=current,
                    rule=rule,
                    tolerance=tolerance,
                    target_size=target,
                    cap=None,
                )
                assert landed.replicas == desired, (rule, current, desired)
                assert readings(landed.value, target, current, Band(0.0, 0.0)) == {desired}


CASES = [
    # current, desired, rule, tolerance (up, down), landed replicas, value sent (target 10)
    (30, 29, Landing.DOWN, (0.1, 0.1), 27, 265.0),  # 28 and 29 are out of reach from 30; 26.5 x 10 reaches 27
    (30, 28, Landing.DOWN, (0.1, 0.1), 27, 265.0),
    (30, 27, Landing.DOWN, (0.1, 0.1), 27, 265.0),  # the backlog 270 (ratio 0.9) would be held at 30
    (30, 26, Landing.DOWN, (0.1, 0.1), 26, 260.0),  # ratio 0.867: the plain backlog already lands
    (30, 28, Landing.HOLD, (0.1, 0.1), 30, 280.0),  # out of reach: hold (the plain value is held already)
    (30, 27, Landing.HOLD, (0.1, 0.1), 27, 265.0),  # within reach: land exactly
    (30, 29, Landing.NEAREST, (0.1, 0.1), 30, 290.0),
    (30, 28, Landing.NEAREST, (0.1, 0.1), 27, 265.0),
    (30, 33, Landing.NEAREST, (0.1, 0.1), 34, 335.0),  # 330 sits on the band's edge: 33 is out of reach
    (30, 33, Landing.DOWN, (0.1, 0.1), 30, 295.0),  # and the plain 330 is read as 30 or 33: send one that holds
    (10, 9, Landing.DOWN, (0.1, 0.1), 9, 85.0),  # KEDA issue 7900's example: 90 is held at 10, 85 reaches 9
    (30, 28, Landing.DOWN, (0.0, 0.0), 28, 280.0),  # tolerance 0: exact landing, the plain backlog is sent
    (30, 29, Landing.DOWN, (0.0, 0.05), 29, 282.499),  # a 5 % scale-down band: 29 is in reach below 285
    (30, 29, Landing.OFF, (0.1, 0.1), 29, 290.0),  # KEDA's semantics: nothing changes, the HPA holds 30
    (0, 5, Landing.DOWN, (0.1, 0.1), 5, 50.0),  # at zero KEDA scales, not the HPA: nothing to land
]


@pytest.mark.parametrize(("current", "desired", "rule", "band", "replicas", "value"), CASES)
def test_table(
    current: int, desired: int, rule: Landing, band: tuple[float, float], replicas: int, value: float
) -> None:
    tolerance = Tolerance(scale_up=band[0], scale_down=band[1])
    landed = land(desired, desired * 10.0, current=current, rule=rule, tolerance=tolerance, target_size=10.0, cap=100)
    assert landed == Landed(replicas, value)
    if current and rule is not Landing.OFF:
        assert hpa_readings(value, target_size=10.0, current=current, tolerance=tolerance) == {replicas}


def test_no_value_reaches_a_count_inside_the_band() -> None:
    assert value_for(29, target_size=10.0, current=30, tolerance=Tolerance()) is None
    assert value_for(28, target_size=10.0, current=30, tolerance=Tolerance()) is None
    assert value_for(27, target_size=10.0, current=30, tolerance=Tolerance()) == 265.0
    assert value_for(29, target_size=10.0, current=30, tolerance=Tolerance(0.0, 0.0)) == 285.0


@pytest.mark.parametrize(
    ("landing", "virtual", "grouped", "rule"),
    [
        (None, True, True, Landing.DOWN),
        (None, False, True, Landing.HOLD),
        (None, True, False, Landing.OFF),
        (None, False, False, Landing.OFF),
        (Landing.NEAREST, False, False, Landing.NEAREST),
        (Landing.OFF, True, True, Landing.OFF),
    ],
)
def test_rule_by_role(landing: Landing | None, virtual: bool, grouped: bool, rule: Landing) -> None:
    assert rule_for(landing, tier_virtual=virtual, grouped=grouped) is rule


def so_with(behavior: dict[str, object] | None) -> dict[str, object]:
    advanced = {} if behavior is None else {"horizontalPodAutoscalerConfig": {"behavior": behavior}}
    return {"spec": {"scaleTargetRef": {"name": "orders"}, "advanced": advanced}}


@pytest.mark.parametrize(
    ("behavior", "tolerance"),
    [
        (None, Tolerance(0.1, 0.1)),  # no behavior: the controller's default
        ({"scaleDown": {"stabilizationWindowSeconds": 60}}, Tolerance(0.1, 0.1)),
        ({"scaleUp": {"tolerance": "0"}, "scaleDown": {"tolerance": 0}}, Tolerance(0.0, 0.0)),
        ({"scaleUp": {"tolerance": "50m"}, "scaleDown": {"tolerance": "0.2"}}, Tolerance(0.05, 0.2)),
        ({"scaleDown": {"tolerance": "1e-2"}}, Tolerance(0.1, 0.01)),
        ({"scaleUp": {"tolerance": "-1"}, "scaleDown": {"tolerance": "ten"}}, Tolerance(0.1, 0.1)),  # not valid
    ],
)
def test_the_scaled_objects_tolerance_is_read_from_its_hpa_behavior(
    behavior: dict[str, object] | None, tolerance: Tolerance
) -> None:
    assert tolerance_of(so_with(behavior)) == tolerance
