"""What each foothold reaches, through the NetworkPolicy engine (kubectl_netsso.netpol.evaluate).

- a pod the identity can exec into / attach to: everything that pod may connect to (its egress, and the far
  side's ingress), per declared destination port;
- port-forward: the pod itself (the kubelet connects inside the pod's network namespace: no policy applies);
- a Service proxy: the Service (the API server connects to its endpoints);
- create pods/workloads in NS: the union, over every label set that any policy in scope trusts (plus the labels
  pods already wear there, and merges of "labels NS's egress policies select" with "labels someone trusts"),
  of what a pod with those labels reaches;
- edit NetworkPolicies in NS: anything into or out of NS (the identity can write the allow rule).

Destinations are evaluated per equivalence class (same namespace, labels and ports), and expanded to
workloads only for output. Pure: no I/O.

Long because: the five foothold kinds share one class-expansion and evaluation loop; apart, each would repeat it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..cluster.snapshot import Snapshot, Workload
from ..netpol.compile import CompiledPolicy, CompiledSnapshot, compile_snapshot
from ..netpol.evaluate import allowed_pair, evaluate_flow
from ..netpol.fastreach import FastReach
from ..netpol.fastreach import applicable as fast_applicable
from ..netpol.match import Tri, namespace_selected
from ..netpol.model import ExternalPeer, Flow, PodPeer
from ..netpol.selectors import LabelSelector
from .footholds import workload_groups
from .model import CREATE, NETPOL, POD, SERVICE, Destination, Foothold, Reach

# A documentation address (RFC 5737 TEST-NET-2): "somewhere on the internet" for the not-egress-isolated check.
INTERNET_PROBE = "198.51.100.1"


@dataclass(frozen=True, slots=True)
class _DestClass:
    peer: PodPeer  # the representative
    groups: tuple[tuple[str, tuple[Workload, ...]], ...]  # workload ref -> its pods


@dataclass
class ReachEngine:
    """Compiles the snapshot once and memoises flow answers per (source class, destination class, port)."""

    snapshot: Snapshot
    compiled: CompiledSnapshot = field(init=False)
    max_label_sets: int = 64
    _classes: list[_DestClass] = field(init=False, default_factory=list)
    _memo: dict[tuple[object, ...], Tri] = field(init=False, default_factory=dict)
    _services_of: dict[str, list[str]] = field(init=False, default_factory=dict)
    _fast: FastReach | None = field(init=False, default=None)
    _fast_checked: bool = field(init=False, default=False)
    _portless: set[int] = field(init=False, default_factory=set)
    _external_cache: dict[object, list[Destination]] = field(init=False, default_factory=dict)
    _class_by_ref: dict[str, int] = field(init=False, default_factory=dict)
    _targets: list[list[tuple[str, str, str]]] = field(init=False, default_factory=list)  # per class: ref, ns, note
    _create_memo: dict[str, Reach] = field(init=False, default_factory=dict)  # by namespace: who creates is no matter
    _ranges: list[tuple[str, str, str, list[tuple[int | str | None, str, str]], str]] | None = field(init=False, default=None)
    use_fast: bool = True
    cni: str = "auto"  # whose policy semantics (netpol.compile): auto, generic, calico, cilium[:MODE]

    def __post_init__(self) -> None:
        self.compiled = compile_snapshot(self.snapshot, ipblock_pods=None, cni=self.cni)  # ipBlock: as the CNI does
        self._classes = self._destination_classes()
        self._portless = {i for i, dc in enumerate(self._classes) if not dc.peer.ports}
        self._class_by_ref = {ref: i for i, dc in enumerate(self._classes) for ref, _ in dc.groups}
        from ..netpol.endpoints import backing_workloads

        for svc in self.snapshot.services:
            for w in backing_workloads(self.snapshot, svc):
                self._services_of.setdefault(w.ref, []).append(f"{svc.namespace}/svc/{svc.name}")
        self._targets = [
            [
                (ref, dc.peer.namespace, ("via " + ", ".join(self._services_of[ref])) if ref in self._services_of else "")
                for ref, _ in dc.groups
            ]
            for dc in self._classes
        ]

    # --- classes ---------------------------------------------------------------------------------------------------

    def _uses_pod_ips(self) -> bool:
        if self.compiled.cni == "calico" and self.compiled.calico.networks:
            return True  # Calico nets and network sets match pod IPs
        if self.compiled.ipblock_pods != "match":
            return False
        for p in self._all_policies():
            for rules in (p.ingress or (), p.egress or ()):
                for r in rules:
                    if any(pm.kind in ("ipBlock", "networks") for pm in r.peers):
                        return True
        return False

    def _all_policies(self) -> Iterable[CompiledPolicy]:
        for ps in self.compiled.network_policies.values():
            yield from ps
        yield from self.compiled.admin_policies
        if self.compiled.baseline is not None:
            yield self.compiled.baseline

    def _destination_classes(self) -> list[_DestClass]:
        with_ips = self._uses_pod_ips()
        # "traffic to and from the node where a Pod is running is always allowed": with hostNetwork pods (which are
        # their node) in the snapshot, pods on different nodes answer differently
        with_nodes = any(w.host_network for w in self.snapshot.workloads)
        by_key: dict[tuple[object, ...], list[Workload]] = {}
        for w in self.snapshot.workloads:
            key = (
                w.namespace,
                frozenset(w.labels.items()),
                tuple(sorted((p.port, p.protocol, p.name or "") for p in w.ports)),
                w.host_network,
                tuple(w.ips) if with_ips else (),
                (w.node, self.compiled.peer(w).node_ips) if with_nodes else (),
                w.service_account if self.compiled.cni != "generic" else None,  # a CNI may select by it
            )
            by_key.setdefault(key, []).append(w)
        out = []
        for ws in by_key.values():
            peer = self.compiled.peer(ws[0])
            # A class stands for several objects: never the "pod to itself" case.
            peer = replace(peer, name=f"class:{ws[0].ref}", kind="Class")
            groups = tuple((ref, tuple(pods)) for ref, pods in workload_groups(ws))
            out.append(_DestClass(peer, groups))
        out.sort(key=lambda c: c.groups[0][0])
        return out

    # --- evaluation ------------------------------------------------------------------------------------------------

    def _allowed(self, src: PodPeer, src_key: object, dst: _DestClass, port: int | str, protocol: str) -> Tri:
        key = (src_key, id(dst), port, protocol)
        if key not in self._memo:
            self._memo[key] = allowed_pair(self.compiled, src, dst.peer, port, protocol)
        return self._memo[key]

    def _fast_index(self) -> FastReach | None:
        if self.use_fast and self._fast is None and not self._fast_checked:
            self._fast_checked = True
            peers = [dc.peer for dc in self._classes]
            if fast_applicable(self.compiled, peers):
                self._fast = FastReach(self.compiled, peers)
        return self._fast

    def reach_from_peer(
        self, src: PodPeer, *, exclude: Sequence[str] = (), labels: Mapping[str, str] | None = None
    ) -> tuple[list[Destination], int]:
        """Destinations a pod reaches (per declared port of each destination), plus the count of unknown verdicts.

        exclude: workload refs not to list (the foothold's own pods).
        """
        reached, unknown_classes, _ = self._class_reach(src)
        out: list[Destination] = []
        unknown = sum(1 for ci in unknown_classes for ref, _ in self._classes[ci].groups if ref not in exclude)
        for ci, ports in reached:
            out.extend(self._expand(ci, ports, labels, exclude))
        out.extend(self._external(src, labels))
        return out, unknown

    def _expand(
        self, ci: int, ports: Sequence[str], labels: Mapping[str, str] | None, exclude: Sequence[str] = ()
    ) -> Iterator[Destination]:
        """A destination class reached on ports, as one Destination per workload of it (sharing one copy of labels)."""
        shown = tuple(ports)
        worn = dict(labels) if labels is not None else None
        for ref, namespace, note in self._targets[ci]:
            if ref not in exclude:
                yield Destination(ref, namespace, shown, worn, (), note)

    def _class_reach(
        self, src: PodPeer, seen: set[object] | None = None
    ) -> tuple[list[tuple[int, list[str]]], list[int], bool]:
        """The destination classes src reaches with their allowed ports (class order), the classes without declared
        ports whose verdict was unknown, and whether src's bitset signature is in ``seen`` (then the classes with
        declared ports are left out: a source of the same signature already reached exactly those; it is added)."""
        fast = self._fast_index() if not src.host_network else None
        allowed: dict[int, list[str]] = {}
        repeated = False
        if fast is not None:
            sig = fast.signature(src)
            repeated = seen is not None and sig in seen
            if seen is not None:
                seen.add(sig)
            allowed = {} if repeated else fast.allowed(src, sig)
            # only the classes the bitsets allow, plus those without declared ports (the per-pair engine decides)
            todo = sorted(set(allowed) | self._portless)
        else:
            todo = list(range(len(self._classes)))
        src_key = self.source_key(src)
        reached: list[tuple[int, list[str]]] = []
        unknown: list[int] = []
        for ci in todo:
            dc = self._classes[ci]
            if fast is not None and dc.peer.ports:
                ports, saw_unknown = allowed.get(ci, []), False
            else:
                ports, saw_unknown = self._slow_ports(src, src_key, dc)
            if ports:
                reached.append((ci, ports))
            elif saw_unknown:
                unknown.append(ci)
        return reached, unknown, repeated

    @staticmethod
    def source_key(src: PodPeer) -> tuple[object, ...]:
        """What a source's verdicts depend on (the memo key of _allowed)."""
        return (
            src.namespace, frozenset(src.labels.items()), src.host_network, tuple(src.ips), src.node, src.node_ips,
            src.service_account,
        )  # fmt: skip

    # --- towards one destination (who-can-reach) -------------------------------------------------------------------

    def class_of(self, ref: str) -> int | None:
        """The destination class holding a workload ref (as Destination.ref names it), None when not a destination."""
        return self._class_by_ref.get(ref)

    def class_peer(self, index: int) -> PodPeer:
        return self._classes[index].peer

    def ports_towards(self, src: PodPeer, index: int, port: int | str | None, protocol: str) -> tuple[list[str], bool]:
        """The ports on which src reaches destination class index, and whether a verdict was unknown: the port asked,
        or (None) every declared port as reach lists them (the same per-pair verdicts reach_from_peer gives)."""
        dc = self._classes[index]
        if port is None:
            return self._slow_ports(src, self.source_key(src), dc)
        proto = protocol.upper()
        v = self._allowed(src, self.source_key(src), dc, port, proto)
        return ([f"{port}/{proto}"] if v is True else []), v is None

    def policies(self) -> Iterable[CompiledPolicy]:
        """Every compiled policy (NetworkPolicies, AdminNetworkPolicies, the BaselineAdminNetworkPolicy)."""
        return self._all_policies()

    def _slow_ports(self, src: PodPeer, src_key: object, dc: _DestClass) -> tuple[list[str], bool]:
        """The per-pair engine: each declared port (or "any port" for a pod without declared ports)."""
        ports: list[str] = []
        candidates: list[tuple[int | str, str, str]] = [
            (
                cp.port,
                cp.protocol.upper(),
                f"{cp.name}={cp.port}/{cp.protocol.upper()}" if cp.name else f"{cp.port}/{cp.protocol.upper()}",
            )
            for cp in dc.peer.ports
        ]
        if not candidates:
            candidates = [(0, "TCP", "any/TCP")]
        saw_unknown = False
        for port, proto, text in candidates:
            if port == 0:
                v = evaluate_flow(self.compiled, Flow(src, dc.peer, None, proto), explain=False).allowed
            else:
                v = self._allowed(src, src_key, dc, port, proto)
            if v is True:
                ports.append(text)
            elif v is None:
                saw_unknown = True
        return ports, saw_unknown

    def _external(self, src: PodPeer, labels: Mapping[str, str] | None) -> list[Destination]:
        """External CIDRs the pod may connect to: egress ipBlocks/networks that allow it, or anything when not isolated.

        The answer depends only on the egress policies selecting the pod (NetworkPolicy v1): memoised per set.
        """
        fast = self._fast_index() if not src.host_network else None
        key: object = (
            ("np", fast.egress_key(src))
            if fast is not None
            else (src.namespace, frozenset(src.labels.items()), src.service_account)
        )
        if key not in self._external_cache:
            self._external_cache[key] = self._external_uncached(src)
        found = self._external_cache[key]
        if labels is None:
            return found
        return [Destination(d.ref, d.namespace, d.ports, dict(labels), d.via, d.note) for d in found]

    def _egress_ranges(self) -> list[tuple[str, str, str, list[tuple[int | str | None, str, str]], str]]:
        """Every egress ipBlock/networks range of every policy, in policy order, with one address inside it (outside
        its excepts) and the ports to try: (policy label, range, address, [(port, protocol, text)], note)."""
        if self._ranges is None:
            self._ranges = []
            for p in self._all_policies():
                for rule in p.egress or ():
                    for pm in rule.peers:
                        if pm.kind not in ("ipBlock", "networks"):
                            continue
                        for net in pm.cidrs:
                            ip = _inside(net, pm.excepts)
                            if ip is None:
                                continue
                            ports = [m for m in rule.ports] if not rule.all_ports else []
                            tries: list[tuple[int | str | None, str, str]] = [
                                (m.port if m.port is not None else None, m.protocol, m.describe()) for m in ports
                            ] or [(None, "TCP", "any")]
                            note = f"except {', '.join(map(str, pm.excepts))}" if pm.excepts else ""
                            self._ranges.append((p.label, str(net), ip, tries, note))
        return self._ranges

    def _external_uncached(self, src: PodPeer) -> list[Destination]:
        out: list[Destination] = []
        fast = self._fast_index() if not src.host_network else None
        chosen = fast.egress_key(src) if fast is not None else ()

        def allowed(ip: str, port: int | str | None, proto: str) -> bool:
            if fast is not None:
                return fast.external_allowed(src, ip, port, proto, chosen)
            return evaluate_flow(self.compiled, Flow(src, ExternalPeer(ip), port, proto), explain=False).allowed is True

        if fast is not None:
            not_isolated = not chosen
        else:
            probe = evaluate_flow(self.compiled, Flow(src, ExternalPeer(INTERNET_PROBE), None, "TCP"), explain=False)
            not_isolated = probe.egress.allowed is True and not probe.egress.selecting
        if not_isolated:
            return [Destination("ip:0.0.0.0/0", None, ("any",), None, note="not egress-isolated: any address")]
        seen: set[str] = set()
        for label, text, ip, tries, note in self._egress_ranges():
            if text in seen:
                continue
            allowed_ports = [text_port for port, proto, text_port in tries if allowed(ip, port, proto)]
            if allowed_ports:
                seen.add(text)
                out.append(Destination(f"ip:{text}", None, tuple(allowed_ports), None, via=(label,), note=note))
        if self.compiled.cni == "calico":
            out += self._calico_external(src, allowed, seen)
        if self.compiled.cni == "cilium":
            out += self._cilium_external(src, allowed, seen)
        return out

    def _cilium_external(self, src: PodPeer, allowed: Any, seen: set[str]) -> list[Destination]:
        """Cilium egress allows to CIDRs and to the world entity (probed with one address inside each range)."""
        out = []
        for cp in self.compiled.cilium.policies:
            for rule in cp.allows("egress"):
                targets = [(c, ex) for c, ex in rule.cidrs]
                if rule.entities & {"world", "all", "world-ipv4"}:
                    targets.append((ipaddress.ip_network("0.0.0.0/0"), ()))
                for net, excepts in targets:
                    text = str(net)
                    ip = _inside(net, excepts)
                    if text in seen or ip is None:
                        continue
                    tries: list[tuple[int | None, str]] = [
                        (p.lo, proto) for pr in rule.port_rules or () for p in pr.ports if p.name is None
                        for proto in sorted(p.protocols)
                    ] or [(None, "TCP")]  # fmt: skip
                    ok = [f"{p}/{proto}" if p is not None else "any" for p, proto in tries if allowed(ip, p, proto)]
                    if ok:
                        seen.add(text)
                        note = f"except {', '.join(map(str, excepts))}" if excepts else ""
                        out.append(Destination(f"ip:{text}", None, tuple(ok), via=(cp.label,), note=note))
        return out

    def _calico_external(self, src: PodPeer, allowed: Any, seen: set[str]) -> list[Destination]:
        """Calico egress Allow rules to nets, and network sets (a selector may name them): the ranges the pod may reach
        (probed with one address inside each)."""
        out = []
        # the ports Calico egress rules name (a network set is reached through some rule's ports, or on any port)
        named = sorted(
            {
                (p.lo, {17: "UDP", 132: "SCTP"}.get(r.protocol or 6, "TCP"))
                for cp in self.compiled.calico.policies
                for r in cp.egress
                if r.action == "Allow"
                for p in r.destination.ports or ()
                if p.name is None
            }
        )
        for s in self.compiled.calico.sets:
            for net in s.nets if s.kind == "netset" else ():
                ip = _inside(net, ())
                text = str(net)
                if text in seen or ip is None:
                    continue
                ok = [f"{p}/{proto}" for p, proto in named if allowed(ip, p, proto)]
                if not ok and allowed(ip, None, "TCP"):
                    ok = ["any"]
                if ok:
                    seen.add(text)
                    out.append(Destination(f"ip:{text}", None, tuple(ok), note=f"network set {s.name}"))
        for cp in self.compiled.calico.policies:
            for rule in cp.egress:
                dest = rule.destination
                if rule.action != "Allow" or not dest.nets:
                    continue
                for net in dest.nets:
                    text = str(net)
                    ip = _inside(net, dest.not_nets or ())
                    if text in seen or ip is None:
                        continue
                    proto = {17: "UDP", 132: "SCTP"}.get(rule.protocol or 6, "TCP")
                    numbers = [p.lo for p in dest.ports or () if p.name is None]
                    tries: list[int | str | None] = list(numbers) or [None]
                    ok = [f"{p}/{proto}" if p is not None else "any" for p in tries if allowed(ip, p, proto)]
                    if ok:
                        seen.add(text)
                        out.append(Destination(f"ip:{text}", None, tuple(ok), via=(cp.label,)))
        return out

    # --- footholds -------------------------------------------------------------------------------------------------

    def reach(self, foothold: Foothold) -> Reach:
        if foothold.kind == POD:
            return self._pod_reach(foothold)
        if foothold.kind == SERVICE:
            return Reach(
                foothold,
                (Destination(foothold.target, foothold.namespace, ("service ports",), note="through the API server proxy"),),
                "low",
                "API server proxy to one Service",
            )
        if foothold.kind == CREATE:
            return self._create_reach(foothold)
        if foothold.kind == NETPOL:
            dests = tuple(
                Destination(ref, foothold.namespace, ("any",), note="can write an allow rule for it")
                for dc in self._classes
                if dc.peer.namespace == foothold.namespace
                for ref, _ in dc.groups
            )
            return Reach(
                foothold,
                dests,
                "critical",
                f"can rewrite the NetworkPolicies of {foothold.namespace}: any flow into or out of it",
                any_destination=True,
            )
        raise ValueError(f"unknown foothold kind {foothold.kind!r}")

    def _pod_reach(self, fh: Foothold) -> Reach:
        actions = set(fh.actions)
        own = {ref for ref, _ in workload_groups(fh.workloads)} | {fh.target}
        dests: dict[str, Destination] = {}
        unknown = 0
        if actions & {"exec", "attach"}:
            seen: set[tuple[object, ...]] = set()
            for w in fh.workloads:
                key = (frozenset(w.labels.items()), w.host_network, tuple(w.ips), w.node, tuple(w.host_ips))
                if key in seen:
                    continue
                seen.add(key)
                found, unk = self.reach_from_peer(self.compiled.peer(w), exclude=tuple(own))
                unknown += unk
                for d in found:
                    dests.setdefault(d.ref, d)
        if actions & {"port-forward", "pod proxy"}:
            ports = tuple(sorted({f"{p.port}/{p.protocol}" for w in fh.workloads for p in w.ports})) or ("any",)
            how = "port-forward" if "port-forward" in actions else "pod proxy"
            dests.setdefault(
                fh.target,
                Destination(fh.target, fh.namespace, ports, note=f"{how}: connects inside the pod, NetworkPolicy does not apply"),
            )
        result = tuple(sorted(dests.values(), key=lambda d: d.ref))
        cross = [d for d in result if beyond(d, fh.namespace)]
        external = [d for d in result if d.namespace is None]
        if actions & {"exec", "attach"} and (cross or external):
            risk, why = (
                "medium",
                f"runs commands in a pod that reaches {len(cross)} destination(s) in other namespaces"
                + (f" and {len(external)} external range(s)" if external else ""),
            )
        elif actions & {"exec", "attach"}:
            risk, why = "low", "runs commands in a pod whose reach stays in its namespace" + _dns_aside(result, fh.namespace)
        else:
            risk, why = "low", "connects to the pod's own ports"
        return Reach(fh, result, risk, why, unknown=unknown)

    def _create_reach(self, fh: Foothold) -> Reach:
        hit = self._create_memo.get(fh.namespace)
        if hit is None:
            hit = self._create_memo[fh.namespace] = self._create_reach_uncached(fh)
        return hit if hit.foothold == fh else replace(hit, foothold=fh)

    def _create_reach_uncached(self, fh: Foothold) -> Reach:
        ns = fh.namespace
        # per destination class (its workloads reach alike: nothing is excluded): the first label set that reaches
        # it and the union of its ports in order of appearance; addresses outside likewise per range
        classes: dict[int, tuple[dict[str, str], dict[str, None]]] = {}
        external: dict[str, Destination] = {}
        unknown = 0
        seen: set[object] = set()  # bitset signatures tried: a label set of a known signature reaches nothing new
        for labels in self.candidate_label_sets(ns):
            peer = self.compiled.selector_peer(ns, labels, name="{created pod}")
            reached, unknown_classes, repeated = self._class_reach(peer, seen)
            unknown += sum(len(self._classes[ci].groups) for ci in unknown_classes)
            for ci, ports in reached:
                hit = classes.get(ci)
                if hit is None:
                    classes[ci] = (labels, dict.fromkeys(ports))
                else:
                    hit[1].update(dict.fromkeys(ports))
            if repeated:
                continue  # the same egress policies select it: the same addresses outside
            for d in self._external(peer, labels):
                old = external.get(d.ref)
                if old is None:
                    external[d.ref] = d
                else:
                    merged = tuple(dict.fromkeys(old.ports + d.ports))
                    if merged != old.ports:
                        external[d.ref] = Destination(old.ref, old.namespace, merged, old.labels, old.via, old.note)
        dests = {d.ref: d for ci, (labels, ports) in classes.items() for d in self._expand(ci, tuple(ports), labels)}
        dests.update(external)
        result = tuple(sorted(dests.values(), key=lambda d: d.ref))
        cross = [d for d in result if beyond(d, ns)]
        if cross:
            example = cross[0]
            wear = _labels_text(example.labels or {})
            risk, why = (
                "high",
                (
                    f"can create pods with any labels in {ns}: reaches {len(cross)} destination(s) in other "
                    f"namespaces (e.g. as {wear}: {example.ref})"
                ),
            )
        else:
            risk, why = "medium", f"can create pods with any labels in {ns}; their reach stays in {ns}" + _dns_aside(result, ns)
        return Reach(fh, result, risk, why, unknown=unknown)

    def candidate_label_sets(self, namespace: str) -> list[dict[str, str]]:
        """Label sets worth trying for a pod created in namespace (see module docstring), most specific first.

        Trusted: every ingress peer (NP/ANP/BANP Allow) that can match a pod of this namespace. Egress: the pods
        this namespace's policies select (their egress rules apply to them). Existing: labels pods wear here.
        """
        ns_peer = self.compiled.selector_peer(namespace, {})
        trusted: list[dict[str, str]] = []
        egress: list[dict[str, str]] = []
        for p in self._all_policies():
            for rule in p.ingress or ():
                if rule.action != "Allow":
                    continue
                for pm in rule.peers:
                    if pm.kind != "pods" or pm.pod_selector is None:
                        continue
                    if pm.namespace is not None:
                        if pm.namespace != namespace:
                            continue
                    elif namespace_selected(self.compiled, pm.namespace_selector, ns_peer) is False:
                        continue
                    lab = labels_satisfying(pm.pod_selector)
                    if lab is not None:
                        trusted.append(lab)
        for p in self.compiled.policies_in(namespace):
            if p.egress and p.subject_pod_selector is not None:
                lab = labels_satisfying(p.subject_pod_selector)
                if lab is not None:
                    egress.append(lab)
        existing = [dict(w.labels) for w in self.snapshot.workloads if w.namespace == namespace]
        merged: list[dict[str, str]] = []
        for e in egress:
            for t in trusted:
                if all(e.get(k, v) == v for k, v in t.items()):
                    merged.append({**e, **t})
        out: list[dict[str, str]] = []
        seen: set[frozenset[tuple[str, str]]] = set()
        for lab in [*merged, *trusted, *existing, *egress, {}]:
            key = frozenset(lab.items())
            if key not in seen:
                seen.add(key)
                out.append(lab)
        if len(out) > self.max_label_sets:
            out = out[: self.max_label_sets - 1] + [{}]
        return out


