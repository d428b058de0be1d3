"""who-can-reach: every RBAC subject with a foothold from which a destination is reachable, joined from the two
engines: the reverse RBAC index (rbac/whocan.py: who holds each foothold action, footholds.py's vocabulary) and the
reach engine (reach.py: which sources reach the destination, with the same per-pair verdicts `reach` uses). Plus
"anyone in the cluster" when any pod may connect, and "outside" when an ipBlock lets external traffic in.

The network side is computed first, once per source (pod class, created-pod label set); RBAC is asked only where a
source reaches the destination. A subject's rows are what `reach --as` that subject lists for the destination
(tests/unit/access/test_whocanreach.py checks it), plus exec/attach into the destination's own pods (reach lists
what a pod reaches beyond itself; here the pod itself is the most direct path). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..cluster.snapshot import Service, Snapshot, Workload
from ..cluster.snapshot import Subject as RbacSubject
from ..netpol.evaluate import evaluate_flow
from ..netpol.model import ExternalPeer, Flow, PodPeer
from ..rbac.authorize import SUPERUSER_GROUP, binding_ref, role_ref
from ..rbac.whocan import Holder, ReverseIndex
from .footholds import CREATE_ACTIONS, NETPOL_ACTIONS, POD_ACTIONS, SERVICE_ACTIONS, Action, namespaces_in, workload_groups
from .model import CREATE, NETPOL, POD, SERVICE, Access, Foothold
from .reach import INTERNET_PROBE, ReachEngine, _inside

# How direct a path is (lower first): inside the destination's pod, the API server proxy to its Service, a shell in
# a pod that reaches it, a new pod that would, rewriting the policies that guard it.
RANK_INSIDE = 0
RANK_PROXY = 1
RANK_EXEC = 2
RANK_CREATE = 3
RANK_NETPOL = 4
RANK_TEXT = {RANK_INSIDE: "inside its pod", RANK_PROXY: "API server proxy", RANK_EXEC: "from a pod it runs commands in",
             RANK_CREATE: "from a pod it creates", RANK_NETPOL: "by rewriting NetworkPolicies"}  # fmt: skip
INSIDE_ACTIONS = ("exec", "attach", "port-forward", "pod proxy")
MASTERS = RbacSubject("Group", SUPERUSER_GROUP)
SHELL_ACTIONS = ("exec", "attach")


@dataclass(frozen=True, slots=True)
class Path:
    """One way to the destination: the foothold (reach's vocabulary), where the traffic starts and what allows it."""

    rank: int
    foothold: Foothold
    source: str  # the source workload, "new pod in NS (labels)", "the API server", "inside the pod"
    to: str  # the destination workload reached
    ports: tuple[str, ...]
    via: tuple[str, ...] = ()  # the policy rules that allow the flow (egress, ingress), or why no policy applies
    labels: Mapping[str, str] | None = None  # CREATE: the labels the new pod wears

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rank": self.rank, "how": RANK_TEXT[self.rank], "foothold": self.foothold.to_dict(),
            "actionsText": self.foothold.actions_text(), "source": self.source,
            "to": self.to, "ports": list(self.ports), "via": list(self.via),
        }  # fmt: skip
        if self.labels is not None:
            out["asLabels"] = dict(self.labels)
        return out


@dataclass(frozen=True, slots=True)
class SubjectPaths:
    """One RBAC subject and its paths to the destination, most direct first."""

    subject: RbacSubject
    paths: tuple[Path, ...]

    @property
    def rank(self) -> int:
        return min(p.rank for p in self.paths)

    def to_dict(self) -> dict[str, Any]:
        s = self.subject
        out: dict[str, Any] = {"kind": s.kind, "name": s.name}
        if s.kind == "ServiceAccount":
            out["namespace"] = s.namespace
        out["rank"] = self.rank
        out["paths"] = [p.to_dict() for p in self.paths]
        return out


@dataclass(frozen=True, slots=True)
class OpenPath:
    """'anyone in the cluster' (any pod whose own egress allows it) or 'outside' (an address range)."""

    who: str  # "anyone in the cluster" | "ip:CIDR"
    to: str
    ports: tuple[str, ...]
    via: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"who": self.who, "to": self.to, "ports": list(self.ports), "via": list(self.via)}


