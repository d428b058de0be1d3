"""Renderers: table / wide / json / yaml; colour only on a TTY and without NO_COLOR.

Every writer here escapes what could control a terminal (output/text.py): emit() and TerminalWriter on stdout,
log.py on stderr, table() in every cell. JSON and YAML keep exact values, written with escapes instead of raw
control characters.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from .text import escape, for_terminal, line, mark, marks_to_sgr, needs_escape, sgr_to_marks, strip_marks

__all__ = [
    "TerminalWriter",
    "emit",
    "escape",
    "line",
    "render",
    "strip_marks",
    "style",
    "table",
    "to_json",
    "to_yaml",
    "use_color",
]

_STYLES = {"green": "32", "red": "31", "yellow": "33", "bold": "1", "dim": "2", "cyan": "36"}


def use_color(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR", "") != "":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def can_encode(text: str, stream: Any = None) -> bool:
    """Whether the stream's encoding can print text (a console with LANG=C or PYTHONIOENCODING=ascii cannot print ✔)."""
    encoding = getattr(stream or sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeError, LookupError):
        return False
    return True


def symbol(fancy: str, plain: str, stream: Any = None) -> str:
    """fancy (e.g. ✔) where the console can print it, else the plain ASCII spelling."""
    return fancy if can_encode(fancy, stream) else plain


def style(text: str, *names: str, stream: Any = None) -> str:
    if not names or not use_color(stream):
        return text
    codes = ";".join(_STYLES[n] for n in names if n in _STYLES)
    # marked, not raw: the writers escape every ESC that is not one of these (text.py)
    return f"{mark(codes)}{text}{mark('0')}"


def to_json(data: Any) -> str:
    """Indented JSON; characters that could control a terminal as \\u escapes (the same values)."""
    return escape(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False), newlines=True)


def to_yaml(data: Any) -> str:
    """Block YAML. PyYAML escapes C0 and C1 itself but writes NEL and the invisible/bidi characters raw when
    unicode is allowed: a document holding any of them is written with every non-ASCII character escaped."""
    import yaml

    text = str(yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True))
    if needs_escape(text, newlines=True):
        text = str(yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=False))
    return text


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], no_headers: bool = False) -> str:
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

    def __init__(self, stream: Any) -> None:
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
