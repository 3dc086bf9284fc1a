"""What a harness run produced: the timeline, the no-loss ledger, the scaling facts; CSV, JSON and PNG.

The summary states the facts the end-to-end test asserts (nothing lost, virtual before managed nodes, virtual
hands back first, back to zero) so a human reading the report and the test see the same evidence.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any, TextIO

from onebox.harness.picture import draw_timeline


@dataclass(frozen=True)
class Row:
    """One sample of the run."""

    t: float
    backlog: int
    replicas: dict[str, int]
    running_virtual: int
    running_managed: int
    pending: int
    nodes: int
    provisioning: int
    produced: int
    consumed: int


def _percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[index]


def _integral(rows: Sequence[Row], value: Any) -> float:
    total = 0.0
    for a, b in itertools.pairwise(rows):
        total += value(a) * (b.t - a.t)
    return total


@dataclass(frozen=True)
class RunReport:
    rows: tuple[Row, ...]
    events: dict[str, float]
    produced: int
    consumed: int
    lost: tuple[int, ...]
    duplicates: int
    latency_p50: float | None
    latency_p95: float | None
    latency_max: float | None
    replica_seconds: dict[str, float]
    node_seconds: float
    peak_pending: int
    karpenter_nodes: int
    keda: dict[str, Any] = field(default_factory=dict)
    produce: dict[str, Any] | None = None
    config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        rows: Sequence[Row],
        events: Mapping[str, float],
        produced: set[int],
        consumed: Mapping[int, int],
        latencies: Sequence[float],
        produce: Any,
        keda: Mapping[str, Any],
        config: Any,
        karpenter_nodes: int,
    ) -> RunReport:
        names = sorted({name for row in rows for name in row.replicas})
        return cls(
            rows=tuple(rows),
            events=dict(events),
            produced=len(produced),
            consumed=len(set(consumed) & produced),
            lost=tuple(sorted(produced - set(consumed))),
            duplicates=sum(count - 1 for count in consumed.values() if count > 1),
            latency_p50=_percentile(latencies, 0.5),
            latency_p95=_percentile(latencies, 0.95),
            latency_max=max(latencies) if latencies else None,
            replica_seconds={n: round(_integral(rows, lambda r, n=n: r.replicas.get(n, 0)), 1) for n in names},
            node_seconds=round(_integral(rows, lambda r: r.nodes), 1),
            peak_pending=max((r.pending for r in rows), default=0),
            karpenter_nodes=karpenter_nodes,
            keda={name: _plain(stats) for name, stats in keda.items()},
            produce=_plain(produce) if produce is not None else None,
            config=_plain(config),
        )

    def summary(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "rows"}
        data["lost"] = len(self.lost)
        data["lost_sample"] = list(self.lost[:20])
        return data


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    return str(value)


def write_report(report: RunReport, out_dir: Path, *, stream: TextIO | None = None) -> list[Path]:
    """timeline.csv, summary.json and (with the demo extra's matplotlib) timeline.png in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = sorted({name for row in report.rows for name in row.replicas})
    timeline = out_dir / "timeline.csv"
    with timeline.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "t",
                "backlog",
                *[f"replicas_{n}" for n in names],
                "running_virtual",
                "running_managed",
                "pending",
                "nodes",
                "provisioning",
                "produced",
                "consumed",
            ]
        )
        for r in report.rows:
            writer.writerow(
                [
                    r.t,
                    r.backlog,
                    *[r.replicas.get(n, 0) for n in names],
                    r.running_virtual,
                    r.running_managed,
                    r.pending,
                    r.nodes,
                    r.provisioning,
                    r.produced,
                    r.consumed,
                ]
            )
    summary = out_dir / "summary.json"
    summary.write_text(json.dumps(report.summary(), indent=2, sort_keys=True) + "\n")
    written = [timeline, summary]
    png = draw_timeline(report, names, out_dir / "timeline.png")
    if png is not None:
        written.append(png)
    elif stream is not None:
        stream.write("(no timeline.png: matplotlib is missing; install the demo extra: pip install '.[demo]')\n")
    return written
