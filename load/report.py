"""`burst-load report RUN_DIR`: a text summary and a PNG timeline from a run directory's CSV and JSON.

It reads only ``timeline.csv`` and ``summary.json``, so it renders any run: produce, consume, observe, or the
end-to-end harness (whose column names it also knows). The picture needs matplotlib, an optional extra
(``pip install 'oke-burst-scaler[report]'``); it is imported only here and only when a picture is drawn, and without
it the text summary is still written.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from load.runs import SUMMARY, TIMELINE

TEXT = "summary.txt"
PNG = "timeline.png"
MISSING_MATPLOTLIB = (
    "timeline.png not written: matplotlib is not installed. Install the report extra: "
    "pip install 'oke-burst-scaler[report]' (or pip install matplotlib)"
)

_PODS = ("pods_virtual", "pods_managed", "pods_pending", "running_virtual", "running_managed", "pending")
_NODES = ("nodes", "nodes_added", "nodeclaims")
_RATES = ("planned_rate", "sent_rate", "processed_rate")


@dataclass(frozen=True)
class Timeline:
    columns: tuple[str, ...]
    rows: tuple[Mapping[str, float | None], ...]

    def series(self, column: str) -> list[float | None]:
        return [row.get(column) for row in self.rows]

    @property
    def times(self) -> list[float]:
        return [row.get("t") or 0.0 for row in self.rows]


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_timeline(path: Path) -> Timeline:
    """The numeric cells of a timeline CSV (others become None); an absent file is an empty timeline."""
    if not path.is_file():
        return Timeline(columns=(), rows=())
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        rows = tuple({key: _number(value or "") for key, value in row.items() if key} for row in reader)
        return Timeline(columns=tuple(reader.fieldnames or ()), rows=rows)


def read_summary(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return data if isinstance(data, dict) else {"summary": data}


def _flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            items.extend(_flatten(value, f"{name}."))
        elif isinstance(value, list) and len(value) > 8:
            items.append((name, f"[{len(value)} items]"))
        else:
            items.append((name, value))
    return items


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:.4g}"
    if value is None:
        return "-"
    return str(value)


def text_summary(run_dir: Path, summary: Mapping[str, Any], timeline: Timeline) -> str:
    """Every summary value, then per timeline column its peak (and when) and its last value."""
    lines = [f"burst-load report: {run_dir}"]
    if summary:
        width = max(len(name) for name, _ in _flatten(summary))
        lines += [f"  {name.ljust(width)}  {_fmt(value)}" for name, value in _flatten(summary)]
    else:
        lines.append(f"  (no {SUMMARY})")
    if not timeline.rows:
        lines.append(f"timeline: (no {TIMELINE} rows)")
        return "\n".join(lines) + "\n"
    times = timeline.times
    lines.append(f"timeline: {len(timeline.rows)} samples over {times[-1] - times[0]:.1f} s")
    numeric = [c for c in timeline.columns if c != "t" and any(v is not None for v in timeline.series(c))]
    if numeric:
        width = max(len(c) for c in numeric)
        for column in numeric:
            values = timeline.series(column)
            peak = max(v for v in values if v is not None)
            at = times[values.index(peak)]
            last = next(v for v in reversed(values) if v is not None)
            lines.append(f"  {column.ljust(width)}  peak {_fmt(peak):>10} at {at:7.1f} s   last {_fmt(last):>10}")
    return "\n".join(lines) + "\n"


def _present(timeline: Timeline, names: Sequence[str]) -> list[str]:
    return [n for n in names if n in timeline.columns and any(v is not None for v in timeline.series(n))]


def render_png(timeline: Timeline, path: Path, *, title: str) -> Path | None:
    """Backlog, rates, replicas per deployment and pods per tier, stacked on one time axis; None without matplotlib."""
    try:
        import matplotlib  # type: ignore[import-not-found,unused-ignore]  # optional extra, imported lazily

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        return None
    replicas = [c for c in timeline.columns if c.startswith("replicas_")]
    panels: list[tuple[str, list[str], list[str]]] = []
    if _present(timeline, ["backlog"]):
        panels.append(("backlog (messages)", ["backlog"], []))
    if _present(timeline, _RATES):
        panels.append(("messages / s", _present(timeline, _RATES), []))
    if replicas:
        panels.append(("replicas", replicas, []))
    if _present(timeline, _PODS) or _present(timeline, _NODES):
        panels.append(("pods per tier / nodes", _present(timeline, _PODS), _present(timeline, _NODES)))
    if not panels:
        panels.append(("values", [c for c in timeline.columns if c != "t"][:6], []))
    t = timeline.times
    figure, axes = pyplot.subplots(len(panels), 1, figsize=(10, 2.6 * len(panels)), sharex=True, squeeze=False)
    for ax, (label, solid, dotted) in zip(axes[:, 0], panels, strict=True):
        for column in solid:
            values = [math.nan if v is None else v for v in timeline.series(column)]
            if column.startswith("replicas_") or column in _PODS:
                ax.step(t, values, where="post", label=column)
            else:
                ax.plot(t, values, label=column)
        for column in dotted:
            ax.step(
                t,
                [math.nan if v is None else v for v in timeline.series(column)],
                where="post",
                linestyle=":",
                label=column,
            )
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize="small")
    axes[-1, 0].set_xlabel("seconds")
    axes[0, 0].set_title(title)
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)
    return path


def run_report(run_dir: Path, *, out: TextIO, err: TextIO, png: bool = True) -> int:
    """Write ``summary.txt`` (and ``timeline.png``) into ``run_dir`` and print the summary; 2 if nothing to read."""
    if not run_dir.is_dir():
        err.write(f"burst-load report: {run_dir} is not a directory\n")
        return 2
    summary = read_summary(run_dir / SUMMARY)
    timeline = read_timeline(run_dir / TIMELINE)
    if not summary and not timeline.rows:
        err.write(f"burst-load report: {run_dir} has neither {SUMMARY} nor {TIMELINE} rows; is it a run directory?\n")
        return 2
    text = text_summary(run_dir, summary, timeline)
    (run_dir / TEXT).write_text(text)
    out.write(text)
    if png and timeline.rows:
        picture = render_png(timeline, run_dir / PNG, title=f"{summary.get('command', 'run')}: {run_dir.name}")
        if picture is None:
            err.write(MISSING_MATPLOTLIB + "\n")
        else:
            out.write(f"wrote {picture}\n")
    out.write(f"wrote {run_dir / TEXT}\n")
    return 0