@dataclass(frozen=True, slots=True)
class WhoCanReach:
    subjects: tuple[SubjectPaths, ...]
    anyone: tuple[OpenPath, ...]
    outside: tuple[OpenPath, ...]
    unknown: int = 0  # source x destination verdicts that are unknown (gaps)
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Goal:
    """One destination pod/workload and the port to check on it (a Service's resolved targetPort)."""

    workload: Workload
    port: int | str | None


@dataclass
class _Join:
    engine: ReachEngine
    index: ReverseIndex
    goals: Sequence[Goal]
    protocol: str
    _evidence: dict[tuple[object, ...], tuple[str, ...]] = field(default_factory=dict)

    def towards(self, src: PodPeer, exclude: Iterable[str] = ()) -> tuple[list[tuple[Goal, str, list[str]]], int]:
        """(goal, destination ref, ports) for every goal src reaches, and the unknown verdicts."""
        out = []
        unknown = 0
        skip = set(exclude)
        for g in self.goals:
            ref = group_ref(g.workload)
            ci = self.engine.class_of(ref)
            if ci is None or ref in skip:
                continue
            ports, unk = self.engine.ports_towards(src, ci, g.port, self.protocol)
            if ports:
                out.append((g, ref, ports))
            elif unk:
                unknown += 1
        return out, unknown

    def via(self, src: PodPeer | ExternalPeer, goal: Goal) -> tuple[str, ...]:
        """The rules that allow src -> goal (egress, then ingress), or what allows it without a rule."""
        src_key = src.ip if isinstance(src, ExternalPeer) else self.engine.source_key(src)
        key = (src_key, goal.workload.ref, goal.port)
        if key not in self._evidence:
            dst = self.engine.compiled.peer(goal.workload)
            v = evaluate_flow(self.engine.compiled, Flow(src, dst, goal.port, self.protocol), explain=False)
            parts = []
            for d in (v.egress, v.ingress):
                if d.decided_by is not None:
                    parts.append(d.decided_by.describe())
                elif d.allowed:
                    parts.append(f"{d.direction}: {d.reason}")
            self._evidence[key] = tuple(parts)
        return self._evidence[key]

    def holders(self, action: Action, namespace: str) -> list[Holder]:
        """Who holds the action: the direct holders, and system:masters (allowed before RBAC, bound or not)."""
        found = self.index.holders(action.request(namespace))
        direct = found.direct
        if any(h.subject == MASTERS for h in direct):
            return list(direct)
        return [*direct, *(h for h in found.holders if h.superuser)]


def group_ref(w: Workload) -> str:
    """The ref reach names a pod or workload by (live pods by their owner: Deployment, StatefulSet, ...)."""
    return workload_groups([w])[0][0]


def grant_text(h: Holder) -> str:
    """'RoleBinding shop/devs-edit -> ClusterRole edit', as reach and audit name how an action was obtained."""
    if h.grant is None:
        return h.grant_text()  # system:masters: the superuser group
    return f"{binding_ref(h.grant.binding)} -> {role_ref(h.grant.binding)}"


def _named_ok(h: Holder, pods: Sequence[Workload]) -> bool:
    """A name-restricted rule grants a pod action only on a bare Pod of that name (reach's rule, footholds.py)."""
    return not h.names or any(p.kind == "Pod" and p.name in h.names for p in pods)


