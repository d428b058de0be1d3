"""Network commands: `can-reach` (one flow, explained) and `paths` (every flow in scope). Parse -> engine -> render.

The NetworkPolicy semantics live in kubectl_netsso.netpol (pure); endpoint resolution in netpol/endpoints.py;
facts come from cluster/manifests.py (offline) or cluster/live.py. This module only wires and renders.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from .. import log
from ..errors import EXIT_ERROR, EXIT_NO, EXIT_OK, EXIT_USAGE, NetssoError
from . import completion
from .options import KubeOptions, cni_option, kube_options, kube_options_for, manifests_option, output_option

if TYPE_CHECKING:
    from ..cluster.snapshot import Snapshot, Workload
    from ..netpol.endpoints import Endpoint

PROTOCOL = click.Choice(["TCP", "UDP", "SCTP"], case_sensitive=False)
IPBLOCK_PODS = click.Choice(["match", "ignore"])
IPBLOCK_HELP = (
    "Whether ipBlock peers match pod IPs: 'match' (upstream conformance tests; the default) or 'ignore' (CNIs such "
    "as Cilium that apply ipBlock only to traffic from outside the cluster)."
)
STATUS = {True: "ALLOWED", False: "DENIED", None: "UNKNOWN"}
CELL = {True: ".", False: "X", None: "?"}
COLOUR = {True: "green", False: "red", None: "yellow"}


# --- loading -----------------------------------------------------------------------------------------------------


@dataclass
class Loaded:
    snapshot: Snapshot
    namespace: str  # the default namespace (-n, else the context's, else "default")
    live: bool
    cni_warning: str | None = None
    detected_cni: str | None = None  # live: the CNI the DaemonSets show (calico, cilium), None when not known


def _load(kube: KubeOptions, manifests: Sequence[str], namespaces: Callable[[str], list[str] | None]) -> Loaded:
    """Snapshot from --manifests or the live cluster. namespaces(default_ns) -> namespaces to read live (None: all)."""
    if manifests:
        from ..cluster.manifests import load_snapshot

        return Loaded(load_snapshot(list(manifests)), _offline_namespace(kube), live=False)
    from ..cluster import kubeconfig

    ctx = kubeconfig.resolve_context(kube.kubeconfig, kube.context)
    default_ns = kubeconfig.effective_namespace(kube.namespace, ctx)
    live: Any = importlib.import_module("kubectl_netsso.cluster.live")
    snap = live.load_snapshot(kube, namespaces(default_ns), parts={"network"})
    warning: str | None = None
    detected: str | None = None
    try:
        warning, detected = live.LiveClient(kube).cni_check()
    except NetssoError as err:  # the warning is advice: never fail the answer because of it
        log.debug(f"CNI check skipped: {err.message}")
    return Loaded(snap, default_ns, live=True, cni_warning=warning, detected_cni=detected)


def _offline_namespace(kube: KubeOptions) -> str:
    """-n, else the kubeconfig context's namespace, else "default" -- as can-i, reach and audit do offline (a
    kubeconfig that cannot be read does not stop an offline command)."""
    from ..cluster import kubeconfig

    return kubeconfig.offline_namespace(kube)


def _print_warnings(loaded: Loaded, compiled: Any) -> list[str]:
    """Snapshot/compile warnings and the CNI warning go to stderr (and into JSON under "warnings")."""
    warnings: list[str] = []
    if loaded.cni_warning:
        warnings.append(loaded.cni_warning)
    for w in list(getattr(compiled, "warnings", ()) or loaded.snapshot.warnings):
        if w not in warnings:
            warnings.append(w)
    for gap in loaded.snapshot.gaps:
        # What the source could not read: verdicts depending on it are unknown; pods it hides are not listed.
        where = f" in namespace {gap.namespace}" if gap.namespace else ""
        text = f"cannot see {gap.resource}{where}: {gap.reason}"
        if text not in warnings:
            warnings.append(text)
    for w in warnings:
        log.warn(w)
    return warnings


def _compile(loaded: Loaded, ipblock_pods: str | None, cni: str) -> Any:
    from ..netpol.compile import compile_snapshot

    chosen = resolve_cni(cni, loaded.snapshot, loaded.detected_cni)
    compiled = compile_snapshot(loaded.snapshot, ipblock_pods=ipblock_pods, cni=chosen)  # type: ignore[arg-type]
    if cni.startswith("auto") and compiled.cni != "generic":
        why = "its DaemonSets" if loaded.detected_cni else "the policy objects in the input"
        log.info(f"evaluating with {compiled.cni.capitalize()}'s semantics (--cni auto: {why})")
    return compiled


def resolve_cni(cni: str, snapshot: Snapshot, detected: str | None) -> str:
    """--cni auto: the CNI the cluster's DaemonSets show (live), else the one whose policy objects the input holds;
    several -> a usage error naming --cni. A ":MODE" suffix (--policy-enforcement) is Cilium's only."""
    from ..netpol.compile import CNIS, detect_cni, several_cnis

    name, _, mode = cni.partition(":")
    if name == "auto":
        name = detected if detected is not None and detected in CNIS else detect_cni(snapshot)
        if several_cnis(snapshot) and detected is None:
            name = "auto"  # several CNIs' objects: the engine evaluates none of them and says why
    if mode and name not in ("cilium", "auto"):
        raise NetssoError(
            f"--policy-enforcement {mode} is Cilium's (the semantics chosen are {name})",
            hint="add --cni cilium, or leave --policy-enforcement at its default",
            exit_code=EXIT_USAGE,
        )
    return f"{name}:{mode}" if mode else name


