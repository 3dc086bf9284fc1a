"""Run directories: every burst-load command leaves a timeline (CSV) and a summary (JSON) behind.

A burst test is judged afterwards, next to other runs, so its evidence goes to disk as it happens: the timeline is
appended (and flushed) one row per sample, so a run that is killed still leaves its data, and ``burst-load report``
renders any run directory, this tool's or the end-to-end harness's, from these two files alone.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, TextIO

TIMELINE = "timeline.csv"
SUMMARY = "summary.json"
DEFAULT_ROOT = Path("burst-reports")


def default_run_dir(command: str, now: datetime, root: Path = DEFAULT_ROOT) -> Path:
    """``burst-reports/<YYYYmmdd-HHMMSS>-<command>``."""
    return root / f"{now:%Y%m%d-%H%M%S}-{command}"


def plain(value: Any) -> Any:
    """JSON-ready copy of dataclasses, mappings, sequences, enums and paths; NaN/inf become None."""
    if is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in asdict(value).items()}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str) or value is None:
        return value
    return str(value)


def write_summary(run_dir: Path, summary: Mapping[str, Any]) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / SUMMARY
    path.write_text(json.dumps(plain(summary), indent=2, sort_keys=True) + "\n")
    return path


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if math.isfinite(value) else ""
    return value


class TimelineWriter:
    """Appends rows to ``timeline.csv``; when a row brings a new column the file is rewritten with the union."""

    def __init__(self, run_dir: Path, columns: Sequence[str] = ()) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        self.path = run_dir / TIMELINE
        self._columns: list[str] = list(columns)
        self._rows: list[dict[str, Any]] = []
        self._handle: TextIO | None = None
        self._rewrite()

    @property
    def rows(self) -> list[dict[str, Any]]:
        return list(self._rows)

    def write(self, row: Mapping[str, Any]) -> None:
        self._rows.append(dict(row))
        new = [name for name in row if name not in self._columns]
        if new:
            self._columns.extend(new)
            self._rewrite()
            return
        assert self._handle is not None
        csv.writer(self._handle).writerow([_cell(row.get(name)) for name in self._columns])
        self._handle.flush()

    def _rewrite(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self._handle = self.path.open("w", newline="")
        writer = csv.writer(self._handle)
        if self._columns:
            writer.writerow(self._columns)
        for row in self._rows:
            writer.writerow([_cell(row.get(name)) for name in self._columns])
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
