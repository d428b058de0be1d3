"""JSON: the indented form for small documents, and the one streaming encoder for big listings.

A streamed document puts one element of its big list per line (compact, ASCII) and the rest after it:
``{"paths": [\\n  {...},\\n  {...}\\n],\\n"workloads": {\\n  "k": {...}\\n},\\n"warnings": [...]}``. Greppable, diffs stay
readable, and the C encoder does the bulk. Every value is written with ``ensure_ascii``, so nothing in it can drive
a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from .results import CompactView, DocumentView, PathsView, external_row, ref, workloads_map
from .text import emit, escape

if TYPE_CHECKING:
    from ..netpol.paths import PathsResult

__all__ = [
    "ROW",
    "JsonStream",
    "encode",
    "render_compact",
    "render_paths",
    "render_who_can",
    "render_who_can_reach",
    "to_json",
    "to_json_listing",
]

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


# --- paths ---------------------------------------------------------------------------------------------------------

_LOOPBACK_CODE = 1 | 4 | 16  # allowed, egress and ingress allowed: "a pod cannot block traffic to itself"
_ASCII0 = ord("0")


def _spread(bits: int, width: int) -> int:
    """An int bitset as a big int with one byte per bit (byte k = bit k), built with C-level int/bytes operations."""
    text = format(bits, "b").zfill(width)[::-1].encode("ascii")  # b"0110..." indexed by class
    return int.from_bytes(text, "little") - int.from_bytes(bytes([_ASCII0]) * width, "little") if width else 0


def _class_codes(res: PathsResult, sc: int, width: int) -> bytes:
    """Per destination class, a 6-bit code of (allowed, unknown, egress, egress unknown, ingress, ingress unknown).

    Each bitset is spread to one byte per class and the six are added with weights 1..32 (no carries between
    bytes), so one row of class codes costs a handful of big-int operations instead of a Python loop.
    """
    if not width:
        return b""
    total = (
        _spread(res.matrix[0][sc], width)
        + 2 * _spread(res.unknown[0][sc], width)
        + 4 * _spread(res.egress[0][sc], width)
        + 8 * _spread(res.egress_unknown[0][sc], width)
        + 16 * _spread(res.ingress[0][sc], width)
        + 32 * _spread(res.ingress_unknown[0][sc], width)
    )
    return total.to_bytes(width, "little")


def _tri(code: int, value_bit: int, unknown_bit: int) -> str:
    return "null" if code & unknown_bit else ("true" if code & value_bit else "false")


def render_paths(run: PathsView, out: TextIO, fmt: str = "json", **_options: str) -> None:
    """{"paths": [...], "workloads": {...}, "warnings": [...]}: one path per line, streamed (millions on big clusters).

    Rows are assembled from byte pieces rendered once per source, per destination and per verdict code, reading
    the engine's per-class bitsets directly; each source's row is joined by C-level iterators and written at once.
    """
    from itertools import chain, repeat

    doc = JsonStream(out)
    doc.open_list("paths")
    all_scope = run.scope_ns is None
    for key, dst_idx, block in run.blocks:
        res = block.result
        dsts = [run.destinations[d_i] for d_i in dst_idx]
        width = len(res.dest_reps)
        port_proto = b',"port":' + encode(key.port) + b',"protocol":' + encode(key.protocol) + b',"allowed":'
        to_piece = [b',"to":' + encode(ref(d)) for d in dsts]
        tails = []
        for j in range(len(dsts)):
            rp = block.resolved_port(j, key.port, key.protocol)
            tails.append(b"}" + (b',"resolvedPort":' + encode(rp) if rp is not None else b"") + b"}")
        mids = [
            b"".join(
                (
                    port_proto,
                    _tri(c, 1, 2).encode(),
                    b',"egress":{"allowed":',
                    _tri(c, 4, 8).encode(),
                    b'},"ingress":{"allowed":',
                    _tri(c, 16, 32).encode(),
                )
            )
            for c in range(64)
        ]
        dclass = res.dest_class
        position = {id(d): j for j, d in enumerate(dsts)}
        in_ns = [j for j, d in enumerate(dsts) if d.namespace == run.scope_ns] if not all_scope else []
        for s_i, s in enumerate(run.sources):
            if all_scope or s.namespace == run.scope_ns:
                cols: Sequence[int] | None = None  # every destination
            else:
                cols = in_ns
                if not cols:
                    continue
            codes = _class_codes(res, res.source_class[s_i], width)
            by_class = list(map(mids.__getitem__, codes))
            head = ROW + b'{"from":' + encode(ref(s))
            if cols is None:
                parts = list(chain.from_iterable(zip(repeat(head), to_piece, map(by_class.__getitem__, dclass), tails)))
                self_j = position.get(id(s)) if s.kind == "Pod" else None
                if self_j is not None:
                    parts[4 * self_j + 2] = mids[_LOOPBACK_CODE]
            else:
                parts = []
                for j in cols:
                    parts += (
                        head,
                        to_piece[j],
                        mids[_LOOPBACK_CODE] if dsts[j] is s and s.kind == "Pod" else by_class[dclass[j]],
                        tails[j],
                    )
            doc.rows(b"".join(parts))
    for direction, w, f in run.external:
        doc.row(encode(external_row(direction, w, f)))
    doc.close_list()
    doc.mapping("workloads", workloads_map(run).items())
    doc.value("warnings", list(run.warnings))
    doc.close()


def render_compact(view: CompactView, out: TextIO, fmt: str = "json", **_options: str) -> None:
    """{"rules": [...], "warnings": [...]}: one rule per line, as paths prints one path per line."""
    doc = JsonStream(out)
    doc.open_list("rules")
    for rule in view.result.rules:
        doc.row(encode(rule.to_dict()))
    doc.close_list()
    doc.value("warnings", list(view.warnings))
    doc.close()


def render_who_can(result: DocumentView, out: TextIO, fmt: str = "json", **_options: str) -> None:
    """The documented JSON of who-can / who-can-reach (its to_dict())."""
    emit(to_json(dict(result.to_dict())), out)


render_who_can_reach = render_who_can
