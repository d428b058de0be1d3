"""Network commands: `can-reach` (one flow, explained) and `paths` (every flow in scope): parse the options, call the
use case (usecases/can_reach.py, usecases/paths.py), render its result. The JSON of paths streams from
output/paths_stream.py; the tables are drawn here.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from .. import log
from ..cluster.target import KubeOptions
from ..errors import EXIT_OK, EXIT_USAGE, NetssoError
from ..usecases.can_reach import STATUS
from . import completion
from .options import kube_options, kube_options_for, manifests_option, output_option

if TYPE_CHECKING:
    from ..cluster.snapshot import Workload
    from ..netpol.endpoints import Endpoint
    from ..netpol.model import DirectionVerdict
    from ..netpol.pairs import PairResult
    from ..usecases.paths import PathsRun

PROTOCOL = click.Choice(["TCP", "UDP", "SCTP"], case_sensitive=False)
IPBLOCK_PODS = click.Choice(["match", "ignore"])
IPBLOCK_HELP = (
    "Whether ipBlock peers match pod IPs: 'match' (upstream conformance tests) or 'ignore' (CNIs such as Cilium "
    "that apply ipBlock only to traffic from outside the cluster)."
)
CELL = {True: ".", False: "X", None: "?"}
COLOUR = {True: "green", False: "red", None: "yellow"}


# --- can-reach ---------------------------------------------------------------------------------------------------


@click.command("can-reach")
@click.argument("source", metavar="FROM", required=False, shell_complete=completion.source_endpoints)
@click.argument("destination", metavar="TO", required=False, shell_complete=completion.destination_endpoints)
@click.option("--port", "port_text", metavar="PORT", help="Port number or name (the Service port when TO is a Service).")
@click.option("--protocol", type=PROTOCOL, default="TCP", show_default=True)
@click.option("--from-selector", metavar="LABELS", help="Source is a (hypothetical) pod with these labels, e.g. app=web.")
@click.option("--from-namespace", metavar="NS", help="Namespace of --from-selector (default: -n).")
@click.option("--to-selector", metavar="LABELS", help="Destination is a (hypothetical) pod with these labels.")
@click.option("--to-namespace", metavar="NS", help="Namespace of --to-selector (default: -n).")
@click.option("--ipblock-pods", type=IPBLOCK_PODS, default="match", show_default=True, help=IPBLOCK_HELP)
@output_option("table", "json", "yaml")
@click.option(
    "--detail",
    is_flag=True,
    help="Every pod pair (not one per outcome), every closest rule, and the ANP -> NP -> BANP walkthrough.",
)
@manifests_option
@kube_options_for(all_namespaces=False)
def can_reach(
    kube: KubeOptions,
    manifests: tuple[str, ...],
    output: str,
    detail: bool,
    source: str | None,
    destination: str | None,
    port_text: str | None,
    protocol: str,
    from_selector: str | None,
    from_namespace: str | None,
    to_selector: str | None,
    to_namespace: str | None,
    ipblock_pods: str,
) -> int:
    """Can FROM reach TO? ALLOWED / DENIED / UNKNOWN, and why (per direction), with a policy that would allow it.

    \b
    FROM / TO (resolved like kubectl resolves names):
      NAME           a pod in the -n namespace, else a workload of that name
      TYPE/NAME      TYPE: pod|po, deploy, sts, ds, rs, job, cronjob|cj, svc (TO only)
      NS/NAME        NS/TYPE/NAME
      ip:ADDRESS     a host outside the cluster
      ip:CIDR        every address of a range: ALLOWED only when all of them are
    --from-selector/--to-selector (with --from-namespace/--to-namespace) stand for a pod with those labels,
    even one that does not exist yet. A Service as TO means its backing pods on the Service port's targetPort.

    \b
    Exit status: 0 allowed, 1 denied, 2 usage error, 3 unknown or error.
    Example:
      kubectl netsso can-reach frontend/deploy/web shop/svc/api --port 80 --manifests example:shop
    """
    from ..output import render
    from ..usecases import can_reach as usecase
    from ..usecases.source import Source, print_warnings

    inp = usecase.CanReachInput(
        source, destination, port_text, protocol, from_selector, from_namespace, to_selector, to_namespace, ipblock_pods
    )
    result = usecase.run(inp, Source(kube, manifests))
    print_warnings(result.warnings)
    data = result.to_dict()
    if not render(data, output):
        port_note = "any port" if result.port is None and result.destination.service is None else ""
        _print_can_reach(data, list(result.pairs), result.source, result.destination, port_note, wide=detail)
    return result.exit_code


def _print_can_reach(
    data: Mapping[str, Any], results: Sequence[PairResult], src: Endpoint, dst: Endpoint, port_note: str, wide: bool
) -> None:
    from ..output import emit, style

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
        found = sorted(
            {r.verdict.resolved_port for r in results if r.allowed is True and r.verdict and r.verdict.resolved_port}
        )
        what = "some port (any port was asked)"
        if found:
            what += ": " + ", ".join(f"{p}/{data['protocol']}" for p in found)
        elif overall is False:
            what += f": no {data['protocol']} port is allowed"
        elif overall is None:
            what += f": no {data['protocol']} port is known to be allowed"
    lines = [f"{style(STATUS[overall], COLOUR[overall], 'bold')}  {src.ref} -> {dst.ref} on {what}"]
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
    emit(lines)


def _representatives(results: Sequence[PairResult]) -> list[PairResult]:
    """One pair per distinct outcome (first denied, first unknown, first allowed), to keep the answer short."""
    out: list[PairResult] = []
    seen: set[tuple[bool | None, str | None]] = set()
    for want in (False, None, True):
        for r in results:
            key = (r.allowed, r.problem)
            if r.allowed is want and key not in seen:
                seen.add(key)
                out.append(r)
                break
    return out


def _direction_lines(d: DirectionVerdict, who: str, wide: bool) -> list[str]:
    from ..output import style

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


# --- paths -------------------------------------------------------------------------------------------------------


@click.command("paths")
@click.option(
    "--from", "from_text", metavar="FROM", help="Only flows from this endpoint (NAME, TYPE/NAME, NS/NAME, NS/TYPE/NAME)."
)
@click.option("--to", "to_text", metavar="TO", help="Only flows to this endpoint (a Service means its backing pods).")
@click.option(
    "--port", "port_text", metavar="PORT", help="Only this port (number or name); default: each declared container port."
)
@click.option("--protocol", type=PROTOCOL, help="Only this protocol (default TCP with --port, else every declared one).")
@click.option("--ipblock-pods", type=IPBLOCK_PODS, default="match", show_default=True, help=IPBLOCK_HELP)
@click.option(
    "--compact",
    is_flag=True,
    help="All ports, as grouped rules (namespaces and label selectors -> ... : port ranges) instead of pairs.",
)
@click.option(
    "--external/--no-external",
    default=True,
    show_default=True,
    help="Include flows to and from addresses outside the cluster (as ipBlock ranges).",
)
@output_option("table", "wide", "matrix", "json", "yaml")
@manifests_option
@kube_options
def paths(
    kube: KubeOptions,
    manifests: tuple[str, ...],
    output: str,
    from_text: str | None,
    to_text: str | None,
    port_text: str | None,
    protocol: str | None,
    ipblock_pods: str,
    compact: bool,
    external: bool,
) -> int:
    """Every pod-to-pod flow in scope and whether NetworkPolicy allows it.

    \b
    Scope: -n NS (flows into and out of NS; default: the context's namespace) or -A (all).
    Output: table grouped by source workload (default), -o wide (adds the deciding policies), -o matrix (a truth
    table per port/protocol: rows from, columns to; '.' allowed, 'X' denied, '?' unknown), -o json|yaml:
      {"paths": [{"from": "NS/kind/NAME", "to": "NS/NAME", "port": 80, "protocol": "TCP", "allowed": true|false|null,
                  "egress": {"allowed": ...}, "ingress": {"allowed": ...}}, ...],
       "workloads": {"NS/kind/NAME": {"kind": ..., "egress": [policies], "ingress": [policies]}}, "warnings": [...]}
    Names as in the table: NS/NAME for a pod, NS/kind/NAME for a workload. With --port and --protocol every pair
    in scope appears exactly once. Rows with "ip:0.0.0.0/0 except ..." as from/to are addresses outside the
    cluster (--no-external leaves them out).
    --compact: all ports and protocols as grouped rules, {"rules": [{"from", "to", "ports", "allowed"}, ...]}.
    Why a flow is denied: can-reach.

    \b
    Examples:
      kubectl netsso paths -n shop --manifests example:shop
      kubectl netsso paths -A --port 8080 -o matrix --manifests example:shop
      kubectl netsso paths -A --compact --manifests example:shop
    """
    from ..usecases import paths as usecase
    from ..usecases.source import Source, print_warnings

    if compact and output == "matrix":
        raise NetssoError("--compact prints rules: use -o table, json or yaml", exit_code=EXIT_USAGE)
    inp = usecase.PathsInput(from_text, to_text, port_text, protocol, ipblock_pods, compact, external and output != "matrix")
    result = usecase.run(inp, Source(kube, manifests))
    print_warnings(result.warnings)
    from ..output import paths_stream

    if isinstance(result, usecase.CompactPaths):
        if output in ("json", "yaml"):
            paths_stream.write_compact(result, output, sys.stdout)
        else:
            from .paths_compact import print_compact

            print_compact(result.result)
        return EXIT_OK
    if result.size_warning:
        log.warn(result.size_warning)
    if output == "json":
        paths_stream.stream_json(result, sys.stdout)
    elif output == "yaml":
        paths_stream.stream_yaml(result, sys.stdout)
    elif output == "matrix":
        _print_matrix(result)
    else:
        from .paths_compact import print_external_table

        _print_paths_table(result, wide=output == "wide")
        print_external_table(result, _group)
    return EXIT_OK


def _shown(w: Workload) -> str:
    """The name as a text renderer shows it (escaped), for a width computed before the writer escapes it."""
    from ..output import escape

    return escape(w.ref)


def _decider(d: DirectionVerdict) -> str:
    """Short text for -o wide: the deciding rule, or why there is none."""
    if d.unknown_reason:
        return "unknown: " + d.unknown_reason
    if d.decided_by is not None:
        return d.decided_by.describe()
    if d.allowed and "always allowed" in (d.reason or ""):
        return d.reason  # a pod to itself, a pod and its own node: no policy decides
    if not d.selecting:
        return "not isolated (no policy)" if d.allowed else d.reason
    if d.allowed is False:
        return "no rule allows (" + ", ".join(p.split(" ", 1)[-1] for p in d.selecting) + ")"
    return d.reason


def _group(w: Workload) -> str:
    """The workload a pod belongs to (live pods carry their owner), else the object itself, as NS/kind/NAME."""
    if w.kind == "Pod" and w.owner:
        kind, _, name = w.owner.partition("/")
        return f"{w.namespace}/{kind.lower()}/{name}"
    return w.ref


def _print_paths_table(run: PathsRun, wide: bool) -> None:
    """Rows grouped by workload: live pods of one Deployment/StatefulSet/... are one row, with how many pod pairs agree.

    Streamed one source workload at a time with column widths computed up front, so a million-row table needs no
    more memory than a small one.
    """
    from ..output import TerminalWriter, escape, style

    out = TerminalWriter(sys.stdout)
    src_groups: dict[str, list[int]] = {}
    for i, s in enumerate(run.sources):
        src_groups.setdefault(_group(s), []).append(i)
    dst_groups: dict[str, int] = {}
    block_dst_group: list[list[str]] = []
    block_port: list[list[str]] = []
    for key, dst_idx, block in run.blocks:
        groups_here = []
        ports_here = []
        for j, d_i in enumerate(dst_idx):
            g = _group(run.destinations[d_i])
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
            shown = style(verdict, COLOUR[state] if not verdict.startswith("PARTLY") else "yellow")
            if wide:
                s_i, j, block = member
                v = block.evidence(s_i, j)
                wide_rows.append(
                    (cells, shown + " " * (w_verdict - len(verdict)), escape(_decider(v.egress)), escape(_decider(v.ingress)))
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


def _print_matrix(run: PathsRun) -> None:
    """A truth table per port/protocol: rows = from, columns = to (numbered as the rows' legend)."""
    from ..output import emit

    if not run.blocks or not run.sources:
        emit("no flows in scope")
        return
    everyone = sorted({id(w): w for w in (*run.sources, *run.destinations)}.values(), key=lambda w: (w.namespace, w.name, w.kind))
    number = {id(w): i + 1 for i, w in enumerate(everyone)}
    out: list[str] = []
    for key, dst_idx, result in run.blocks:
        dsts = [(j, run.destinations[d_i]) for j, d_i in enumerate(dst_idx)]
        dsts = [(j, d) for j, d in dsts if any(run.in_scope(s, d) for s in run.sources)]
        if not dsts:
            continue
        width = max(len(str(number[id(d)])) for _, d in dsts)
        label_w = max(len(f"{number[id(s)]} {_shown(s)}") for s in run.sources)
        out.append(f"{key.text}   (rows: from, columns: to; '.' allowed, 'X' denied, '?' unknown, ' ' not in scope)")
        out.append(" " * label_w + "  " + " ".join(str(number[id(d)]).rjust(width) for _, d in dsts))
        for s_i, s in enumerate(run.sources):
            cells = []
            for j, d in dsts:
                cells.append((CELL[result.allowed(s_i, j)] if run.in_scope(s, d) else " ").rjust(width))
            out.append(f"{number[id(s)]} {_shown(s)}".ljust(label_w) + "  " + " ".join(cells))
        out.append("")
    out.append("columns: " + ", ".join(f"{number[id(w)]}={_shown(w)}" for w in everyone))
    emit(out)


__all__ = ["can_reach", "paths"]
