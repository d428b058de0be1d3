"""Renderers, one module per format: table (table, wide), matrix, json (and its streaming form), yaml, csv,
markdown, dot; report/ (the HTML page); style (colour only on a TTY and without NO_COLOR); text (the escaping every
writer applies). A format module has a render_<kind>(result, out, fmt, **options) per result it can show.

Every writer here escapes what could control a terminal (output/text.py): emit() and TerminalWriter on stdout,
log.py on stderr, table() in every cell. JSON and YAML keep exact values, written with escapes instead of raw
control characters.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Protocol, TextIO

# what the get-token fast path pays for (log.py imports output.text, so this package): text, style and the table
# function, all stdlib; the format modules are imported when a result is rendered
from .style import can_encode, style, symbol, use_color
from .table import table
from .text import TerminalWriter, emit, escape, line, strip_marks

__all__ = [
    "FORMATS",
    "TerminalWriter",
    "can_encode",
    "emit",
    "escape",
    "formats",
    "line",
    "render",
    "renderer",
    "strip_marks",
    "style",
    "symbol",
    "table",
    "to_json",
    "to_yaml",
    "use_color",
]


def to_json(data: Any) -> str:
    """Indented JSON, escaped for a terminal (output/json.py)."""
    from .json import to_json as dump

    return dump(data)


def to_yaml(data: Any, *, literal_blocks: bool = False) -> str:
    """Block YAML, escaped for a terminal (output/yaml.py)."""
    from .yaml import to_yaml as dump

    return dump(data, literal_blocks=literal_blocks)


# -o NAME -> the module that renders it; a new format is one module with a render_<kind> per result it can show
FORMATS = {
    "table": "table",
    "wide": "table",
    "matrix": "matrix",
    "json": "json",
    "yaml": "yaml",
    "csv": "csv",
    "markdown": "markdown",
    "dot": "dot",
}


class Renderer(Protocol):
    def __call__(self, result: Any, out: TextIO, fmt: str, **options: str) -> None: ...


def renderer(kind: str, fmt: str) -> Renderer | None:
    """The function that prints a result of this kind ("paths", "compact") as fmt, None when fmt cannot show it."""
    module_name = FORMATS.get(fmt)
    if module_name is None:
        return None
    module = importlib.import_module(f"{__name__}.{module_name}")
    found: Renderer | None = getattr(module, f"render_{kind}", None)
    return found


def formats(kind: str) -> list[str]:
    """The -o values that can show a result of this kind (for option choices and completion)."""
    return [fmt for fmt in FORMATS if renderer(kind, fmt) is not None]


def render(data: Any, fmt: str, *, kind: str | None = None, out: TextIO | None = None, **options: str) -> bool:
    """Print a result as fmt.

    Without kind, data is a document (a to_dict()): printed as json or yaml when fmt asks for it; False for other
    formats (the caller draws its table). With kind, the format module's render_<kind> prints it (True); options
    go to it (dot's nodes=workload|namespace).
    """
    if kind is None:
        if fmt == "json":
            emit(to_json(data), out)
            return True
        if fmt == "yaml":
            emit(to_yaml(data), out)
            return True
        return False
    found = renderer(kind, fmt)
    if found is None:
        from ..errors import EXIT_USAGE, NetssoError

        hint = "use -o " + " or -o ".join(formats(kind))
        raise NetssoError(f"-o {fmt} cannot show this result", hint=hint, exit_code=EXIT_USAGE)
    found(data, out or sys.stdout, fmt, **options)
    return True