def who_can_reach(
    snapshot: Snapshot,
    engine: ReachEngine,
    index: ReverseIndex,
    goals: Sequence[Goal],
    protocol: str = "TCP",
    namespaces: Sequence[str] | None = None,
) -> WhoCanReach:
    """Every subject with a path to the goals from a foothold in the namespaces (None: every namespace)."""
    join = _Join(engine, index, goals, protocol.upper())
    scope = list(namespaces) if namespaces is not None else namespaces_in(snapshot)
    goal_refs = {group_ref(g.workload) for g in goals}
    goal_ns = {g.workload.namespace for g in goals}
    found: dict[RbacSubject, dict[tuple[str, str, str, int, str], tuple[Path, list[Access]]]] = {}
    unknown = 0

    def grant(h: Holder, action: str, path: Path) -> None:
        key = (path.foothold.kind, path.foothold.namespace, path.foothold.target, path.rank, path.to)
        rows = found.setdefault(h.subject, {})
        if key not in rows:
            rows[key] = (path, [])
        access = rows[key][1]
        if all(a.action != action for a in access):
            access.append(Access(action, grant_text(h)))

    by_ns: dict[str, list[Workload]] = {}
    for w in snapshot.workloads:
        by_ns.setdefault(w.namespace, []).append(w)
    for ns in scope:
        # pods: exec/attach into a pod that reaches a goal (or is one); port-forward / pod proxy into a goal's pod
        groups = workload_groups(by_ns.get(ns, []))
        pod_paths: list[tuple[list[Workload], str, tuple[Path, ...], tuple[Path, ...]]] = []
        for ref, pods in groups:
            shell: list[Path] = []
            inside: list[Path] = []
            target = ref if len(pods) > 1 or pods[0].kind != "Pod" or ref != pods[0].ref else pods[0].ref
            fh = Foothold(POD, ns, target, (), tuple(pods))
            if ref in goal_refs:
                goal = next(g for g in goals if group_ref(g.workload) == ref)
                own = (f"{goal.port}/{join.protocol}",) if goal.port is not None else ("any",)
                inside.append(Path(RANK_INSIDE, fh, "inside the pod", ref, own, ("NetworkPolicy does not apply",)))
            seen: set[object] = set()
            for w in pods:
                key = (frozenset(w.labels.items()), w.host_network, tuple(w.ips), w.node, tuple(w.host_ips))
                if key in seen:
                    continue
                seen.add(key)
                peer = engine.compiled.peer(w)
                reached, unk = join.towards(peer, exclude=(ref, target))
                unknown += unk
                for g, to, ports in reached:
                    if all(p.to != to for p in shell):
                        shell.append(Path(RANK_EXEC, fh, ref, to, tuple(ports), join.via(peer, g)))
            if shell or inside:
                pod_paths.append((pods, ref, tuple(shell), tuple(inside)))
        if pod_paths:
            for a in POD_ACTIONS:
                hs = join.holders(a, ns)
                for pods, _ref, shell_paths, inside_paths in pod_paths:
                    paths = (*(shell_paths if a.name in SHELL_ACTIONS else ()), *inside_paths)
                    for h in hs:
                        if _named_ok(h, pods):
                            for p in paths:
                                if p.rank == RANK_INSIDE and a.name not in INSIDE_ACTIONS:
                                    continue
                                grant(h, a.name, p)
        # the API server's proxy to a Service a goal backs
        for svc in _services_of(snapshot, ns, goal_refs):
            fh = Foothold(SERVICE, ns, f"{ns}/svc/{svc.name}", ())
            for g in goals:
                if group_ref(g.workload) in _backends(snapshot, svc):
                    path = Path(RANK_PROXY, fh, "the API server", group_ref(g.workload), ("service ports",),
                                ("through the API server proxy",))  # fmt: skip
                    for a in SERVICE_ACTIONS:
                        for h in join.holders(a, ns):
                            if not h.names or svc.name in h.names:
                                grant(h, a.name, path)
        # new pods (or workloads) in ns: the first label set, most specific first, whose pod reaches each goal
        created: dict[str, Path] = {}
        for labels in engine.candidate_label_sets(ns):
            peer = engine.compiled.selector_peer(ns, labels, name="{created pod}")
            reached, unk = join.towards(peer)
            unknown += unk
            for g, to, new_ports in reached:
                if to not in created:
                    fh = Foothold(CREATE, ns, f"{ns}/*", ())
                    created[to] = Path(RANK_CREATE, fh, f"new pod in {ns}", to, tuple(new_ports), join.via(peer, g), labels)
        if created:
            for a in CREATE_ACTIONS:
                for h in join.holders(a, ns):
                    if not h.names:  # reach: a name-restricted rule creates nothing new
                        for p in created.values():
                            grant(h, a.name, p)
        # the NetworkPolicies of a goal's namespace: can write the allow rule
        if ns in goal_ns:
            fh = Foothold(NETPOL, ns, f"{ns}/networkpolicies", ())
            rewrite = [Path(RANK_NETPOL, fh, "any pod", group_ref(g.workload), ("any",), ("can write an allow rule for it",))
                       for g in goals if g.workload.namespace == ns]  # fmt: skip
            for a in NETPOL_ACTIONS:
                for h in join.holders(a, ns):
                    if not h.names:
                        for p in rewrite:
                            grant(h, a.name, p)
    subjects = []
    for subj, rows in found.items():
        merged = []
        for path, access in rows.values():
            fh = path.foothold
            merged.append(Path(path.rank, Foothold(fh.kind, fh.namespace, fh.target, tuple(access), fh.workloads),
                               path.source, path.to, path.ports, path.via, path.labels))  # fmt: skip
        merged.sort(key=lambda p: (p.rank, p.foothold.namespace, p.foothold.target, p.to))
        subjects.append(SubjectPaths(subj, tuple(merged)))
    kinds = {"User": 0, "Group": 1, "ServiceAccount": 2}
    # system:masters last: it always can (the superuser group), the other subjects are the news
    subjects.sort(key=lambda s: (s.subject == MASTERS, s.rank, kinds.get(s.subject.kind, 3), s.subject.namespace or "",
                                 s.subject.name))  # fmt: skip
    anyone, unk = _anyone(join)
    return WhoCanReach(tuple(subjects), anyone, _outside(join), unknown + unk)


