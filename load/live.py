"""Live progress: a table redrawn in place on an interactive terminal, plain lines everywhere else.

Logs of a Job or a CI run must stay readable (no escape codes, one line per sample); a person at a terminal wants
the current state at a glance. The caller gives both renderings of a sample and ``Progress`` picks one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Right-aligned columns (the first left-aligned), two spaces apart."""
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=False)]

    def line(cells: Sequence[str]) -> str:
        parts = [cells[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=False)]
        return "  ".join(parts).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)]


class Progress:
    """Writes samples to ``stream``: a redrawn table when ``interactive``, else one plain line per sample."""

    def __init__(self, stream: TextIO, *, interactive: bool) -> None:
        self._stream = stream
        self._interactive = interactive
        self._drawn = 0

    def show(self, *, title: str, header: Sequence[str], rows: Sequence[Sequence[str]], line: str) -> None:
        if not self._interactive:
            self._stream.write(line + "\n")
            self._stream.flush()
            return
        lines = [title, *render_table(header, rows)]
        if self._drawn:
            self._stream.write(f"\x1b[{self._drawn}F\x1b[J")  # back to the table's first line, clear below
        self._stream.write("\n".join(lines) + "\n")
        self._stream.flush()
        self._drawn = len(lines)

    def message(self, text: str) -> None:
        """A line that stays (below the table; the next table starts after it)."""
        self._stream.write(text + "\n")
        self._stream.flush()
        self._drawn = 0
