"""Tables: the kubectl-style plain table every listing command prints (table and wide)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .text import line, marks_to_sgr, sgr_to_marks

__all__ = ["table"]

Cell = str | int | float | None


def table(headers: Sequence[str], rows: Iterable[Sequence[Cell]], no_headers: bool = False) -> str:
    """A kubectl-style plain table: upper-case headers, columns separated by three spaces.

    Every cell is one escaped line (a name with a line feed cannot add a row); styled cells keep their colours.
    """
    from tabulate import tabulate

    cells = [["" if c is None else (line(c) if isinstance(c, str) else c) for c in row] for row in rows]
    heads = [line(h.upper()) for h in headers]
    # tabulate measures widths without the SGR codes it knows: give it real ones, and mark them again after (every
    # ESC in its output is one of ours: the cells' own were escaped above)
    cells = [[marks_to_sgr(c) if isinstance(c, str) else c for c in row] for row in cells]
    if no_headers:
        text = str(tabulate(cells, tablefmt="plain", disable_numparse=True))
    else:
        text = str(tabulate(cells, headers=heads, tablefmt="plain", disable_numparse=True))
    return sgr_to_marks(text)