def _backends(snapshot: Snapshot, svc: Service) -> set[str]:
    from ..netpol.endpoints import backing_workloads

    return {group_ref(w) for w in backing_workloads(snapshot, svc)}


def _services_of(snapshot: Snapshot, ns: str, goal_refs: set[str]) -> list[Service]:
    return sorted((s for s in snapshot.services if s.namespace == ns and _backends(snapshot, s) & goal_refs),
                  key=lambda s: s.name)  # fmt: skip


ANY_NAMESPACE = "netsso:any-namespace"  # a namespace no selector names (only its automatic name label)


def _anyone(join: _Join) -> tuple[tuple[OpenPath, ...], int]:
    """A pod without labels in a namespace no policy knows: when it reaches a goal, any pod in the cluster can (as far
    as the goal's ingress goes; the source pod's own egress policies may still stop it)."""
    peer = join.engine.compiled.selector_peer(ANY_NAMESPACE, {}, name="{any pod}")
    reached, unknown = join.towards(peer)
    return tuple(OpenPath("anyone in the cluster", to, tuple(ports), join.via(peer, g)) for g, to, ports in reached), unknown


def _outside(join: _Join) -> tuple[OpenPath, ...]:
    """Address ranges outside the cluster the goals' ingress lets in: every ingress ipBlock (one address inside it,
    outside its excepts), and any address when a goal is not isolated for ingress."""
    candidates: list[tuple[str, str]] = [("ip:0.0.0.0/0", INTERNET_PROBE)]
    for p in join.engine.policies():
        for rule in p.ingress or ():
            for pm in rule.peers:
                if pm.kind in ("ipBlock", "networks"):
                    for net in pm.cidrs:
                        ip = _inside(net, pm.excepts)
                        if ip is not None and all(c[0] != f"ip:{net}" for c in candidates):
                            candidates.append((f"ip:{net}", ip))
    out = []
    for who, ip in candidates:
        for g in join.goals:
            dst = join.engine.compiled.peer(g.workload)
            v = evaluate_flow(join.engine.compiled, Flow(ExternalPeer(ip), dst, g.port, join.protocol), explain=False)
            if who == "ip:0.0.0.0/0" and v.ingress.selecting:
                continue  # isolated for ingress: the probe address may just fall inside an allowed range
            if v.allowed is True:
                port = f"{g.port}/{join.protocol}" if g.port is not None else "any"
                out.append(OpenPath(who, group_ref(g.workload), (port,), join.via(ExternalPeer(ip), g)))
        if out and who == "ip:0.0.0.0/0":
            break  # any address gets in: the narrower ranges add nothing
    return tuple(out)


__all__ = ["Goal", "OpenPath", "Path", "SubjectPaths", "WhoCanReach", "group_ref", "who_can_reach"]
