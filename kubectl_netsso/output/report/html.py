"""A tiny HTML builder that escapes by default: a forgotten escape is not possible.

``Markup`` is HTML that is already safe (built here from a template). ``html(template, *values)`` fills a trusted
template (a literal in this package) with values: a plain ``str`` is always escaped, a ``Markup`` is kept, numbers
are formatted, and anything else is refused. Joining and concatenating Markup with a plain str escapes the str, so
text from a manifest, the cluster or a token can only reach the page escaped.

Escaping: HTML's five characters, and what could reorder or hide text (bidi overrides, invisible and control
characters) shown escaped as on a terminal (output/text.py): a reviewer must see the name that is there.
"""

from __future__ import annotations

import html as _html
import json
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, LiteralString

from ..text import escape

__all__ = ["Markup", "escape_html", "html", "join", "script_json"]


class Markup(str):
    """A str of safe HTML. Concatenation with a plain str escapes the plain one."""

    __slots__ = ()

    def __add__(self, other: str) -> Markup:
        return Markup(str.__add__(self, escape_html(other)))

    def __radd__(self, other: str) -> Markup:
        return Markup(str.__add__(escape_html(other), self))


def escape_html(value: str) -> Markup:
    """value as HTML text or attribute content; a Markup is already safe and kept."""
    if isinstance(value, Markup):
        return value
    if not isinstance(value, str):
        raise TypeError(f"HTML text must be str or Markup, not {type(value).__name__}")
    return Markup(_html.escape(escape(value, newlines=True)))


class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, str):  # Markup kept, plain str escaped; a format spec would cut an entity
            return escape_html(value)
        if isinstance(value, bool):  # before int: True is an int
            return "true" if value else "false"
        if isinstance(value, int | float):
            return format(value, format_spec)
        raise TypeError(f"cannot put a {type(value).__name__} into HTML: give str, Markup or a number")


_FORMATTER = _Formatter()


def html(template: LiteralString, *values: object, **named: object) -> Markup:
    """template (trusted HTML) with each {} filled by a value escaped as escape_html does."""
    return Markup(_FORMATTER.vformat(template, values, named))


def join(parts: Iterable[str], sep: LiteralString = "") -> Markup:
    """Markup pieces joined; a plain str among them is escaped."""
    return Markup(sep.join(escape_html(p) for p in parts))


def script_json(value: Mapping[str, Any] | Sequence[Any]) -> Markup:
    """JSON to embed in a <script> element: no '<' at all, so no "</script>" and no "<!--<script>" (which puts the
    HTML tokenizer in its double-escaped state, where the element's own end tag no longer ends it and the page's
    JavaScript becomes part of the data); '>' and '&' too, and U+2028/U+2029, which end a JavaScript line. The
    escapes are JSON's, so JSON.parse gives back the exact strings."""
    text = json.dumps(value, ensure_ascii=True)  # every non-ASCII character as \u, U+2028/U+2029 included
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return Markup(text)
