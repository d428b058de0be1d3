"""Renderers, one module per format: table (table, wide), matrix, json (and its streaming form), yaml; style (colour
only on a TTY and without NO_COLOR); text (the escaping every writer applies).

Every writer here escapes what could control a terminal (output/text.py): emit() and TerminalWriter on stdout,
log.py on stderr, table() in every cell. JSON and YAML keep exact values, written with escapes instead of raw
control characters.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, TextIO

from .json import to_json
from .style import can_encode, style, symbol, use_color
from .table import table
from .text import escape, for_terminal, line, strip_marks
from .yaml import to_yaml

__all__ = [
    "TerminalWriter",
    "can_encode",
    "emit",
    "escape",
    "line",
    "render",
    "strip_marks",
    "style",
    "symbol",
    "table",
    "to_json",
    "to_yaml",
    "use_color",
]


def emit(text: str | Sequence[str]) -> None:
    """Write a result to stdout (looked up at call time, so wrappers and CliRunner capture it).

    A string is written escaped for a terminal, its line feeds kept; a list is lines, each escaped as one line
    (a line feed in a name shows as \\n instead of starting a line of its own).
    """
    if isinstance(text, str):
        out_text = for_terminal(text, newlines=True)
    else:
        out_text = "\n".join(for_terminal(item, newlines=False) for item in text)
    out = sys.stdout
    out.write(out_text if out_text.endswith("\n") else out_text + "\n")
    out.flush()


class TerminalWriter:
    """A text stream for renderers that write as they go (paths on a million flows): escaped like emit()."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return int(self.stream.write(for_terminal(text, newlines=True)) or 0)

    def flush(self) -> None:
        self.stream.flush()


def render(data: Any, fmt: str) -> bool:
    """Print data as json or yaml when fmt asks for it; return False for other formats (caller draws a table)."""
    if fmt == "json":
        emit(to_json(data))
        return True
    if fmt == "yaml":
        emit(to_yaml(data))
        return True
    return False
