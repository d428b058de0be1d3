"""JSON: the indented form for small documents, and the one streaming encoder for big listings.

A streamed document puts one element of its big list per line (compact, ASCII) and the rest after it:
``{"paths": [\\n  {...},\\n  {...}\\n],\\n"workloads": {\\n  "k": {...}\\n},\\n"warnings": [...]}``. Greppable, diffs stay
readable, and the C encoder does the bulk. Every value is written with ``ensure_ascii``, so nothing in it can drive
a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TextIO

from .text import escape

__all__ = ["ROW", "JsonStream", "encode", "to_json", "to_json_listing"]

ROW = b",\n  "  # what precedes each element of a streamed list


def to_json(data: Any) -> str:
    """Indented JSON; characters that could control a terminal as \\u escapes (the same values)."""
    return escape(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False), newlines=True)


def to_json_listing(data: Mapping[str, Any], list_key: str) -> str:
    """Indented JSON with one element of data[list_key] per line (compact), for a listing of tens of thousands of
    elements (`reach -A`), where the pure-Python indenting encoder takes seconds. Same values as to_json."""
    parts = []
    for key, value in data.items():
        if key == list_key and isinstance(value, list):
            items = ",\n    ".join(json.dumps(v, ensure_ascii=False, separators=(",", ":")) for v in value)
            parts.append(f"  {json.dumps(key)}: [\n    {items}\n  ]" if value else f"  {json.dumps(key)}: []")
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
            parts.append(f"  {json.dumps(key)}: {text}")
    return escape("{\n" + ",\n".join(parts) + "\n}", newlines=True)


def encode(value: Any) -> bytes:
    """One value as compact ASCII JSON (a piece of a streamed row)."""
    return json.dumps(value, separators=(",", ":")).encode("ascii")


class JsonStream:
    """Writes one JSON object member by member to a text stream (through its byte buffer when it has one: a
    million rows are joined and written as bytes, never decoded)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        raw = getattr(out, "buffer", None)
        self._raw = raw
        if raw is not None:
            out.flush()
            self.write: Callable[[bytes], Any] = raw.write
        else:  # a text-only stream (tests): decode each piece
            self.write = lambda data: out.write(data.decode("ascii"))
        self._members = 0
        self._rows = 0

    def _key(self, key: str) -> None:
        self.write((b"{" if not self._members else b",\n") + encode(key) + b": ")
        self._members += 1

    def open_list(self, key: str) -> None:
        self._key(key)
        self.write(b"[")
        self._rows = 0

    def rows(self, chunk: bytes) -> None:
        """One or more list elements, each preceded by ROW (the first one's comma is dropped here)."""
        if not chunk:
            return
        if not self._rows:
            chunk = chunk[1:]
        self._rows += 1
        self.write(chunk)

    def row(self, element: bytes) -> None:
        self.rows(ROW + element)

    def close_list(self) -> None:
        self.write(b"\n]" if self._rows else b"]")

    def mapping(self, key: str, items: Iterable[tuple[str, Any]]) -> None:
        """A member whose value is an object with one entry per line."""
        self._key(key)
        entries = ",\n  ".join(json.dumps(k) + ": " + json.dumps(v, separators=(",", ":")) for k, v in items)
        self.write(b"{" + (("\n  " + entries + "\n").encode("ascii") if entries else b"") + b"}")

    def value(self, key: str, value: Any) -> None:
        self._key(key)
        self.write(json.dumps(value).encode("ascii"))

    def close(self) -> None:
        self.write(b"}\n")
        (self._raw or self._out).flush()
