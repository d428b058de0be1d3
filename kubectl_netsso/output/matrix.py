"""`paths -o matrix`: a truth table per port/protocol, rows from, columns to (numbered as the rows' legend)."""

from __future__ import annotations

from typing import TextIO

from .results import PathsView
from .text import emit, escape

__all__ = ["CELL", "render_paths"]

CELL = {True: ".", False: "X", None: "?"}


def render_paths(run: PathsView, out: TextIO, fmt: str = "matrix", **_options: str) -> None:
    if not run.blocks or not run.sources:
        emit("no flows in scope", out)
        return
    everyone = sorted({id(w): w for w in (*run.sources, *run.destinations)}.values(), key=lambda w: (w.namespace, w.name, w.kind))
    number = {id(w): i + 1 for i, w in enumerate(everyone)}
    # names as shown (escaped), so the columns line up once the writer has escaped them
    shown = {id(w): escape(w.ref) for w in everyone}
    lines: list[str] = []
    for key, dst_idx, block in run.blocks:
        dsts = [(j, run.destinations[d_i]) for j, d_i in enumerate(dst_idx)]
        dsts = [(j, d) for j, d in dsts if any(run.in_scope(s, d) for s in run.sources)]
        if not dsts:
            continue
        width = max(len(str(number[id(d)])) for _, d in dsts)
        label_w = max(len(f"{number[id(s)]} {shown[id(s)]}") for s in run.sources)
        lines.append(f"{key.text}   (rows: from, columns: to; '.' allowed, 'X' denied, '?' unknown, ' ' not in scope)")
        lines.append(" " * label_w + "  " + " ".join(str(number[id(d)]).rjust(width) for _, d in dsts))
        for s_i, s in enumerate(run.sources):
            cells = []
            for j, d in dsts:
                cells.append((CELL[block.allowed(s_i, j)] if run.in_scope(s, d) else " ").rjust(width))
            lines.append(f"{number[id(s)]} {shown[id(s)]}".ljust(label_w) + "  " + " ".join(cells))
        lines.append("")
    lines.append("columns: " + ", ".join(f"{number[id(w)]}={shown[id(w)]}" for w in everyone))
    emit(lines, out)
