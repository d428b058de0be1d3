"""The text formats (table, wide): the kubectl-style plain table every listing command prints, the paths tables,
the compact rules and the can-reach explanation.

Long because: output.render dispatches to render_<kind> of the format's module, so every result kind's table and
wide rendering lives here (diff's sections are the latest); splitting by command family needs a dispatch change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from .style import VERDICT_COLOUR, VERDICT_TEXT, style
from .text import TerminalWriter, emit, escape, line, marks_to_sgr, sgr_to_marks

if TYPE_CHECKING:
    from ..netpol.model import DirectionVerdict
    from ..netpol.pairs import PairResult
    from .results import CanReachView, CompactView, DocumentView, PathsView

__all__ = ["render_can_reach", "render_compact", "render_diff", "render_paths", "render_who_can", "render_who_can_reach", "table"]

Cell = str | int | float | None


def table(headers: Sequence[str], rows: Iterable[Sequence[Cell]], no_headers: bool = False) -> str:
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


# --- paths ---------------------------------------------------------------------------------------------------------


def render_paths(run: PathsView, out: TextIO, fmt: str = "table", **_options: str) -> None:
    """Rows grouped by workload (live pods of one Deployment/StatefulSet/... are one row, with how many pod pairs
    agree), then the flows to and from addresses outside the cluster. fmt "wide" adds the deciding policies.

    Streamed one source workload at a time with column widths computed up front, so a million-row table needs no
    more memory than a small one.
    """
    writer = TerminalWriter(out)
    _pairs_table(run, fmt == "wide", writer)
    _external_table(run, writer)


def _pairs_table(run: PathsView, wide: bool, out: TerminalWriter) -> None:
    from .results import decider, group

    src_groups: dict[str, list[int]] = {}
    for i, s in enumerate(run.sources):
        src_groups.setdefault(group(s), []).append(i)
    dst_groups: dict[str, int] = {}
    block_dst_group: list[list[str]] = []
    block_port: list[list[str]] = []
    for key, dst_idx, block in run.blocks:
        groups_here = []
        ports_here = []
        for j, d_i in enumerate(dst_idx):
            g = group(run.destinations[d_i])
            dst_groups[g] = dst_groups.get(g, 0) + 1
            groups_here.append(g)
            rp = block.resolved_port(j, key.port, key.protocol)
            ports_here.append(f"{key.port}({rp})/{key.protocol}" if rp is not None else key.text)
        block_dst_group.append(groups_here)
        block_port.append(ports_here)
    if not run.blocks or not src_groups:
        out.write("no flows in scope\n")
        return
    max_pairs = max(len(m) for m in src_groups.values()) * max(dst_groups.values())
    # names as shown (escaped): rows are still grouped by the names themselves, which escaping could confuse
    shown_as = {g: escape(g) for g in (*src_groups, *dst_groups, *(p for ports in block_port for p in ports))}
    w_from = max(len("FROM"), *(len(shown_as[g]) for g in src_groups))
    w_to = max(len("TO"), *(len(shown_as[g]) for g in dst_groups))
    w_port = max(len("PORT"), *(len(shown_as[p]) for ports in block_port for p in ports)) if any(block_port) else 4
    w_verdict = max(len("VERDICT"), len("UNKNOWN"), (len(f"PARTLY {max_pairs}/{max_pairs}") if max_pairs > 1 else 0))
    header = ["FROM".ljust(w_from), "TO".ljust(w_to), "PORT".ljust(w_port), "VERDICT".ljust(w_verdict) if wide else "VERDICT"]
    if not wide:
        out.write("  ".join(header).rstrip() + "\n")
    totals = {True: 0, False: 0, None: 0}
    n_rows = 0
    all_scope = run.scope_ns is None
    wide_rows: list[tuple[list[str], str, str, str]] = []  # -o wide: buffered to align the EGRESS column
    for sg, members in src_groups.items():
        # (destination group, port text) -> [sort key, pairs, allowed, denied, unknown, first member pair]
        agg: dict[tuple[str, str], list[Any]] = {}
        for s_i in members:
            s = run.sources[s_i]
            in_ns = all_scope or s.namespace == run.scope_ns
            for b, (_key, dst_idx, block) in enumerate(run.blocks):
                row = block.result.row_strings(0, s_i)[0]
                groups_here, ports_here = block_dst_group[b], block_port[b]
                for j, d_i in enumerate(dst_idx):
                    if not in_ns and run.destinations[d_i].namespace != run.scope_ns:
                        continue
                    k = (groups_here[j], ports_here[j])
                    entry = agg.get(k)
                    if entry is None:
                        entry = agg[k] = [(d_i, b), 0, 0, 0, 0, (s_i, j, block)]
                    entry[1] += 1
                    entry[{"1": 2, "0": 3}.get(row[j], 4)] += 1
        lines = []
        first = True
        for (dg, port), (_order, n, ok, no, unk, member) in sorted(agg.items(), key=lambda kv: kv[1][0]):
            if ok == n:
                verdict, state = "ALLOWED", True
            elif no == n:
                verdict, state = "DENIED", False
            elif unk and not ok:
                verdict, state = "UNKNOWN", None
            else:  # some pod pairs allowed, some not: say how many
                verdict, state = f"PARTLY {ok}/{n}", None
            totals[state] += 1
            cells = [(shown_as[sg] if first else "").ljust(w_from), shown_as[dg].ljust(w_to), shown_as[port].ljust(w_port)]
            shown = style(verdict, VERDICT_COLOUR[state] if not verdict.startswith("PARTLY") else "yellow")
            if wide:
                s_i, j, block = member
                v = block.evidence(s_i, j)
                wide_rows.append(
                    (cells, shown + " " * (w_verdict - len(verdict)), escape(decider(v.egress)), escape(decider(v.ingress)))
                )
            else:
                lines.append(("  ".join(cells) + "  " + shown).rstrip())
            first = False
        n_rows += len(lines)
        if lines:
            out.write("\n".join(lines) + "\n")
    if wide_rows:
        w_egress = max(len("EGRESS"), *(len(r[2]) for r in wide_rows))
        out.write("  ".join([*header, "EGRESS".ljust(w_egress), "INGRESS"]) + "\n")
        for cells, shown, egress, ingress in wide_rows:
            out.write(("  ".join(cells) + "  " + shown + "  " + egress.ljust(w_egress) + "  " + ingress).rstrip() + "\n")
        n_rows = len(wide_rows)
    if not n_rows:
        out.write("no flows in scope\n")
        return
    noun = "flow" if n_rows == 1 else "flows"
    out.write(f"\n{n_rows} {noun}: {totals[True]} allowed, {totals[False]} denied, {totals[None]} unknown or partly allowed\n")
    out.flush()


def _external_table(run: PathsView, out: TerminalWriter) -> None:
    """Flows to and from addresses outside the cluster, one line per workload, addresses and verdict (ports
    joined), after the pod-to-pod table."""
    from .results import group

    if not run.external:
        return
    agg: dict[tuple[str, str, str], dict[str, list[bool | None]]] = {}
    for direction, w, f in run.external:
        g = group(w)
        key = (g, f.ref, "") if direction == "egress" else (f.ref, g, "")
        port = f"{'any' if f.port is None else f.port}/{f.protocol}"
        agg.setdefault(key, {}).setdefault(port, []).append(f.allowed)
    lines: list[tuple[str, str, str, str, bool | None]] = []
    for (a, b, _), by_port in agg.items():
        by_verdict: dict[bool | None, list[str]] = {}
        for port, values in by_port.items():
            v = values[0] if all(x is values[0] for x in values) else None
            by_verdict.setdefault(v, []).append(port)
        for v, port_list in sorted(by_verdict.items(), key=lambda kv: {True: 0, None: 1, False: 2}[kv[0]]):
            lines.append((escape(a), escape(b), ",".join(port_list), VERDICT_TEXT[v], v))
    w_from = max(len("FROM"), *(len(x[0]) for x in lines))
    w_to = max(len("TO"), *(len(x[1]) for x in lines))
    w_port = max(len("PORTS"), *(len(x[2]) for x in lines))
    # the writer turns the colour marks of style() into SGR codes (and escapes anything else)
    out.write("\n" + "  ".join(["FROM".ljust(w_from), "TO".ljust(w_to), "PORTS".ljust(w_port), "VERDICT"]) + "\n")
    for a, b, ports, text, v in lines:
        cells = [a.ljust(w_from), b.ljust(w_to), ports.ljust(w_port), style(text, VERDICT_COLOUR[v])]
        out.write("  ".join(cells).rstrip() + "\n")
    n = {True: 0, False: 0, None: 0}
    for *_x, v in lines:
        n[v] += 1
    out.write(f"\n{len(lines)} external flows (outside the cluster): {n[True]} allowed, {n[False]} denied, {n[None]} unknown\n")
    out.flush()


def render_compact(view: CompactView, out: TextIO, fmt: str = "table", **_options: str) -> None:
    from ..netpol.compact import describe_ports

    writer = TerminalWriter(out)
    result = view.result
    if not result.rules:
        writer.write("no flows in scope are allowed\n")
        return
    unknown = any(r.allowed is None for r in result.rules)
    rows = [
        [escape(r.source.describe()), escape(r.destination.describe()), describe_ports(r.ports)]
        + (["UNKNOWN" if r.allowed is None else "allowed"] if unknown else [])
        for r in result.rules
    ]
    headers = ["FROM", "TO", "PORTS"] + (["VERDICT"] if unknown else [])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    for row in [headers, *rows]:
        writer.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
    n_unknown = sum(1 for r in result.rules if r.allowed is None)
    noun = "rule" if len(result.rules) == 1 else "rules"
    tail = f"{len(result.rules)} {noun}" + (f" ({n_unknown} UNKNOWN: they depend on what could not be read)" if n_unknown else "")
    writer.write(f"\n{tail}; flows no rule lists are denied; a pod may always reach itself\n")
    writer.flush()


# --- can-reach -----------------------------------------------------------------------------------------------------


def render_can_reach(answer: CanReachView, out: TextIO, fmt: str = "table", **_options: str) -> None:
    """The verdict, per direction why, and the policy that would allow it; fmt "wide" (can-reach --detail): every
    pod pair, every closest rule and the ANP -> NP -> BANP walkthrough."""
    data, results, src, dst = answer.to_dict(), answer.pairs, answer.source, answer.destination
    wide = fmt == "wide"
    port_note = "any port" if answer.port is None and dst.service is None else ""
    overall = data["allowed"]
    port = data["port"]
    what = f"{port}/{data['protocol']}" if port is not None else (port_note or data["protocol"])
    svc = data["service"]
    if svc:
        what = f"{svc['port']}/{svc['protocol']} (Service port {svc['portName'] or svc['port']}"
        numbers = sorted({r.port for r in results if isinstance(r.port, int)})
        resolved = f" = {'/'.join(map(str, numbers))}" if numbers and isinstance(svc["targetPort"], str) else ""
        what += f" -> targetPort {svc['targetPort']}{resolved})"
    if port is None and not svc:
        # "any port" asks whether SOME port is allowed: say so, and which ports were found
        verdicts = [r.verdict for r in results if r.allowed is True and r.verdict is not None]
        found = sorted({v.resolved_port for v in verdicts if v.resolved_port})
        what = "some port (any port was asked)"
        if found:
            what += ": " + ", ".join(f"{p}/{data['protocol']}" for p in found)
        elif overall is False:
            what += f": no {data['protocol']} port is allowed"
        elif overall is None:
            what += f": no {data['protocol']} port is known to be allowed"
    lines = [f"{style(VERDICT_TEXT[overall], VERDICT_COLOUR[overall], 'bold')}  {src.ref} -> {dst.ref} on {what}"]
    if svc and svc.get("notServing"):
        lines.append(
            f"not endpoints of this Service port (no container port named {svc['targetPort']}): "
            + ", ".join(svc["notServing"])
        )
    n_ok = sum(1 for r in results if r.allowed is True)
    ranged = next((e for e in (dst, src) if e.is_range), None)
    if ranged is not None:
        # an ip:CIDR end means every address in it: say how much of it is allowed
        if overall is True:
            lines.append(f"every address in {ranged.ref} is allowed")
        elif n_ok == 0:
            lines.append(f"no address in {ranged.ref} is allowed" if overall is False else "no address known to be allowed")
        else:
            ok_ranges = [r.destination if ranged is dst else r.source for r in results if r.allowed is True]
            lines.append(
                f"not every address in {ranged.ref} is allowed: {n_ok} of {len(results)} ranges are ("
                + ", ".join(x.removeprefix("ip:") for x in ok_ranges[:5])
                + (", ..." if len(ok_ranges) > 5 else "")
                + ")"
            )
    elif len(results) > 1:
        lines.append(f"{n_ok} of {len(results)} pod pairs allowed")
    shown = results if wide else _representatives(results)
    for r in shown:
        lines.append("")
        if len(results) > 1:
            lines.append(style(f"{r.source} -> {r.destination}" + (f" port {r.port}" if r.port is not None else ""), "bold"))
        if r.problem is not None:
            lines.append(f"  {style('DENIED', 'red')}: {r.problem}")
            continue
        v = r.verdict
        assert v is not None
        if getattr(v, "resolved_port", None) is not None and isinstance(r.port, str):
            lines.append(f"  port {r.port} is {v.resolved_port}/{data['protocol']} on {r.destination}")
        shown_notes: set[str] = set()
        for d in (v.egress, v.ingress):
            lines.extend(_direction_lines(d, r.source if d.direction == "egress" else r.destination, wide))
            shown_notes.update(d.notes or ())
            shown_notes.add(d.reason or "")
            shown_notes.update(diff.text for near in d.closest or () for diff in near.differences)
        # the verdict's notes gather the directions' ones: print only those not said above
        for note in getattr(v, "notes", ()) or ():
            if not any(note in said for said in shown_notes):
                lines.append(f"  note: {note}")
    if data["fix"]:
        from ..netpol import generate

        lines.append("")
        lines.append("A minimal NetworkPolicy that would allow it (review before applying):")
        if data.get("fixCommand"):
            lines.append(f"# {data['fixCommand']} prints the same")
        lines.extend(generate.to_yaml(data["fix"]).splitlines())
    emit(lines, out)


def _representatives(results: Sequence[PairResult]) -> list[PairResult]:
    """One pair per distinct outcome (first denied, first unknown, first allowed), to keep the answer short."""
    shown: list[PairResult] = []
    seen: set[Any] = set()
    for want in (False, None, True):
        for r in results:
            key = (r.allowed, r.problem)
            if r.allowed is want and key not in seen:
                seen.add(key)
                shown.append(r)
                break
    return shown


def _direction_lines(d: DirectionVerdict, who: str, wide: bool) -> list[str]:
    title = "egress from" if d.direction == "egress" else "ingress to"
    status = {True: style("allowed", "green"), False: style("DENIED", "red"), None: style("UNKNOWN", "yellow")}[d.allowed]
    lines = [f"  {title} {who}: {status}"]
    if d.selecting:
        lines.append(f"    policies selecting the pod: {', '.join(d.selecting)}")
    if d.decided_by is not None:
        verb = "allowed by" if d.allowed else "denied by"
        lines.append(f"    {verb}: {d.decided_by.describe()}")
    if d.reason and not (d.allowed and d.decided_by is not None) and not (d.unknown_reason and d.unknown_reason in d.reason):
        lines.append(f"    {d.reason}")
    if d.unknown_reason:
        lines.append(f"    unknown: {d.unknown_reason}")
    if d.allowed is False and d.closest:
        lines.append("    closest rules:")
        for near in d.closest if wide else d.closest[:3]:
            lines.append(f"      - {near.rule.describe()}")
            for diff in near.differences:
                lines.append(f"          {diff.text}")
    if wide:
        for step in d.steps or ():
            lines.append(f"    [{step.tier}] {step.outcome}" + (f": {step.text}" if step.text else ""))
    for note in d.notes or ():
        if note not in (d.reason or ""):
            lines.append(f"    note: {note}")
    return lines


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
    from .results import findings_rows, reach_rows, subject_text

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
        sm = conn["summary"]
        parts.append(f"CONNECTIVITY: {sm['addedPairs']} new flows, {sm['removedPairs']} removed, "
                     f"{sm['changedPairs']} with changed ports (pod pairs)"
                     + (f", {sm['unknownPairs']} whose unknown ports changed" if sm["unknownPairs"] else ""))  # fmt: skip
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
        sm = perms["summary"]
        parts.append(f"PERMISSIONS: {sm['gained']} gained ({sm['riskyGained']} risky), {sm['lost']} lost")
        if perms["changes"]:
            rows = [[p["change"], subject_text(p["subject"]), p["namespace"] or "(cluster-wide)", p["permission"],
                     ", ".join(p["risky"]) or "-"] + ([p["via"]] if wide else []) for p in perms["changes"]]  # fmt: skip
            parts.append(table(["change", "subject", "namespace", "permission", "risky"] + (["via"] if wide else []), rows))
        parts.append("")
    reach = data.get("reach")
    if reach is not None:
        grouped = reach_rows(reach["changes"])
        parts.append(f"REACH: {len(reach['changes'])} footholds of {len({r['identity'] for r in reach['changes']})} "
                     f"identities reach differently")  # fmt: skip
        if grouped and not wide:
            parts.append(table(["identities", "change", "foothold", "now reachable", "no longer reachable"],
                               [[_short(c) for c in row] for row in grouped]))  # fmt: skip
        elif grouped:
            parts += [r["text"] for r in reach["changes"]]
        parts.append("")
    findings = data.get("findings")
    if findings is not None:
        parts.append(f"FINDINGS: {len(findings['new'])} new, {len(findings['fixed'])} fixed, {len(findings['changed'])} changed")
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
