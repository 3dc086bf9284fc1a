"""Run directories and `burst-load report`: timeline writing, text summary, the missing-matplotlib path; CLI env."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest

from load.cli import build_parser
from load.cli_produce import profile_from_args
from load.profiles import SpikeProfile
from load.report import MISSING_MATPLOTLIB, read_timeline, run_report, text_summary
from load.runs import TimelineWriter, default_run_dir, write_summary
from scaler.flags import FlagError, resolve


def test_timeline_rewrites_when_a_column_appears(tmp_path: Path) -> None:
    writer = TimelineWriter(tmp_path)
    writer.write({"t": 0.0, "backlog": 5})
    writer.write({"t": 1.0, "backlog": 7, "replicas_a": 2})
    writer.write({"t": 2.0, "backlog": None, "replicas_a": 3})
    writer.close()
    with (tmp_path / "timeline.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [
        {"t": "0", "backlog": "5", "replicas_a": ""},
        {"t": "1", "backlog": "7", "replicas_a": "2"},
        {"t": "2", "backlog": "", "replicas_a": "3"},
    ]
    timeline = read_timeline(tmp_path / "timeline.csv")
    assert timeline.series("backlog") == [5, 7, None]


def test_default_run_dir_names_time_and_command() -> None:
    from datetime import datetime

    assert default_run_dir("produce", datetime(2026, 1, 2, 3, 4, 5)) == Path("burst-reports/20260102-030405-produce")


def _run_dir(tmp_path: Path) -> Path:
    writer = TimelineWriter(tmp_path)
    for t, backlog, pending in ((0, 0, 0), (1, 120, 3), (2, 40, 1), (3, 0, 0)):
        writer.write({"t": t, "backlog": backlog, "replicas_orders": t, "pods_pending": pending})
    writer.close()
    write_summary(tmp_path, {"command": "observe", "report": {"milestones": {"peak": 2.5}, "samples": 4}})
    return tmp_path


def test_text_summary_lists_values_and_peaks(tmp_path: Path) -> None:
    run_dir = _run_dir(tmp_path)
    text = text_summary(
        run_dir, json.loads((run_dir / "summary.json").read_text()), read_timeline(run_dir / "timeline.csv")
    )
    assert "report.milestones.peak" in text
    assert "timeline: 4 samples over 3.0 s" in text
    assert "backlog" in text
    assert "peak        120 at     1.0 s" in text


def test_report_without_matplotlib_still_writes_the_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = _run_dir(tmp_path)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib → ImportError
    out, err = io.StringIO(), io.StringIO()
    assert run_report(run_dir, out=out, err=err) == 0
    assert MISSING_MATPLOTLIB in err.getvalue()
    assert (run_dir / "summary.txt").read_text() in out.getvalue()
    assert not (run_dir / "timeline.png").exists()


def test_report_refuses_a_directory_without_run_files(tmp_path: Path) -> None:
    err = io.StringIO()
    assert run_report(tmp_path, out=io.StringIO(), err=err) == 2
    assert "is it a run directory" in err.getvalue()


def test_harness_timelines_are_read_too(tmp_path: Path) -> None:
    (tmp_path / "timeline.csv").write_text(
        "t,backlog,replicas_orders-managed,replicas_orders-virtual,running_virtual,running_managed,pending,nodes\n"
        "0.0,10,1,0,0,1,0,1\n0.5,30,1,3,2,1,1,1\n"
    )
    out = io.StringIO()
    assert run_report(tmp_path, out=out, err=io.StringIO(), png=False) == 0
    assert "running_virtual" in out.getvalue()


def test_flags_come_from_the_environment_and_the_command_line_wins() -> None:
    parser = build_parser()
    args = parser.parse_args(["produce", "--queue-id", "q-flag"])
    resolve(args, {"BURST_LOAD_QUEUE_ID": "q-env", "BURST_LOAD_PEAK": "42", "BURST_LOAD_NO_CHANNELS": "true"})
    assert args.queue_id == "q-flag"
    assert args.peak == 42.0
    assert args.no_channels is True
    assert args.concurrency == 4
    profile = profile_from_args(args)
    assert isinstance(profile, SpikeProfile)
    assert profile.peak == 42.0

    args = parser.parse_args(["observe", "--deployment", "a,b", "--deployment", "c"])
    resolve(args, {"BURST_LOAD_PEAK": "not read by observe"})
    assert args.deployment == ["a", "b", "c"]

    args = parser.parse_args(["consume"])
    resolve(args, {})
    assert args.work == {"heavy": 0.2, "light": 0.02}
    assert (args.batch, args.long_poll, args.log_messages, args.instance) == (10, 5, False, None)

    args = parser.parse_args(["consume"])
    with pytest.raises(FlagError, match="BURST_LOAD_BATCH='many' is invalid for --batch"):
        resolve(args, {"BURST_LOAD_BATCH": "many"})


def test_progress_redraws_a_table_on_a_terminal_and_prints_lines_elsewhere() -> None:
    from load.live import Progress

    plain = io.StringIO()
    Progress(plain, interactive=False).show(title="t", header=["a", "b"], rows=[["x", "1"]], line="a=x b=1")
    assert plain.getvalue() == "a=x b=1\n"

    tty = io.StringIO()
    progress = Progress(tty, interactive=True)
    progress.show(title="run", header=["name", "count"], rows=[["total", "5"]], line="unused")
    progress.show(title="run", header=["name", "count"], rows=[["total", "17"]], line="unused")
    first, second = tty.getvalue().split("\x1b[4F\x1b[J")  # back over the 4 lines drawn, clear, redraw
    assert first.splitlines() == ["run", "name   count", "-----  -----", "total      5"]
    assert second.splitlines()[-1] == "total     17"