def _evaluate(compiled: Any, flow: Any, explain: bool) -> Any:
    from ..netpol.evaluate import evaluate_flow

    return evaluate_flow(compiled, flow, explain=explain)


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
@click.option("--ipblock-pods", type=IPBLOCK_PODS, default=None, help=IPBLOCK_HELP)
@cni_option
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
    ipblock_pods: str | None,
    cni: str,
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
    from ..netpol import endpoints

    protocol = protocol.upper()
    if from_selector and source and destination is None:
        source, destination = None, source  # `can-reach --from-selector app=x TO`: the one positional is TO
    if bool(source) == bool(from_selector):
        raise NetssoError(
            "give exactly one source: FROM or --from-selector",
            hint="e.g. can-reach frontend/deploy/web shop/svc/api --port 80",
            exit_code=EXIT_USAGE,
        )
    if bool(destination) == bool(to_selector):
        if destination is None and source and not from_selector and not to_selector:
            raise NetssoError(
                "missing TO", hint="e.g. can-reach frontend/deploy/web shop/svc/api --port 80", exit_code=EXIT_USAGE
            )
        raise NetssoError("give exactly one destination: TO or --to-selector", exit_code=EXIT_USAGE)
    port = endpoints.parse_port(port_text)
    from_labels = endpoints.parse_labels(from_selector) if from_selector else None
    to_labels = endpoints.parse_labels(to_selector) if to_selector else None

    def wanted(default_ns: str) -> list[str] | None:
        names: set[str] = set()
        for text, sel_ns, labels in ((source, from_namespace, from_labels), (destination, to_namespace, to_labels)):
            if labels is not None:
                names.add(sel_ns or default_ns)
            elif text and not text.lower().startswith("ip:"):
                names.add(endpoints.split_endpoint(text, default_ns)[0])
        return sorted(names)

    loaded = _load(kube, manifests, wanted)
    snap, ns = loaded.snapshot, loaded.namespace
    src = (
        endpoints.selector_endpoint(snap, from_labels, from_namespace or ns)
        if from_labels is not None
        else endpoints.resolve_endpoint(snap, source or "", ns, role="source")
    )
    dst = (
        endpoints.selector_endpoint(snap, to_labels, to_namespace or ns)
        if to_labels is not None
        else endpoints.resolve_endpoint(snap, destination or "", ns, role="destination")
    )
    if src.is_external and dst.is_external:
        raise NetssoError(
            "both FROM and TO are outside the cluster: no NetworkPolicy applies",
            hint="one end must be in the cluster",
            exit_code=EXIT_USAGE,
        )
    if port is None and dst.service is None:
        port_note = "any port"
    else:
        port_note = ""
    compiled = _compile(loaded, ipblock_pods, cni)
    warnings = _print_warnings(loaded, compiled)
    from ..netpol.pairs import evaluate_endpoints

    answer = evaluate_endpoints(compiled, src, dst, port, protocol)
    results = list(answer.pairs)
    overall = answer.allowed
    fix = _fix(results) if overall is False else []
    fix_command = None
    if fix:
        from ..netpol.pairs import fix_command as command_for

        sides = [str(o["spec"]["policyTypes"][0]).lower() for o in fix]
        fix_command = command_for(src, dst, port, protocol, sides)
    data = {
        "status": STATUS[overall],
        "allowed": overall,
        "from": src.ref,
        "to": dst.ref,
        "port": port,
        "protocol": answer.protocol,
        "service": answer.service,
        "flows": [r.to_dict() for r in results],
        "fix": fix,
        "fixCommand": fix_command,
        "warnings": warnings,
        "source": snap.source,
        "cni": compiled.cni,
    }
    from ..output import render

    if not render(data, output):
        _print_can_reach(data, results, src, dst, port_note, wide=detail)
    return {True: EXIT_OK, False: EXIT_NO, None: EXIT_ERROR}[overall]