def labels_satisfying(sel: LabelSelector) -> dict[str, str] | None:
    """A smallest label set the selector matches (In: its first value; Exists: any value), or None if impossible."""
    labels: dict[str, str] = {}
    forbidden: dict[str, set[str]] = {}
    absent: set[str] = set()
    for r in sel.requirements:
        if r.operator == "In":
            allowed = [v for v in r.values if v not in forbidden.get(r.key, set())]
            if r.key in labels:
                if labels[r.key] not in r.values:
                    return None
                continue
            if not allowed:
                return None
            labels[r.key] = allowed[0]
        elif r.operator == "Exists":
            labels.setdefault(r.key, "x")
        elif r.operator == "NotIn":
            forbidden.setdefault(r.key, set()).update(r.values)
        elif r.operator == "DoesNotExist":
            absent.add(r.key)
    for key, values in forbidden.items():
        if key in labels and labels[key] in values:
            # An Exists placeholder may clash with NotIn: pick another value.
            if labels[key] == "x" and "y" not in values:
                labels[key] = "y"
            else:
                return None
    if absent & set(labels):
        return None
    return labels if sel.matches(labels) else None


def _inside(
    net: ipaddress.IPv4Network | ipaddress.IPv6Network, excepts: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> str | None:
    """An address in net outside every except range (None when the excepts cover it all)."""
    candidates = [net.network_address, net.broadcast_address]
    for e in excepts:
        if e.version == net.version:
            candidates += [
                e.network_address - 1 if int(e.network_address) > 0 else e.network_address,
                e.broadcast_address + 1 if int(e.broadcast_address) < int(net.broadcast_address) else e.broadcast_address,
            ]
    for c in candidates:
        if c in net and not any(c.version == e.version and c in e for e in excepts):
            return str(c)
    return None


def is_dns_only(d: Destination) -> bool:
    """A destination reached only on port 53: the cluster DNS every pod needs, not a risk of its own."""
    numbers = [p.split("/", 1)[0].rsplit("=", 1)[-1] for p in d.ports]
    return bool(numbers) and all(n == "53" for n in numbers)


def beyond(d: Destination, namespace: str) -> bool:
    """A destination in another namespace (DNS excepted): what a foothold adds beyond its own namespace."""
    return d.namespace is not None and d.namespace != namespace and not is_dns_only(d)


def _dns_aside(destinations: Sequence[Destination], namespace: str) -> str:
    """The " (DNS aside)" suffix when the only destinations outside the namespace are DNS (which `beyond` does not count)."""
    outside = any(d.namespace is not None and d.namespace != namespace for d in destinations)
    return " (DNS aside)" if outside else ""


def _labels_text(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "(no labels)"


def reach_all(engine: ReachEngine, footholds: Iterable[Foothold]) -> list[Reach]:
    """Reach of each foothold; the riskiest first."""
    from .model import severity_rank

    out = [engine.reach(f) for f in footholds]
    return sorted(out, key=lambda r: (-severity_rank(r.risk), r.foothold.namespace, r.foothold.kind, r.foothold.target))
