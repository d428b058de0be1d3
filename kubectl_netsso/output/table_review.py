"""Tables of the reverse and review questions: who-can, who-can-reach, diff (their documented JSON as input).

Split from output/table.py, which re-exports the renderers (`output.render` looks them up there)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from .style import style
from .table import table
from .text import emit

if TYPE_CHECKING:
    from .results import DocumentView

__all__ = ["render_diff", "render_who_can", "render_who_can_reach", "who_note", "who_subject"]


# --- who-can -------------------------------------------------------------------------------------------------------


def who_subject(row: Mapping[str, Any]) -> str:
    """'Group oidc:devs (token group devs)', 'ServiceAccount shop/ci', 'User alice' from a who-can JSON row."""
    name = f"{row['namespace']}/{row['name']}" if row["kind"] == "ServiceAccount" else row["name"]
    text = f"{row['kind']} {name}"
    if row.get("tokenName"):
        text += f" (token {'group' if row['kind'] == 'Group' else 'user'} {row['tokenName']})"
    return text


def who_note(row: Mapping[str, Any]) -> str:
    """What to know about a grant: "only web, db" (resourceNames), "* verbs, * resources" (wildcards)."""
    notes = []
    if row["resourceNames"]:
        notes.append("only " + ", ".join(row["resourceNames"]))
    notes += [f"* {w}" for w in row["wildcards"]]
    return ", ".join(notes)


def render_who_can(result: DocumentView, out: TextIO, fmt: str = "table", **_options: str) -> None:
    """The holders (wildcards and cluster-wide grants first), system:masters, then who can obtain it and how;
    fmt "wide" adds the granting rule. Gaps (RBAC lists that could not be read) say the answer is incomplete."""
    data = result.to_dict()
    wide = fmt == "wide"
    asked = data["evaluated"]
    if data["scope"] == "all namespaces":
        asked = asked.removesuffix(" cluster-wide") + " in any namespace"
    lines = [f"# who can {asked} ({data['source']})"]
    headers = ["Subject", "Scope", "Granted by", "Note"] + (["Rule"] if wide else [])
    rows = []
    for r in data["subjects"]:
        scope = r["scope"] or "cluster-wide"
        note = ", ".join(x for x in ("superuser: outside RBAC" if r["superuser"] else "", who_note(r)) if x)
        row = [who_subject(r), scope, r["grantedBy"], note]
        if wide:
            row.append(_rule_text(r["grant"]["rule"]) if r["grant"] else "")
        rows.append(row)
    lines.extend(table(headers, rows).splitlines())
    if not data["allowed"]:
        lines.append("no RBAC subject holds it" + (" in what could be read" if data["gaps"] else ""))
    if data["escalations"]:
        lines.append("")
        lines.append("Can obtain it (escalation paths):")
        esc_rows = [[who_subject(r), r["scope"] or "cluster-wide", f"{r['escalation']} {r['via']}", r["grantedBy"]]
                    for r in data["escalations"]]  # fmt: skip
        lines.extend(table(["Subject", "Scope", "Path", "Using"], esc_rows).splitlines())
    for g in data["gaps"]:
        lines.append(style(f"incomplete: {g}", "yellow"))
    emit(lines, out)


def _rule_text(rule: Mapping[str, Sequence[str]]) -> str:
    return " ".join(f"{k}=[{','.join(v)}]" for k, v in rule.items())


# --- who-can-reach -------------------------------------------------------------------------------------------------


def render_who_can_reach(result: DocumentView, out: TextIO, fmt: str = "table", **_options: str) -> None:
    """Who gets in without a foothold (anyone in the cluster, outside), then one row per subject with its most direct
    path (table) or every path with how each action was obtained (wide)."""
    data = result.to_dict()
    wide = fmt == "wide"
    port = f"{data['port']}/{data['protocol']}" if data["port"] is not None else "any port"
    lines = [f"# who can reach {data['to']} on {port} ({data['source']})"]
    for key, label in (("anyone", "anyone in the cluster"), ("outside", "outside the cluster")):
        opened = data[key]
        if opened:
            for p in opened:
                who = label if key == "anyone" else f"outside: {p['who'].removeprefix('ip:')}"
                lines.append(style(f"{who} -> {p['to']} ({', '.join(p['ports'])}): {'; '.join(p['via'])}", "yellow"))
        else:
            lines.append(f"{label}: no")
    headers = ["Subject", "How", "Foothold", "Access", "Source", "Allowed by"] + (["Obtained via"] if wide else [])
    rows = []
    for s in data["subjects"]:
        paths = s["paths"] if wide else s["paths"][:1]
        for i, p in enumerate(paths):
            fh = p["foothold"]
            subject = who_subject(s) if i == 0 else ""
            if not wide and len(s["paths"]) > 1:
                subject += f" (+{len(s['paths']) - 1} path{'s' if len(s['paths']) > 2 else ''})"
            source = p["source"] + (" as " + ",".join(f"{k}={v}" for k, v in sorted(p["asLabels"].items()))
                                    if p.get("asLabels") else "")  # fmt: skip
            row = [subject, p["how"], fh["display"], p["actionsText"], source, "; ".join(p["via"])]
            if wide:
                row.append("; ".join(dict.fromkeys(a["grant"] for a in fh["access"])))
            rows.append(row)
    lines.append("")
    if rows:
        lines.extend(table(headers, rows).splitlines())
    else:
        lines.append("no RBAC subject has a foothold that reaches it")
    if data["unknown"]:
        lines.append(style(f"unknown: {data['unknown']} verdict(s) could not be decided (see the warnings)", "yellow"))
    for g in data["gaps"]:
        lines.append(style(f"incomplete: {g}", "yellow"))
    emit(lines, out)
# --- diff ----------------------------------------------------------------------------------------------------------


def render_diff(data: Any, out: TextIO, fmt: str = "table", **_options: str) -> None:
    """diff OLD NEW (its documented JSON): one table per kind of change -- connectivity (the grouped rules; wide:
    every changed class pair, and why NEW denies what it removed), permissions, reach, findings."""
    from .results import diff_titles, findings_rows, reach_rows, subject_text

    titles = diff_titles(data)
    wide = fmt == "wide"
    parts: list[str] = []
    for side in ("old", "new"):
        s = data[side]
        c = s["counts"]
        parts.append(f"{side.upper()}: {s['source']} ({c['workloads']} workloads, {c['networkPolicies']} policies, "
                     f"{c['roles']} roles, {c['bindings']} bindings)")  # fmt: skip
    parts.append("")
    conn = data.get("connectivity")
    if conn is not None:
        parts.append(f"CONNECTIVITY: {titles['connectivity']}")
        if conn["groups"]:
            rows = [[g["group"], g["from"]["text"], g["to"]["text"], g["portsText"], "; ".join(g["causes"])]
                    + ([g["explanation"] or ""] if wide else []) for g in conn["groups"]]  # fmt: skip
            parts.append(table(["change", "from", "to", "ports", "cause"] + (["why denied now"] if wide else []), rows))
        if wide and conn["changes"]:
            parts.append("")
            rows = [[c["change"], ", ".join(c["from"]), ", ".join(c["to"]), c["before"] or "-", c["after"] or "-"]
                    for c in conn["changes"]]  # fmt: skip
            parts.append(table(["change", "from", "to", "before", "after"], rows))
        parts.append("")
    perms = data.get("permissions")
    if perms is not None:
        parts.append(f"PERMISSIONS: {titles['permissions']}")
        if perms["changes"]:
            rows = [[p["change"], subject_text(p["subject"]), p["namespace"] or "(cluster-wide)", p["permission"],
                     ", ".join(p["risky"]) or "-"] + ([p["via"]] if wide else []) for p in perms["changes"]]  # fmt: skip
            parts.append(table(["change", "subject", "namespace", "permission", "risky"] + (["via"] if wide else []), rows))
        parts.append("")
    reach = data.get("reach")
    if reach is not None:
        grouped = reach_rows(reach["changes"])
        parts.append(f"REACH: {titles['reach']}")
        if grouped and not wide:
            parts.append(table(["identities", "change", "foothold", "now reachable", "no longer reachable"],
                               [[_short(c) for c in row] for row in grouped]))  # fmt: skip
        elif grouped:
            parts += [r["text"] for r in reach["changes"]]
        parts.append("")
    findings = data.get("findings")
    if findings is not None:
        parts.append(f"FINDINGS: {titles['findings']}")
        rows = [[what, f["severity"], f["check"], f["object"]] + ([f["reason"]] if wide else [])
                for what, f in findings_rows(findings)]  # fmt: skip
        if rows:
            parts.append(table(["change", "severity", "check", "object"] + (["reason"] if wide else []), rows))
        parts.append("")
    for note in data.get("notes", ()):
        parts.append(f"note: {note}")
    if data.get("failOn"):
        matched = ", ".join(data["matched"]) or "none"
        parts.append(f"--fail-on {','.join(data['failOn'])}: matched {matched}")
    if not data.get("changed"):
        parts.append("no change in " + ", ".join(data["sections"]))
    emit([p for block in parts for p in block.split("\n")] if parts else [""], out)


def _short(text: str, limit: int = 120) -> str:
    """A cell of the diff's reach table: long lists cut (wide and JSON have them whole)."""
    return text if len(text) <= limit else text[: limit - 15].rsplit(", ", 1)[0] + ", ... (-o wide)"