def _fix(results: Sequence[Any]) -> list[dict[str, Any]]:
    """The minimal allowing policies from the engine's explanation of the first denied pair.

    Empty when no NetworkPolicy can fix it (e.g. an AdminNetworkPolicy Deny: the verdict carries a note instead).
    """
    for r in results:
        if r.allowed is False and r.verdict is not None:
            return [dict(o) for o in r.verdict.fix]
    return []


def _print_can_reach(
    data: Mapping[str, Any], results: Sequence[Any], src: Endpoint, dst: Endpoint, port_note: str, wide: bool
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
        found = sorted({r.verdict.resolved_port for r in results if r.allowed is True and r.verdict.resolved_port})
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


def _representatives(results: Sequence[Any]) -> list[Any]:
    """One pair per distinct outcome (first denied, first unknown, first allowed), to keep the answer short."""
    out: list[Any] = []
    seen: set[Any] = set()
    for want in (False, None, True):
        for r in results:
            key = (r.allowed, r.problem)
            if r.allowed is want and key not in seen:
                seen.add(key)
                out.append(r)
                break
    return out


def _direction_lines(d: Any, who: str, wide: bool) -> list[str]:
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


@dataclass
class PortKey:
    port: int | str | None
    protocol: str

    @property
    def text(self) -> str:
        return f"{'any' if self.port is None else self.port}/{self.protocol}"


@dataclass
class PathsRun:
    """Everything the renderers need: the pods/workloads in scope and a verdict per (source, destination, port)."""

    sources: list[Workload]
    destinations: list[Workload]
    blocks: list[tuple[PortKey, list[int], Any]] = field(default_factory=list)  # (port, destination indexes, result)
    in_scope: Callable[[Workload, Workload], bool] = lambda a, b: True
    scope_ns: str | None = None  # -n NS: only flows into or out of NS
    warnings: list[str] = field(default_factory=list)
    external: list[Any] = field(default_factory=list)  # (direction, workload, ExternalFlow): addresses outside


@click.command("paths")
@click.option(
    "--from", "from_text", metavar="FROM", help="Only flows from this endpoint (NAME, TYPE/NAME, NS/NAME, NS/TYPE/NAME)."
)
@click.option("--to", "to_text", metavar="TO", help="Only flows to this endpoint (a Service means its backing pods).")
@click.option(
    "--port", "port_text", metavar="PORT", help="Only this port (number or name); default: each declared container port."
)
@click.option("--protocol", type=PROTOCOL, help="Only this protocol (default TCP with --port, else every declared one).")
@click.option("--ipblock-pods", type=IPBLOCK_PODS, default=None, help=IPBLOCK_HELP)
@cni_option
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
    ipblock_pods: str | None,
    cni: str,
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
    from ..netpol import endpoints

    port = endpoints.parse_port(port_text)
    proto = protocol.upper() if protocol else ("TCP" if port is not None else None)
    loaded = _load(kube, manifests, lambda _ns: None)  # flows into NS come from everywhere: read all namespaces
    snap = loaded.snapshot
    scope_ns = None if kube.all_namespaces else loaded.namespace
    compiled = _compile(loaded, ipblock_pods, cni)
    warnings = _print_warnings(loaded, compiled)
    pods = sorted((w for w in snap.workloads if not _is_owner_object(w, snap)), key=lambda w: (w.namespace, w.name, w.kind))
    sources = pods
    destinations = pods
    if from_text:
        src = endpoints.resolve_endpoint(snap, from_text, loaded.namespace, role="source")
        if src.is_external:
            raise NetssoError(
                "--from must be in the cluster: paths lists pod-to-pod flows",
                hint="use can-reach for ip: endpoints",
                exit_code=EXIT_USAGE,
            )
        keep = {id(w) for w in src.workloads}
        sources = [w for w in pods if id(w) in keep]
    if to_text:
        dst = endpoints.resolve_endpoint(snap, to_text, loaded.namespace, role="destination")
        if dst.is_external:
            raise NetssoError(
                "--to must be in the cluster: paths lists pod-to-pod flows",
                hint="use can-reach for ip: endpoints",
                exit_code=EXIT_USAGE,
            )
        keep = {id(w) for w in dst.workloads}
        if dst.service is not None and port is not None:
            # as in can-reach, --port with a Service is the Service port: evaluate its targetPort (a name is resolved
            # on each backing pod); pods without a named targetPort are not endpoints of it
            tgts, sp = endpoints.targets(dst, port, proto)
            assert sp is not None
            target = sp.target_port
            port = int(target) if isinstance(target, str) and target.isdigit() else target
            proto = sp.protocol.upper()
            keep = {id(t.workload) for t in tgts if t.problem is None} or keep
            log.info(f"{dst.ref} port {sp.port}/{proto}" + (f" ({sp.name})" if sp.name else "") + f" -> targetPort {target}")
        destinations = [w for w in pods if id(w) in keep]
    if scope_ns is not None and not any(w.namespace == scope_ns for w in pods) and snap.namespace(scope_ns) is None:
        raise NetssoError(f"namespace {scope_ns} not found", hint="use -A for all namespaces, or -n NS")
    if isinstance(port, str) and not any(
        cp.name == port and cp.protocol.upper() == (proto or "TCP") for w in destinations for cp in w.ports
    ):
        # a typo (--port htpp) would otherwise give a silent table of denied (or, unisolated, "allowed") flows
        text = f"named port {port} ({proto or 'TCP'}) is not a container port of any destination in scope"
        log.warn(text)
        warnings.append(text)
    if compact:
        if output == "matrix":
            raise NetssoError("--compact prints rules: use -o table, json or yaml", exit_code=EXIT_USAGE)
        from .paths_compact import run_compact

        return run_compact(
            compiled,
            pods,
            sources,
            destinations,
            port=port,
            protocol=proto,
            scope_ns=scope_ns,
            external_sources=external and not from_text,
            external_destinations=external and not to_text,
            warnings=warnings,
            output=output,
        )
    run = PathsRun(sources=sources, destinations=destinations, warnings=warnings)
    if scope_ns is not None:
        # -n NS: "flows into and out of that namespace"; rows only for sources with a flow in scope
        run.scope_ns = scope_ns
        run.in_scope = lambda a, b, _ns=scope_ns: a.namespace == _ns or b.namespace == _ns  # type: ignore[misc]
        into_ns = any(d.namespace == scope_ns for d in destinations)
        run.sources = [w for w in sources if w.namespace == scope_ns or into_ns]
    for key, dst_idx in _port_blocks(run.destinations, port, proto):
        dsts = [run.destinations[i] for i in dst_idx]
        result = _compute_paths(compiled, run.sources, dsts, key.port, key.protocol)
        run.blocks.append((key, dst_idx, result))
    from . import paths_compact

    if external and output != "matrix":
        run.external = paths_compact.external_flows(
            compiled, sources, run.destinations, run.blocks, scope_ns=scope_ns, egress=not to_text, ingress=not from_text
        )
    paths_compact.warn_if_big(run)
    if output == "json":
        _stream_json(run, sys.stdout)
    elif output == "yaml":
        _stream_yaml(run, sys.stdout)
    elif output == "matrix":
        _print_matrix(run)
    else:
        _print_paths_table(run, wide=output == "wide")
        paths_compact.print_external_table(run, _group)
    return EXIT_OK


def _is_owner_object(w: Workload, snap: Snapshot) -> bool:
    """Never drop anything: a live pod and its Deployment object are not both listed by SOURCES (pods only)."""
    return False


def _port_blocks(
    destinations: Sequence[Workload], port: int | str | None, protocol: str | None
) -> list[tuple[PortKey, list[int]]]:
    """(port/protocol, destination indexes) to evaluate: --port -> every destination; else each declared port."""
    if port is not None:
        return [(PortKey(port, protocol or "TCP"), list(range(len(destinations))))]
    by_key: dict[tuple[int, str], list[int]] = {}
    for i, w in enumerate(destinations):
        for cp in w.ports:
            proto = cp.protocol.upper()
            if protocol and proto != protocol:
                continue
            idx = by_key.setdefault((cp.port, proto), [])
            if not idx or idx[-1] != i:
                idx.append(i)
    return [(PortKey(p, pr), idx) for (p, pr), idx in sorted(by_key.items(), key=lambda kv: (kv[0][1], kv[0][0]))]


class _Block:
    """One port/protocol of a paths run over NETPOL's PathsResult (class bitsets), with pair lookups for the renderers."""

    def __init__(self, result: Any, sources: Sequence[Workload], destinations: Sequence[Workload]) -> None:
        self.result = result
        self.sources = sources
        self.destinations = destinations
        self._sel: dict[tuple[str, int], tuple[str, ...]] = {}

    def allowed(self, i: int, j: int) -> bool | None:
        return self.result.allowed(0, i, j)

    def directions(self, i: int, j: int) -> tuple[bool | None, bool | None]:
        return self.result.direction(0, i, j)

    def evidence(self, i: int, j: int) -> Any:
        return self.result.evidence(0, i, j, explain=False)

    def resolved_port(self, j: int, port: int | str | None, protocol: str) -> int | None:
        """A named port's number on destination j ("resolved on the destination pod by name and protocol")."""
        if not isinstance(port, str):
            return None
        for cp in self.destinations[j].ports:
            if cp.name == port and cp.protocol.upper() == protocol:
                return cp.port
        return None

    @staticmethod
    def index_of(dest_index: int, dst_idx: Sequence[int]) -> int | None:
        """Position of run destination dest_index inside a block's destination list (sorted ascending)."""
        from bisect import bisect_left

        k = bisect_left(dst_idx, dest_index)
        return k if k < len(dst_idx) and dst_idx[k] == dest_index else None

    def selecting(self, direction: str, index: int) -> tuple[str, ...]:
        """Policies selecting source i (egress) or destination j (ingress): per class, from one representative."""
        res = self.result
        cls = res.source_class[index] if direction == "egress" else res.dest_class[index]
        key = (direction, cls)
        if key not in self._sel:
            if hasattr(res, "selecting"):
                self._sel[key] = tuple(res.selecting(direction, cls))
            elif direction == "egress":
                self._sel[key] = tuple(self.evidence(index, 0).egress.selecting) if self.destinations else ()
            else:
                self._sel[key] = tuple(self.evidence(0, index).ingress.selecting) if self.sources else ()
        return self._sel[key]


def _compute_paths(
    compiled: Any, sources: Sequence[Workload], destinations: Sequence[Workload], port: Any, protocol: str
) -> _Block:
    from ..netpol.paths import compute_paths

    result = compute_paths(
        compiled, [compiled.peer(w) for w in sources], [compiled.peer(w) for w in destinations], [(port, protocol)]
    )
    return _Block(result, sources, destinations)


def _iter_rows(run: PathsRun) -> Iterable[tuple[int, int, PortKey, _Block]]:
    """(source index, destination index in block, port, block) for every pair in scope: by source, destination, port."""
    for s_i, s in enumerate(run.sources):
        rows = []
        for b, (key, dst_idx, block) in enumerate(run.blocks):
            for j, d_i in enumerate(dst_idx):
                if run.in_scope(s, run.destinations[d_i]):
                    rows.append((d_i, b, j, key, block))
        rows.sort(key=lambda r: (r[0], r[1]))
        for _d_i, _b, j, key, block in rows:
            yield s_i, j, key, block


_ASCII0 = ord("0")


def _spread(bits: int, width: int) -> int:
    """An int bitset as a big int with one byte per bit (byte k = bit k), built with C-level int/bytes operations."""
    text = format(bits, "b").zfill(width)[::-1].encode("ascii")  # b"0110..." indexed by class
    return int.from_bytes(text, "little") - int.from_bytes(bytes([_ASCII0]) * width, "little") if width else 0


def _class_codes(res: Any, sc: int, width: int) -> bytes:
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


_LOOPBACK_CODE = 1 | 4 | 16  # allowed, egress and ingress allowed: "a pod cannot block traffic to itself"


def _row_name(run: PathsRun) -> Callable[[Workload], str]:
    """How JSON/YAML name a pod or workload: exactly as the table and can-reach do (NS/NAME for a pod, NS/kind/NAME
    for a workload), so a name from any output can be given back as an endpoint."""
    return _ref


def _workloads_json(run: PathsRun, name: Callable[[Workload], str]) -> dict[str, Any]:
    """The "workloads" map: kind and the policies selecting each pod/workload per direction (None: not computed)."""
    out: dict[str, Any] = {}
    for idx, w in enumerate(run.sources):
        entry = out.setdefault(name(w), {"kind": w.kind, "egress": None, "ingress": None})
        if run.blocks:
            entry["egress"] = list(run.blocks[0][2].selecting("egress", idx))
    for d_i, w in enumerate(run.destinations):
        entry = out.setdefault(name(w), {"kind": w.kind, "egress": None, "ingress": None})
        for _key, dst_idx, block in run.blocks:
            j = block.index_of(d_i, dst_idx)
            if j is not None:
                entry["ingress"] = list(block.selecting("ingress", j))
                break
    return out


def _stream_json(run: PathsRun, out: Any) -> None:
    """{"paths": [...], "workloads": {...}, "warnings": [...]}: one path per line, streamed (millions on big clusters).

    Rows are assembled from byte pieces rendered once per source, per destination and per verdict code, reading
    the engine's per-class bitsets directly; each source's row is joined by C-level iterators and written at once.
    """
    from itertools import chain, repeat

    def enc(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode("ascii")

    raw = getattr(out, "buffer", None)
    if raw is not None:
        out.flush()
        write: Callable[[bytes], Any] = raw.write
    else:  # a text-only stream (tests): decode each row

        def write(data: bytes) -> Any:
            return out.write(data.decode("ascii"))

    name = _row_name(run)
    write(b'{"paths": [')
    first = True
    all_scope = run.scope_ns is None
    for key, dst_idx, block in run.blocks:
        res = block.result
        dsts = [run.destinations[d_i] for d_i in dst_idx]
        width = len(res.dest_reps)
        port_proto = b',"port":' + enc(key.port) + b',"protocol":' + enc(key.protocol) + b',"allowed":'
        to_piece = [b',"to":' + enc(name(d)) for d in dsts]
        tails = []
        for j in range(len(dsts)):
            rp = block.resolved_port(j, key.port, key.protocol)
            tails.append(b"}" + (b',"resolvedPort":' + enc(rp) if rp is not None else b"") + b"}")
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
            head = b',\n  {"from":' + enc(name(s))
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
            if first and parts:
                parts[0] = parts[0][1:]  # no comma before the first path
                first = False
            write(b"".join(parts))
    from .paths_compact import external_json

    for piece in external_json(run, name):
        write((b"\n  " if first else b",\n  ") + piece)
        first = False
    write(b"\n" if not first else b"")
    workloads = _workloads_json(run, name)
    entries = ",\n  ".join(json.dumps(k) + ": " + json.dumps(v, separators=(",", ":")) for k, v in workloads.items())
    write(b'],\n"workloads": {' + (("\n  " + entries + "\n").encode("ascii") if entries else b"") + b"}")
    write(b',\n"warnings": ' + json.dumps(run.warnings).encode("ascii") + b"}\n")
    if raw is not None:
        raw.flush()
    else:
        out.flush()


def _row_dict(
    name: Callable[[Workload], str], s: Workload, d: Workload, key: PortKey, block: _Block, s_i: int, j: int
) -> dict[str, Any]:
    eg, ing = block.directions(s_i, j)
    item: dict[str, Any] = {
        "from": name(s),
        "to": name(d),
        "port": key.port,
        "protocol": key.protocol,
        "allowed": block.allowed(s_i, j),
        "egress": {"allowed": eg},
        "ingress": {"allowed": ing},
    }
    rp = block.resolved_port(j, key.port, key.protocol)
    if rp is not None:
        item["resolvedPort"] = rp
    return item


def _stream_yaml(run: PathsRun, out: Any) -> None:
    """The same document as JSON, in block YAML (one yaml.safe_dump per path, streamed)."""
    import yaml

    name = _row_name(run)
    empty = True
    for s_i, j, key, block in _iter_rows(run):
        if empty:
            out.write("paths:\n")
            empty = False
        row = _row_dict(name, run.sources[s_i], block.destinations[j], key, block, s_i, j)
        out.write(yaml.safe_dump([row], sort_keys=False, default_flow_style=False))
    from .paths_compact import external_row

    for direction, w, flow in run.external:
        if empty:
            out.write("paths:\n")
            empty = False
        out.write(yaml.safe_dump([external_row(direction, w, flow, name)], sort_keys=False, default_flow_style=False))
    if empty:
        out.write("paths: []\n")
    rest = {"workloads": _workloads_json(run, name), "warnings": run.warnings}
    out.write(yaml.safe_dump(rest, sort_keys=False, default_flow_style=False))
    out.flush()


def _first(it: Iterable[Any]) -> Iterable[Any]:
    for x in it:
        yield x
        return


def _ref(w: Workload) -> str:
    return w.ref


def _shown(w: Workload) -> str:
    """The name as a text renderer shows it (escaped), for a width computed before the writer escapes it."""
    from ..output import escape

    return escape(w.ref)


def _decider(d: Any) -> str:
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
