"""`-o markdown`: a GitHub-flavoured Markdown table (per pair, or the --compact rules) to paste into a review.

A cell is inline Markdown: every character that could format it, link, embed HTML or end the cell (``\\ ` * _ [ ] <
> | ~ ! & #``) is backslash-escaped, so a name shows as itself; what could drive a terminal or reorder text is
escaped first as on a terminal (output/text.py), which also keeps a line feed from ending the row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from .results import CompactView, PathsView, all_rows
from .style import VERDICT_TEXT
from .text import TerminalWriter, escape

__all__ = ["md_cell", "render_compact", "render_diff", "render_paths"]

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


# --- diff ----------------------------------------------------------------------------------------------------------

DIFF_OPEN_ROWS = 10  # a section with more rows is collapsed (<details>) in a pull-request comment


def _section(out_lines: list[str], title: str, header: Sequence[str], rows: Sequence[Sequence[str | int | None]]) -> None:
    """A heading line (our own words: counts), then its table; collapsed when long. Every cell goes through md_cell."""
    if not rows:
        out_lines += [f"**{title}**", ""]
        return
    table = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    table += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    if len(rows) > DIFF_OPEN_ROWS:
        out_lines += ["<details>", f"<summary>{title}</summary>", "", *table, "", "</details>", ""]
    else:
        out_lines += [f"**{title}**", "", *table, ""]


def render_diff(data: Any, out: TextIO, fmt: str = "markdown", **_options: str) -> None:
    """diff OLD NEW as a pull-request comment: a summary line per section, then its table (collapsed when long).
    Names from manifests are cells (md_cell): they cannot open a tag, a link or end the table."""
    from .results import diff_titles, findings_rows, reach_rows, subject_text

    titles = diff_titles(data)

    lines = ["### kubectl netsso diff", ""]
    lines += ["| | OLD | NEW |", "|---|---|---|"]
    lines.append(f"| source | {md_cell(data['old']['source'])} | {md_cell(data['new']['source'])} |")
    for key in ("workloads", "networkPolicies", "roles", "bindings"):
        lines.append(f"| {key} | {data['old']['counts'][key]} | {data['new']['counts'][key]} |")
    lines.append("")
    conn = data.get("connectivity")
    if conn is not None:
        title = f"Connectivity: {titles['connectivity']}"
        why = any(g["explanation"] for g in conn["groups"])
        rows: list[tuple[Any, ...]] = [(g["group"], g["from"]["text"], g["to"]["text"], g["portsText"], "; ".join(g["causes"]))
                                       + ((g["explanation"],) if why else ()) for g in conn["groups"]]  # fmt: skip
        _section(lines, title, ("Change", "From", "To", "Ports", "Cause") + (("Why denied now",) if why else ()), rows)
    perms = data.get("permissions")
    if perms is not None:
        title = f"Permissions: {titles['permissions']}"
        rows = [(p["change"], subject_text(p["subject"]), p["namespace"] or "(cluster-wide)", p["permission"],
                 ", ".join(p["risky"]) or None, p["via"]) for p in perms["changes"]]  # fmt: skip
        _section(lines, title, ("Change", "Subject", "Namespace", "Permission", "Risky", "Via"), rows)
    reach = data.get("reach")
    if reach is not None:
        rows = list(reach_rows(reach["changes"]))
        title = f"Reach: {titles['reach']}"
        _section(lines, title, ("Identities", "Change", "Foothold", "Now reachable", "No longer reachable"), rows)
    findings = data.get("findings")
    if findings is not None:
        title = f"Findings: {titles['findings']}"
        rows = [(what, f["severity"], f["check"], f["object"], f["reason"]) for what, f in findings_rows(findings)]
        _section(lines, title, ("Change", "Severity", "Check", "Object", "Reason"), rows)
    for note in data.get("notes", ()):
        lines += [f"note: {md_cell(note)}", ""]
    if data.get("failOn"):
        matched = ", ".join(data["matched"]) or "none"
        lines.append(f"--fail-on {md_cell(','.join(data['failOn']))}: matched {md_cell(matched)}")
    writer = TerminalWriter(out)
    writer.write("\n".join(lines).rstrip("\n") + "\n")
    writer.flush()
