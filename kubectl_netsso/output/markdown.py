"""`-o markdown`: a GitHub-flavoured Markdown table (per pair, or the --compact rules) to paste into a review.

A cell is inline Markdown: every character that could format it, link, embed HTML or end the cell (``\\ ` * _ [ ] <
> | ~ ! & #``) is backslash-escaped, so a name shows as itself; what could drive a terminal or reorder text is
escaped first as on a terminal (output/text.py), which also keeps a line feed from ending the row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TextIO

from .results import CompactView, PathsView, all_rows
from .style import VERDICT_TEXT
from .text import TerminalWriter, escape

__all__ = ["md_cell", "render_compact", "render_paths"]

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~!&#])")
_CHUNK = 4096  # rows per write


def md_cell(value: str | int | None) -> str:
    """One table cell's Markdown: the text exactly, nothing it could format or end."""
    if value is None:
        return ""
    return _SPECIAL.sub(r"\\\1", escape(str(value)))


def _write(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[str | int | None]]) -> None:
    writer = TerminalWriter(out)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(md_cell(c) for c in row) + " |")
        if len(lines) >= _CHUNK:
            writer.write("\n".join(lines) + "\n")
            lines = []
    if lines:
        writer.write("\n".join(lines) + "\n")
    writer.flush()


def _port(row: dict[str, object]) -> str:
    port = "any" if row["port"] is None else row["port"]
    resolved = row.get("resolvedPort")
    return f"{port}({resolved})/{row['protocol']}" if resolved is not None else f"{port}/{row['protocol']}"


def render_paths(run: PathsView, out: TextIO, fmt: str = "markdown", **_options: str) -> None:
    rows = (
        (
            r["from"],
            r["to"],
            _port(r),
            VERDICT_TEXT[r["allowed"]],
            VERDICT_TEXT[r["egress"]["allowed"]],
            VERDICT_TEXT[r["ingress"]["allowed"]],
        )
        for r in all_rows(run)
    )
    _write(out, ("From", "To", "Port", "Verdict", "Egress", "Ingress"), rows)


def render_compact(view: CompactView, out: TextIO, fmt: str = "markdown", **_options: str) -> None:
    from ..netpol.compact import describe_ports

    rows = (
        (r.source.describe(), r.destination.describe(), describe_ports(r.ports), VERDICT_TEXT[r.allowed])
        for r in view.result.rules
    )
    _write(out, ("From", "To", "Ports", "Verdict"), rows)
