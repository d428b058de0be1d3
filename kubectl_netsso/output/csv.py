"""`-o csv`: one row per flow (per pair) or per rule (--compact), for spreadsheets and scripts.

A spreadsheet runs a cell that starts with = + - @ (or tab / carriage return) as a formula: a workload or label
named ``=HYPERLINK(...)`` must not. Such a cell, and one that starts with ``'``, gets a ``'`` in front (the
spreadsheet convention for "text"), so the guard is reversible: drop one leading ``'`` to get the name back.
Quoting is the csv module's; rows end with a line feed. Written through the terminal writer like every text output.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import TextIO

from .results import CompactView, DocumentView, PathsView, all_rows
from .style import VERDICT_TEXT
from .text import TerminalWriter

__all__ = ["FORMULA_START", "csv_cell", "render_compact", "render_paths", "render_who_can", "render_who_can_reach"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")  # the last one keeps the guard reversible
_CHUNK = 4096  # rows per write


def csv_cell(value: str | int | None) -> str:
    """One cell: numbers as they are, a string that a spreadsheet would run as a formula prefixed with '."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_START) else text


def _write(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[str | int | None]]) -> None:
    writer = TerminalWriter(out)
    buf = io.StringIO()
    table = csv.writer(buf, lineterminator="\n")
    table.writerow(header)
    for n, row in enumerate(rows, 1):
        table.writerow([csv_cell(c) for c in row])
        if n % _CHUNK == 0:
            writer.write(buf.getvalue())
            buf.seek(0)
            buf.truncate()
    writer.write(buf.getvalue())
    writer.flush()


PATHS_HEADER = ("from", "to", "port", "protocol", "verdict", "egress", "ingress", "resolvedPort")


def render_paths(run: PathsView, out: TextIO, fmt: str = "csv", **_options: str) -> None:
    """The per-pair JSON rows as columns: verdicts as ALLOWED / DENIED / UNKNOWN; an address range is ip:..."""
    rows = (
        (
            r["from"],
            r["to"],
            r["port"] if r["port"] is not None else "any",
            r["protocol"],
            VERDICT_TEXT[r["allowed"]],
            VERDICT_TEXT[r["egress"]["allowed"]],
            VERDICT_TEXT[r["ingress"]["allowed"]],
            r.get("resolvedPort"),
        )
        for r in all_rows(run)
    )
    _write(out, PATHS_HEADER, rows)


COMPACT_HEADER = ("from", "to", "ports", "verdict")


def render_compact(view: CompactView, out: TextIO, fmt: str = "csv", **_options: str) -> None:
    from ..netpol.compact import describe_ports

    rows = (
        (r.source.describe(), r.destination.describe(), describe_ports(r.ports), VERDICT_TEXT[r.allowed])
        for r in view.result.rules
    )
    _write(out, COMPACT_HEADER, rows)


WHO_CAN_HEADER = ("kind", "name", "namespace", "scope", "direct", "binding", "role", "ruleIndex", "resourceNames",
                  "wildcards", "escalation", "via", "tokenName")  # fmt: skip


def render_who_can(result: DocumentView, out: TextIO, fmt: str = "csv", **_options: str) -> None:
    """One row per subject and grant, then the escalation paths (direct false); lists joined with spaces."""
    data = result.to_dict()

    def ref(obj: dict[str, str | None] | None) -> str:
        if not obj:
            return ""
        return f"{obj['kind']} {obj['namespace']}/{obj['name']}" if obj.get("namespace") else f"{obj['kind']} {obj['name']}"

    rows = (
        (
            r["kind"], r["name"], r.get("namespace"), r["scope"] or "", "true" if r["direct"] else "false",
            ref(r["grant"]["binding"]) if r["grant"] else "(superuser group: outside RBAC)",
            ref(r["grant"]["role"]) if r["grant"] else "", r["grant"]["ruleIndex"] if r["grant"] else None,
            " ".join(r["resourceNames"]), " ".join(r["wildcards"]), r["escalation"], r.get("via"), r.get("tokenName"),
        )
        for r in (*data["subjects"], *data["escalations"])
    )  # fmt: skip
    _write(out, WHO_CAN_HEADER, rows)


WHO_CAN_REACH_HEADER = ("kind", "name", "namespace", "rank", "how", "foothold", "target", "actions", "source", "to",
                        "ports", "via", "obtainedVia")  # fmt: skip


def render_who_can_reach(result: DocumentView, out: TextIO, fmt: str = "csv", **_options: str) -> None:
    """One row per subject and path; "anyone in the cluster" and outside ranges first (kind Anyone / Outside)."""
    data = result.to_dict()

    def open_rows(key: str, kind: str) -> list[tuple[str | int | None, ...]]:
        return [(kind, p["who"], None, None, None, None, None, None, None, p["to"], " ".join(p["ports"]),
                 "; ".join(p["via"]), None) for p in data[key]]  # fmt: skip

    rows: list[tuple[str | int | None, ...]] = [*open_rows("anyone", "Anyone"), *open_rows("outside", "Outside")]
    for s in data["subjects"]:
        for p in s["paths"]:
            fh = p["foothold"]
            rows.append((s["kind"], s["name"], s.get("namespace"), p["rank"], p["how"], fh["kind"], fh["target"],
                         ";".join(fh["actions"]), p["source"],
                         p["to"], " ".join(p["ports"]), "; ".join(p["via"]),
                         "; ".join(dict.fromkeys(a["grant"] for a in fh["access"]))))  # fmt: skip
    _write(out, WHO_CAN_REACH_HEADER, rows)
