"""The text formats (table, wide): the kubectl-style plain table every listing command prints, the paths tables,
the compact rules and the can-reach explanation (who-can, who-can-reach and diff: table_review.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


# --- who-can, who-can-reach, diff: in table_review.py ---------------------------------------------------------------


def render_who_can(result: DocumentView, out: TextIO, fmt: str = "table", **options: str) -> None:
    from .table_review import render_who_can as render

    render(result, out, fmt, **options)


def render_who_can_reach(result: DocumentView, out: TextIO, fmt: str = "table", **options: str) -> None:
    from .table_review import render_who_can_reach as render

    render(result, out, fmt, **options)


def render_diff(data: Any, out: TextIO, fmt: str = "table", **options: str) -> None:
    from .table_review import render_diff as render

    render(data, out, fmt, **options)
