"""timeline.png: the run as a person reads it, the backlog, each tier, pending pods and nodes on one time axis.

The CSV holds every number; the picture has to tell the story without it: the backlog rising and draining, the
virtual tier taking the burst at once while managed pods wait for Karpenter's nodes, the virtual tier handing back
first, everything back at rest. So each tier has one colour for what the HPA asked and what actually ran, and every
moment the printed summary names is drawn at the time it happened, numbered, with the same words.

matplotlib is an optional extra (``pip install '.[demo]'``, as the README's first command does): it is imported
here only, and only when a picture is drawn, so ``burst-scaler serve`` and its container image never load it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # report.py draws through this module; at run time only its values are needed
    from onebox.harness.report import Row, RunReport

MOMENTS: Final = (
    ("first_virtual_running", "first virtual pod running"),
    ("peak_backlog_at", "peak backlog"),
    ("first_karpenter_node_ready", "first Karpenter node ready"),
    ("drained", "backlog drained"),
    ("virtual_handback_started", "virtual tier hands back"),
    ("managed_handback_started", "managed tier hands back"),
    ("scaled_to_zero", "every tier at rest"),
)
"""The summary's moments (onebox.demo prints the same ones), in story order: (event key, what it means)."""

_TIER_COLOURS: Final = {"virtual": "#e8710a", "managed": "#1a5fb4"}
_OTHER_COLOURS: Final = ("#2a9d8f", "#8e44ad", "#6d4c41")
_BACKLOG_COLOUR: Final = "#3d6b99"
_PENDING_COLOUR: Final = "#c01c28"
_NODES_COLOUR: Final = "#333333"
_TITLE_PAD: Final = 20.0
"""Points between a panel and its title: room for the moment numbers drawn just above the top panel."""
_MERGE_FRACTION: Final = 0.015
"""Moments closer than this fraction of the run's length share one marker, so their numbers never overlap."""


@dataclass(frozen=True)
class Moment:
    """One marker on the time axis: the summary's moments that happened (about) then, numbered in story order."""

    t: float
    numbers: tuple[int, ...]
    labels: tuple[str, ...]


def moments(events: Mapping[str, float], span: float) -> tuple[Moment, ...]:
    """The summary's moments that happened, by time; those within ``_MERGE_FRACTION`` of ``span`` share a marker."""
    happened = sorted(
        (events[key], number, label)
        for number, (key, label) in enumerate(MOMENTS, start=1)
        if key in events and events[key] >= 0
    )
    merged: list[Moment] = []
    for t, number, label in happened:
        last = merged[-1] if merged else None
        if last is not None and t - last.t <= span * _MERGE_FRACTION:
            merged[-1] = Moment(last.t, (*last.numbers, number), (*last.labels, label))
        else:
            merged.append(Moment(t, (number,), (label,)))
    return tuple(merged)


def tier_of(scaled_object: str) -> str | None:
    """The tier a harness ScaledObject serves, read from its name (``orders-virtual``, ``orders-managed``)."""
    return next((tier for tier in _TIER_COLOURS if tier in scaled_object), None)


def draw_timeline(report: RunReport, names: Sequence[str], path: Path) -> Path | None:
    """Write the picture to ``path``; None when matplotlib is not installed (the CSV and JSON are written anyway)."""
    try:
        import matplotlib  # optional extra: imported only when a picture is drawn

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        return None
    rows = report.rows
    t = [r.t for r in rows]
    span = (t[-1] - t[0]) if len(t) > 1 else 1.0
    figure, (backlog, replicas, cluster) = pyplot.subplots(
        3, 1, figsize=(13, 9), sharex=True, height_ratios=(1.0, 1.3, 0.9)
    )
    figure.suptitle(_title(report), fontsize=13, fontweight="bold")
    _backlog(backlog, t, rows)
    _replicas(replicas, t, rows, names)
    _cluster(cluster, t, rows)
    marks = moments(report.events, span)
    _mark(backlog, replicas, cluster, marks)
    _moment_key(figure, marks)
    cluster.set_xlabel("seconds since the run started")
    cluster.set_xlim(t[0] if t else 0.0, t[-1] if t else 1.0)
    figure.subplots_adjust(left=0.06, right=0.70, top=0.88, bottom=0.07, hspace=0.3)
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
    return path


