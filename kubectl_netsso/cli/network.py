"""Network commands: `can-reach` (one flow, explained) and `paths` (every flow in scope). Parse -> engine -> render.

The NetworkPolicy semantics live in kubectl_netsso.netpol (pure); endpoint resolution in netpol/endpoints.py;
facts come from cluster/manifests.py (offline) or cluster/live.py. This module only wires and renders.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from .. import log
from ..errors import EXIT_ERROR, EXIT_NO, EXIT_OK, EXIT_USAGE, NetssoError
from ..output.style import VERDICT_TEXT as STATUS
from . import completion
from .options import KubeOptions, cni_option, kube_options, kube_options_for, manifests_option, output_option

if TYPE_CHECKING:
    from ..cluster.snapshot import Snapshot, Workload

PROTOCOL = click.Choice(["TCP", "UDP", "SCTP"], case_sensitive=False)
IPBLOCK_PODS = click.Choice(["match", "ignore"])
IPBLOCK_HELP = (
    "Whether ipBlock peers match pod IPs: 'match' (upstream conformance tests; the default) or 'ignore' (CNIs such "
    "as Cilium that apply ipBlock only to traffic from outside the cluster)."
)


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
        from ..output.results import CanReachView

        render(CanReachView(data, results, src, dst, port), "wide" if detail else "table", kind="can_reach")
    return {True: EXIT_OK, False: EXIT_NO, None: EXIT_ERROR}[overall]


def _fix(results: Sequence[Any]) -> list[dict[str, Any]]:
    """The minimal allowing policies from the engine's explanation of the first denied pair.

    Empty when no NetworkPolicy can fix it (e.g. an AdminNetworkPolicy Deny: the verdict carries a note instead).
    """
    for r in results:
        if r.allowed is False and r.verdict is not None:
            return [dict(o) for o in r.verdict.fix]
    return []


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
@output_option("table", "wide", "matrix", "json", "yaml", "csv", "markdown", "dot")
@click.option(
    "--dot-nodes",
    type=click.Choice(["workload", "namespace"]),
    default="workload",
    show_default=True,
    help="With -o dot: one node per workload (boxed by namespace) or per namespace.",
)
@manifests_option
@kube_options
def paths(
    kube: KubeOptions,
    manifests: tuple[str, ...],
    output: str,
    dot_nodes: str,
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
    -o csv|markdown: the same rows (per pair or --compact) for a spreadsheet or a review; -o dot: the allowed
    flows as a Graphviz graph (--dot-nodes workload|namespace).
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
        from ..output import formats

        if output not in formats("compact"):
            raise NetssoError(f"--compact prints rules: use -o {', '.join(formats('compact'))}", exit_code=EXIT_USAGE)
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
    from ..output import render

    render(run, output, kind="paths", nodes=dot_nodes)
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


__all__ = ["can_reach", "paths"]
