"""Renderers: table / wide / json / yaml; colour only on a TTY and without NO_COLOR."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

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
    return f"\033[{codes}m{text}\033[0m"


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False)


def to_yaml(data: Any) -> str:
    import yaml

    return str(yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], no_headers: bool = False) -> str:
    """A kubectl-style plain table: upper-case headers, columns separated by three spaces."""
    from tabulate import tabulate

    rows = [["" if c is None else c for c in row] for row in rows]
    if no_headers:
        return str(tabulate(rows, tablefmt="plain", disable_numparse=True))
    return str(
        tabulate(rows, headers=[h.upper() for h in headers], tablefmt="plain", disable_numparse=True)
    )


def emit(text: str) -> None:
    """Write a result to stdout (looked up at call time, so wrappers and CliRunner capture it)."""
    out = sys.stdout
    out.write(text if text.endswith("\n") else text + "\n")
    out.flush()


def render(data: Any, fmt: str) -> bool:
    """Print data as json or yaml when fmt asks for it; return False for other formats (caller draws a table)."""
    if fmt == "json":
        emit(to_json(data))
        return True
    if fmt == "yaml":
        emit(to_yaml(data))
        return True
    return False