def _title(report: RunReport) -> str:
    lost = len(report.lost)
    return (
        "A burst on one OCI Queue, served by a virtual + managed spill-over pair\n"
        f"{report.produced} messages produced, {report.consumed} consumed, {lost} lost"
    )


def _finish(axes: Any, *, title: str, ylabel: str, pad: float = 6.0) -> None:
    """Title, axis, grid and a legend outside at the right, the same for every panel; counts on whole numbers."""
    from matplotlib.ticker import MaxNLocator

    axes.set_title(title, loc="left", fontsize=11, pad=pad)
    axes.set_ylabel(ylabel)
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)


def _backlog(axes: Any, t: list[float], rows: Sequence[Row]) -> None:
    values = [r.backlog for r in rows]
    axes.fill_between(t, values, step="post", color=_BACKLOG_COLOUR, alpha=0.25, linewidth=0)
    axes.step(t, values, where="post", color=_BACKLOG_COLOUR, linewidth=1.8, label="backlog: visible + in-flight")
    _finish(axes, title="Backlog on the queue", ylabel="messages", pad=_TITLE_PAD)


def _replicas(axes: Any, t: list[float], rows: Sequence[Row], names: Sequence[str]) -> None:
    others = iter(_OTHER_COLOURS)
    running = {"virtual": [r.running_virtual for r in rows], "managed": [r.running_managed for r in rows]}
    drawn: set[str] = set()
    for name in sorted(names, key=lambda n: (tier_of(n) != "virtual", n)):  # the tier that takes the burst first
        tier = tier_of(name)
        colour = _TIER_COLOURS[tier] if tier is not None else next(others, "black")
        label = f"{tier} tier: replicas asked ({name})" if tier else f"replicas asked ({name})"
        axes.step(t, [r.replicas.get(name, 0) for r in rows], where="post", color=colour, linewidth=2.2, label=label)
        if tier is not None and tier not in drawn:
            drawn.add(tier)
            _running(axes, t, running[tier], tier)
    for tier, values in running.items():
        if tier not in drawn and any(values):
            _running(axes, t, values, tier)
    _finish(axes, title="Each tier: replicas KEDA/HPA asked for (solid) and pods that ran (dashed)", ylabel="replicas")


def _running(axes: Any, t: list[float], values: list[int], tier: str) -> None:
    colour = _TIER_COLOURS[tier]
    axes.step(t, values, where="post", color=colour, linewidth=1.4, linestyle="--", label=f"{tier} tier: pods running")


def _cluster(axes: Any, t: list[float], rows: Sequence[Row]) -> None:
    axes.step(t, [r.pending for r in rows], where="post", color=_PENDING_COLOUR, linewidth=1.8, label="pending pods")
    axes.step(t, [r.nodes for r in rows], where="post", color=_NODES_COLOUR, linewidth=1.8, label="managed nodes Ready")
    if any(r.provisioning for r in rows):
        axes.step(
            t,
            [r.nodes + r.provisioning for r in rows],
            where="post",
            color=_NODES_COLOUR,
            linewidth=1.2,
            linestyle=":",
            label="managed nodes incl. provisioning",
        )
    _finish(axes, title="Pods waiting for a node, and managed nodes (Karpenter adds them)", ylabel="pods / nodes")


def _mark(top: Any, middle: Any, bottom: Any, marks: Sequence[Moment]) -> None:
    """A dotted line through every panel at each moment, its number(s) in a circle above the top panel."""
    for mark in marks:
        for axes in (top, middle, bottom):
            axes.axvline(mark.t, color="0.35", linewidth=0.9, linestyle=":", zorder=0)
        top.annotate(
            ",".join(str(n) for n in mark.numbers),
            xy=(mark.t, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=9,
            fontweight="bold",
            bbox={"boxstyle": "circle,pad=0.25" if len(mark.numbers) == 1 else "round,pad=0.25", "fc": "white"},
        )


def _moment_key(figure: Any, marks: Sequence[Moment]) -> None:
    """The numbered moments with their times, in the summary's words, at the right of the top panel."""
    numbered = sorted((n, m.t, label) for m in marks for n, label in zip(m.numbers, m.labels, strict=True))
    lines = ["Moments (dotted lines)", *(f"{n}  {t:5.1f} s  {label}" for n, t, label in numbered)]
    figure.text(0.715, 0.84, "\n".join(lines), fontsize=9, family="monospace", va="top", ha="left")
