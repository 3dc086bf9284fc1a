"""timeline.png: which moments are marked and how close ones share a marker; the PNG is drawn from a run."""

from __future__ import annotations

from pathlib import Path

from onebox.harness.picture import MOMENTS, Moment, draw_timeline, moments, tier_of
from onebox.harness.report import Row, RunReport, write_report


def _row(t: float, backlog: int, virtual: int, managed: int) -> Row:
    return Row(
        t=t,
        backlog=backlog,
        replicas={"orders-virtual": virtual, "orders-managed": managed},
        running_virtual=virtual,
        running_managed=managed,
        pending=1 if managed > 1 else 0,
        nodes=1,
        provisioning=1 if managed > 1 else 0,
        produced=int(t * 10),
        consumed=int(t * 10) - backlog,
    )


def _report(events: dict[str, float]) -> RunReport:
    rows = [_row(0.0, 0, 0, 0), _row(5.0, 80, 6, 2), _row(10.0, 20, 8, 4), _row(20.0, 0, 0, 0)]
    return RunReport.build(
        rows=rows,
        events=events,
        produced={1, 2},
        consumed={1: 1, 2: 1},
        latencies=[0.5],
        produce=None,
        keda={},
        config={},
        karpenter_nodes=1,
    )


def test_only_moments_that_happened_are_marked_in_story_numbering() -> None:
    marks = moments({"scaled_to_zero": 20.0, "first_virtual_running": 2.0, "unrelated": 3.0}, span=20.0)

    assert marks == (
        Moment(2.0, (1,), ("first virtual pod running",)),
        Moment(20.0, (len(MOMENTS),), ("every tier at rest",)),
    )


def test_moments_closer_than_the_merge_distance_share_one_marker() -> None:
    events = {"drained": 26.5, "virtual_handback_started": 26.5, "managed_handback_started": 28.6}

    marks = moments(events, span=60.0)

    assert [m.numbers for m in marks] == [(4, 5), (6,)]
    assert marks[0].labels == ("backlog drained", "virtual tier hands back")


def test_tiers_are_read_from_the_harness_names() -> None:
    assert (tier_of("orders-virtual"), tier_of("orders-managed"), tier_of("orders")) == ("virtual", "managed", None)


def test_the_report_draws_a_png_beside_the_csv_and_json(tmp_path: Path) -> None:
    report = _report({"first_virtual_running": 5.0, "peak_backlog_at": 5.0, "scaled_to_zero": 20.0})

    written = write_report(report, tmp_path)

    assert [p.name for p in written] == ["timeline.csv", "summary.json", "timeline.png"]
    assert (tmp_path / "timeline.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_drawing_alone_returns_the_path(tmp_path: Path) -> None:
    path = tmp_path / "picture.png"

    assert draw_timeline(_report({}), ["orders-virtual", "orders-managed"], path) == path
    assert path.stat().st_size > 0
