"""The class engine of paths.py for a CNI's own semantics: Calico's tiers over equivalence classes of pods.

Same answers as the one-flow evaluator (netpol/calico.py), computed with bitsets: each rule becomes (the subject
classes it applies to, the peer classes it matches); each subject class walks the tiers once per distinct set of
policies and rules that concern it. Pod classes without IPs (manifests) use label indexes; classes with addresses
(live pods, external addresses, hostNetwork pods) are matched one by one with the one-flow functions, so both engines
share the matching code. What cannot be decided offline (source ports, unknown service-account labels, IP versions
of pods without IPs) taints the classes involved: they are evaluated pair by pair, three-valued.

Long because: the class engine for Calico's tiers and Cilium's union/deny, each checked against the one-flow evaluator
by the property tests; apart from paths.py, which stays NetworkPolicy/ANP only.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from . import calico
from . import calico_selector as cs
from .calico import CalicoRule, Entity, TierEntry
from .model import KIND_NP, Direction, ExternalPeer, Peer, PodPeer

if TYPE_CHECKING:
    from .compile import CompiledSnapshot
    from .paths import _Universe


def _bits(x: int) -> Iterator[int]:
    while x:
        low = x & -x
        yield low.bit_length() - 1
        x ^= low


class CalicoIndex:
    """Label indexes of one universe's pod classes as Calico sees them (endpoint, namespace, service-account labels)."""

    def __init__(self, compiled: CompiledSnapshot, u: _Universe) -> None:
        self.compiled = compiled
        self.u = u
        self.pods = u.pods
        self.plain = 0  # pod classes without known IPs: label indexes decide for them
        self.brute: list[int] = []  # the others: matched one by one
        labels: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        ns_labels: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        sa_labels: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.sa_names: dict[str, int] = defaultdict(int)
        for i, rep in enumerate(u.reps):
            bit = 1 << i
            if not isinstance(rep, PodPeer) or rep.host_network:
                self.brute.append(i)
                continue
            if rep.ips:
                self.brute.append(i)
            else:
                self.plain |= bit
            for k, v in calico.endpoint_labels(rep).items():
                labels[k][v] |= bit
            for k, v in calico.namespace_labels(compiled, rep.namespace).items():
                ns_labels[k][v] |= bit
            sa = rep.service_account or "default"
            self.sa_names[sa] |= bit
            for k, v in (calico.sa_labels(compiled, rep) or {calico.LABEL_NAME: sa}).items():
                sa_labels[k][v] |= bit
        self.labels = cs.LabelIndex(self.pods, {k: dict(v) for k, v in labels.items()})
        self.ns = cs.LabelIndex(self.pods, {k: dict(v) for k, v in ns_labels.items()})
        self.sa = cs.LabelIndex(self.pods, {k: dict(v) for k, v in sa_labels.items()})
        self._entity: dict[int, int] = {}
        self._selects: dict[int, int] = {}

    # -- selection of subjects ---------------------------------------------------------------------------------------
    def policy_bits(self, cp: calico.CompiledCalico) -> int:
        """Pod classes a Calico policy selects (policy_selects, as bitsets)."""
        hit = self._selects.get(id(cp))
        if hit is not None:
            return hit
        if cp.hosts_only:
            out = 0
        else:
            out = cs.bits(cp.selector, self.labels)
            if cp.namespace is not None:
                out &= self.u.by_ns.get(cp.namespace, 0)
            if cp.ns_selector is not None:
                out &= cs.bits(cp.ns_selector, self.ns, all_bits=self.pods, global_bits=0)
            if cp.sa_selector is not None:
                out &= cs.bits(cp.sa_selector, self.sa)
            out &= self.pods
        self._selects[id(cp)] = out
        return out

    # -- entity rules -------------------------------------------------------------------------------------------------
    def entity_bits(self, ent: Entity) -> int:
        """Classes an entity rule (source or destination criteria, ports aside) matches (entity_matches)."""
        hit = self._entity.get(id(ent))
        if hit is not None:
            return hit
        out = self.plain
        if ent.nets is not None and not any(n.prefixlen == 0 for n in ent.nets):
            out = 0  # a pod without a known IP is outside every range that does not cover all addresses
        if ent.not_nets is not None and any(n.prefixlen == 0 for n in ent.not_nets):
            out = 0
        if out and ent.selects:
            part = self.plain
            if ent.scoped:
                if ent.ns_selector is not None:
                    part &= cs.bits(ent.ns_selector, self.ns, all_bits=self.pods, global_bits=0)
                else:
                    part &= self.u.by_ns.get(ent.own_namespace or "", 0)
            if ent.sa_names is not None:
                names = 0
                for n in ent.sa_names:
                    names |= self.sa_names.get(n, 0)
                part &= names
            if ent.sa_selector is not None:
                part &= cs.bits(ent.sa_selector, self.sa)
            if ent.selector is not None:
                part &= cs.bits(ent.selector, self.labels)
            out &= part
        if out and ent.not_selector is not None:
            out &= ~cs.bits(ent.not_selector, self.labels)
        if out and ent.service is not None:
            svc = self.compiled.calico.services.get(ent.service)
            if svc is None or svc.selector is None:
                out = 0  # no such Service, or endpoints not known (its policies' subjects are evaluated pair by pair)
            else:
                backs = self.u.by_ns.get(svc.namespace, 0)
                for k, v in svc.selector.items():
                    backs &= self.labels.by_key.get(k, {}).get(v, 0)
                out &= backs
        for i in self.brute:
            if calico.entity_matches(self.compiled, ent, self.u.reps[i]) is True:
                out |= 1 << i
        self._entity[id(ent)] = out
        return out

    def ip_version_bits(self, version: int | None) -> int:
        if version is None:
            return self.u.all
        out = self.plain  # unknown: such classes are tainted (calico_tainted)
        for i in self.brute:
            rep = self.u.reps[i]
            texts = [rep.ip] if isinstance(rep, ExternalPeer) else list(rep.ips)
            if any(ipaddress.ip_address(t).version == version for t in texts):
                out |= 1 << i
        return out


def index_of(compiled: CompiledSnapshot, u: _Universe) -> CalicoIndex:
    idx = getattr(u, "_calico", None)
    if idx is None:
        idx = CalicoIndex(compiled, u)
        u._calico = idx  # type: ignore[attr-defined]
    return idx


def _dest_port_bits(dst: _Universe, rule: CalicoRule, groups: Sequence[tuple[Any, Any, int]]) -> int:
    """Destination classes whose ports admit the request under the rule's destination ports/notPorts, and (for a
    destination Service) the Service's target ports on that pod."""
    ent = rule.destination
    if ent.ports is None and ent.not_ports is None:
        out = dst.all
    else:
        out = 0
        for request, ports, members in groups:
            if calico.dest_ports_match(ent, request, ports):
                out |= members
    if ent.service is not None and out:
        svc = dst.compiled.calico.services.get(ent.service)
        if svc is not None and svc.selector is not None:
            keep = 0
            for request, _ports, members in groups:
                for i in _bits(members):
                    if calico._service_port_ok(svc, dst.reps[i], request):
                        keep |= 1 << i
            out &= keep
    return out


def _protocol_ok(rule: CalicoRule, protocol: str) -> bool:
    proto = calico.PROTOCOL_NUMBERS[protocol]
    if rule.protocol is not None and rule.protocol != proto:
        return False
    if rule.not_protocol is not None and rule.not_protocol == proto:
        return False
    return not rule.icmp


def calico_directions(
    compiled: CompiledSnapshot, src: _Universe, dst: _Universe, port: int | str, protocol: str
) -> tuple[list[int], list[int]]:
    """Per source class: (egress-allowed destination bitset, ingress-allowed destination bitset) under Calico."""
    from .paths import _port_sets, _rule_ports

    sidx, didx = index_of(compiled, src), index_of(compiled, dst)
    groups, pcache = _port_sets(dst, port, protocol)
    tiers = compiled.calico.tiers
    defaults = [t.default_action for t in tiers]

    def rule_sets(entry: TierEntry, direction: Direction) -> list[tuple[str, int, int]]:
        """(action, subject classes it applies to, peer classes it matches) per rule, in order."""
        out = []
        subj_u, peer_u = (src, dst) if direction == "egress" else (dst, src)
        if entry.calico is not None:
            for r in entry.calico.rules(direction) or ():
                if not _protocol_ok(r, protocol):
                    out.append((r.action, 0, 0))
                    continue
                dports = _dest_port_bits(dst, r, groups)
                s_ent = sidx.entity_bits(r.source) & sidx.ip_version_bits(r.ip_version)
                d_ent = didx.entity_bits(r.destination) & didx.ip_version_bits(r.ip_version) & dports
                out.append((r.action, s_ent, d_ent) if direction == "egress" else (r.action, d_ent, s_ent))
            return out
        k = entry.k8s
        assert k is not None
        for kr in k.rules(direction) or ():
            ports = _rule_ports(dst, kr, groups, pcache)
            if direction == "egress":
                out.append((kr.action, subj_u.all, peer_u.rule_set(kr) & ports))
            else:
                out.append((kr.action, ports, peer_u.rule_set(kr)))
        return out

    def walk(direction: Direction, subj: _Universe, peer: _Universe, sidx_: CalicoIndex) -> list[int]:
        """Per subject class, the peer classes the tiers allow (hostNetwork and external subjects: all)."""
        ordered: list[tuple[int, TierEntry]] = []  # (tier index, entry) in evaluation order
        for ti, tier in enumerate(tiers):
            for e in tier.entries:
                ordered.append((ti, e))
        selected: list[int] = []
        rules: list[list[tuple[str, int, int]]] = []
        for _ti, e in ordered:
            if e.calico is not None:
                sel = sidx_.policy_bits(e.calico) if e.calico.rules(direction) is not None else 0
            else:
                k = e.k8s
                assert k is not None
                applies = k.rules(direction) is not None and (k.kind == KIND_NP or bool(k.rules(direction)))
                sel = subj.subject_set(k) if applies else 0
            selected.append(sel)
            rules.append(rule_sets(e, direction) if sel else [])
        # Per subject: (entry, the entry's rules that apply to it) for every entry selecting it. The subjects of one entry
        # are split into groups the rules treat alike (bit operations), so each subject is visited once per entry.
        by_subject: dict[int, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
        for n, sel in enumerate(selected):
            if not sel:
                continue
            groups: list[tuple[int, tuple[int, ...]]] = [(sel, ())]
            for i, (_a, sub, _p) in enumerate(rules[n]):
                split: list[tuple[int, tuple[int, ...]]] = []
                for members, active in groups:
                    inside, outside = members & sub, members & ~sub
                    if inside:
                        split.append((inside, (*active, i)))
                    if outside:
                        split.append((outside, active))
                groups = split
            for members, active in groups:
                item = (n, active)
                for s in _bits(members):
                    by_subject[s].append(item)
        memo: dict[tuple[Any, ...], int] = {}
        out = []
        for s in range(subj.n):
            entries = by_subject.get(s)
            if not entries:
                out.append(peer.all)  # selected by no policy (or not a pod): the profile allows everything
                continue
            key = tuple(entries)
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = _walk_tiers(key, ordered, rules, defaults, peer.all)
            out.append(hit)
        return out

    egress = walk("egress", src, dst, sidx)
    unpoliced = src.hostnet | src.external
    for s in _bits(unpoliced):
        egress[s] = dst.all
    allowed_src = walk("ingress", dst, src, didx)  # per destination class: allowed source classes
    groups_by_srcs: dict[int, int] = defaultdict(int)
    for d, srcs in enumerate(allowed_src):
        if (dst.hostnet | dst.external) >> d & 1:
            srcs = src.all
        groups_by_srcs[srcs] |= 1 << d
    ingress = [0] * src.n
    for srcs, dests in groups_by_srcs.items():
        for s in _bits(srcs):
            ingress[s] |= dests
    return egress, ingress


def _walk_tiers(
    key: tuple[tuple[int, tuple[int, ...]], ...],
    ordered: Sequence[tuple[int, TierEntry]],
    rules: Sequence[Sequence[tuple[str, int, int]]],
    defaults: Sequence[str],
    everything: int,
) -> int:
    """One subject's tier walk over peer bitsets: the first matching rule decides for a peer (Allow / Deny / Pass), Log
    goes on; a tier that selects the subject and decides nothing applies its default action; after the last tier the
    profile allows (calico.evaluate_direction, the same rules)."""
    tiers_of: dict[int, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
    order: list[int] = []
    for n, active in key:
        ti = ordered[n][0]
        if ti not in tiers_of:
            order.append(ti)
        tiers_of[ti].append((n, active))
    undecided = everything
    allow = 0
    for ti in order:
        passed = 0
        for n, active in tiers_of[ti]:
            entry_rules = rules[n]
            for i in active:
                action, _sub, peers = entry_rules[i]
                if action == "Log":
                    continue
                hit = peers & undecided
                if not hit:
                    continue
                if action == "Allow":
                    allow |= hit
                elif action == "Pass":
                    passed |= hit
                undecided &= ~hit
        # "If the Tier applies to the endpoint, but takes no action on the packet the packet is dropped" (Deny), or
        # goes on (defaultAction Pass); what a rule passed goes on either way.
        undecided = passed if defaults[ti] == "Deny" else undecided | passed
    return allow | undecided


def calico_tainted(compiled: CompiledSnapshot, u: _Universe) -> int:
    """Classes whose Calico verdicts may be unknown: subjects of policies with a rule that cannot be decided offline,
    pods whose service account's labels are unknown (when a selector looks at them), and pods without IPs when a
    rule matches on the IP version."""
    model = compiled.calico
    out = 0
    idx = index_of(compiled, u)
    if model.undecidable:
        for cp in model.policies:
            if cp.label in model.undecidable:
                out |= idx.policy_bits(cp)
    if model.sa_label_sensitive or model.sa_gaps:
        for i, rep in enumerate(u.reps):
            if isinstance(rep, PodPeer) and not rep.host_network and calico.sa_labels(compiled, rep) is None:
                out |= 1 << i
    if model.uses_ip_version:
        out |= idx.plain
    return out


def calico_ip_signature(compiled: CompiledSnapshot, peer: Peer) -> tuple[Any, ...]:
    """What a pod's addresses change for Calico: the ranges (rule nets, network sets, host endpoints) they fall in,
    and their IP versions -- two pods alike in these are alike to every Calico rule."""
    nets = compiled.calico.networks
    ips = [ipaddress.ip_address(t) for t in (peer.ips if isinstance(peer, PodPeer) else ())]
    inside = tuple(i for i, n in enumerate(nets) if any(ip.version == n.version and ip in n for ip in ips))
    return ("calico", inside, tuple(sorted({ip.version for ip in ips})))


# --- Cilium ---------------------------------------------------------------------------------------------------------
# Three-valued bitsets: (sure, maybe) -- classes where the answer is True, and where it is unknown (never both).


class CiliumIndex:
    """Pod classes of one universe by their labels as Cilium sees them (netpol/cilium.pod_labels); the other classes
    (node addresses, hostNetwork pods, addresses outside the cluster) are few and matched one by one with the
    one-flow functions."""

    def __init__(self, compiled: CompiledSnapshot, u: _Universe) -> None:
        from . import cilium

        self.compiled = compiled
        self.u = u
        self.pods = u.pods
        self.others = [i for i in range(u.n) if not (u.pods >> i) & 1]
        labels: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for i, rep in enumerate(u.reps):
            if (u.pods >> i) & 1:
                assert isinstance(rep, PodPeer)
                for k, v in cilium.pod_labels(compiled, rep).items():
                    labels[k][v] |= 1 << i
        self.labels = {k: dict(v) for k, v in labels.items()}
        self._sel: dict[int, tuple[int, int]] = {}
        self._l3: dict[tuple[int, tuple[int, ...]], tuple[int, int]] = {}
        self._selecting: dict[str, list[tuple[tuple[Any, ...], tuple[Any, ...]]]] = {}

    def _req_bits(self, r: Any) -> int:
        values = self.labels.get(r.key, {})
        if r.operator in ("In", "NotIn"):
            hit = 0
            for v in r.values:
                hit |= values.get(v, 0)
            return hit if r.operator == "In" else self.pods & ~hit
        present = 0
        for m in values.values():
            present |= m
        return present if r.operator == "Exists" else self.pods & ~present

    def _one_by_one(self, members: Iterable[int], test: Any) -> tuple[int, int]:
        t = n = 0
        for i in members:
            m = test(self.u.reps[i])
            if m is True:
                t |= 1 << i
            elif m is None:
                n |= 1 << i
        return t, n

    def selector_bits(self, sel: Any) -> tuple[int, int]:
        """cilium._sel_match over every class."""
        from . import cilium

        hit = self._sel.get(id(sel))
        if hit is not None:
            return hit
        if cilium.CLUSTER_KEY in sel.keys:
            out = self._one_by_one(range(self.u.n), lambda rep: cilium._sel_match(self.compiled, sel, None, rep))
        else:
            t = self.pods
            for r in sel.selector.requirements:
                t &= self._req_bits(r)
                if not t:
                    break
            ot, on = self._one_by_one(self.others, lambda rep: cilium._sel_match(self.compiled, sel, None, rep))
            out = (t | ot, on)
        self._sel[id(sel)] = out
        return out

    def selecting(self, direction: Direction) -> list[tuple[tuple[Any, ...], tuple[Any, ...]]]:
        """Per class: (the Cilium rules, the Kubernetes NetworkPolicies) selecting it for the direction -- the same
        tuple objects for classes selected alike (the walk memoises on them). Port independent: computed once."""
        hit = self._selecting.get(direction)
        if hit is not None:
            return hit
        u = self.u
        cil: dict[int, list[Any]] = defaultdict(list)
        for cp in self.compiled.cilium.policies:
            if cp.subject is not None and cp.applies(direction):
                for s in _bits(self.selector_bits(cp.subject)[0] & u.pods):
                    cil[s].append(cp)
        k8s: dict[int, list[Any]] = defaultdict(list)
        for ps in self.compiled.network_policies.values():
            for p in ps:
                if p.rules(direction) is not None:
                    for s in _bits(u.subject_set(p)):
                        k8s[s].append(p)
        interned: dict[tuple[int, ...], tuple[Any, ...]] = {}

        def intern(items: list[Any]) -> tuple[Any, ...]:
            key = tuple(id(x) for x in items)
            got = interned.get(key)
            if got is None:
                got = interned[key] = tuple(items)
            return got

        out = [(intern(cil.get(s, [])), intern(k8s.get(s, []))) for s in range(u.n)]
        self._selecting[direction] = out
        return out

    def peer_bits(self, rule: Any, policy_ns: str | None, reqs: tuple[Any, ...]) -> tuple[int, int]:
        """cilium.peer_match over every class: the rule's L3 part with the subject's requirements."""
        from . import cilium

        key = (id(rule), tuple(id(r) for r in reqs))
        hit = self._l3.get(key)
        if hit is not None:
            return hit
        compiled, u = self.compiled, self.u
        # pods: endpoint selectors by the index, entities cluster / all, an L4-only rule; Services one by one
        if not rule.has_l3:
            pods = (u.pods if (rule.port_rules is not None or rule.icmp) else 0, 0)
        else:
            pods = (u.pods if rule.entities & {"cluster", "all"} else 0, 0)
            for sel in rule.endpoints:
                st, sn = self.selector_bits(sel)
                pods = _or_tri(pods, (st & u.pods, sn & u.pods))
            if rule.services:
                pods = _or_tri(pods, self._one_by_one(_bits(u.pods), lambda rep: cilium.l3_match(compiled, rule, policy_ns,
                                                                                                None, rep)))  # fmt: skip
        others = self._one_by_one(self.others, lambda rep: cilium.l3_match(compiled, rule, policy_ns, None, rep))
        base = _or_tri(pods, others)
        if reqs:
            req = (u.all, 0)
            for r in reqs:
                req = _and_tri(req, self.selector_bits(r))
            if rule.endpoints_only:
                base = _and_tri(base, req)
            else:
                # the answer stands where the requirements hold; elsewhere it depends on the reading (unknown)
                t = base[0] & req[0]
                base = (t, (base[0] | base[1]) & ~t)
        self._l3[key] = base
        return base


def cilium_index(compiled: CompiledSnapshot, u: _Universe) -> CiliumIndex:
    idx = getattr(u, "_cilium", None)
    if idx is None:
        idx = CiliumIndex(compiled, u)
        u._cilium = idx  # type: ignore[attr-defined]
    return idx


def _or_tri(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    t = a[0] | b[0]
    return t, (a[1] | b[1]) & ~t


def _and_tri(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    t = a[0] & b[0]
    return t, (a[0] | a[1]) & (b[0] | b[1]) & ~t


def cilium_directions(
    compiled: CompiledSnapshot, src: _Universe, dst: _Universe, port: int | str, protocol: str
) -> tuple[list[int], list[int], list[int], list[int]]:
    """Per source class: egress allowed / unknown destination bitsets, ingress allowed / unknown (cilium.py rules)."""
    from . import cilium
    from .paths import _port_sets, _rule_ports

    model = compiled.cilium
    groups, pcache = _port_sets(dst, port, protocol)
    if model.mode == "never":
        return [dst.all] * src.n, [dst.all] * src.n, [0] * src.n, [0] * src.n
    port_cache: dict[int, int] = {}

    def port_bits(rule: Any) -> int:
        """Destination classes whose ports the rule's toPorts admit."""
        hit = port_cache.get(id(rule))
        if hit is None:
            hit = 0
            for request, ports, members in groups:
                if cilium.ports_match(rule, request, ports)[0]:
                    hit |= members
            port_cache[id(rule)] = hit
        return hit

    def walk(direction: Direction, subj: _Universe, peer: _Universe) -> tuple[list[int], list[int]]:
        sidx, pidx = cilium_index(compiled, subj), cilium_index(compiled, peer)
        selecting = sidx.selecting(direction)
        memo: dict[tuple[Any, ...], tuple[int, int]] = {}
        allowed, unknown = [], []
        for s in range(subj.n):
            bit = 1 << s
            if not (subj.pods & bit):
                allowed.append(peer.all)  # hostNetwork pods and addresses: no endpoint policy
                unknown.append(0)
                continue
            chosen, npols = selecting[s]
            if direction == "ingress":  # the request resolves on the subject: which rules' ports admit it
                active: tuple[Any, ...] = tuple(
                    id(r) for cp in chosen for r in (*cp.denies(direction), *cp.allows(direction)) if port_bits(r) & bit
                ) + tuple(id(r) for p in npols for r in p.rules(direction) or () if _rule_ports(dst, r, groups, pcache) & bit)
            else:
                active = ()
            key = (id(chosen), id(npols), active)
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = _cilium_walk(compiled, direction, chosen, npols, set(active), pidx, port_bits, groups, pcache)
            allowed.append(hit[0])
            unknown.append(hit[1])
        return allowed, unknown

    eg, eu = walk("egress", src, dst)
    in_allowed, in_unknown = walk("ingress", dst, src)  # per destination class: source bitsets
    ing, iu = [0] * src.n, [0] * src.n
    by_sets: dict[tuple[int, int], int] = defaultdict(int)
    for d in range(dst.n):
        by_sets[(in_allowed[d], in_unknown[d])] |= 1 << d
    for (srcs, unk), dests in by_sets.items():
        for s in _bits(srcs):
            ing[s] |= dests
        for s in _bits(unk):
            iu[s] |= dests
    return eg, ing, eu, iu


def _cilium_walk(
    compiled: CompiledSnapshot, direction: Direction, chosen: Sequence[Any], npols: Sequence[Any], active: set[int],
    pidx: CiliumIndex, port_bits: Any, groups: Any, pcache: Any,
) -> tuple[int, int]:  # fmt: skip
    """One subject's peers: (allowed, unknown) -- deny rules first, then default deny and the union of allows
    (cilium.evaluate_direction, the same order)."""
    from .paths import _rule_ports

    peer = pidx.u
    egress = direction == "egress"
    reqs = tuple(r for cp in chosen for r in cp.requirements(direction))

    def rule_bits(cp: Any, rule: Any) -> tuple[int, int]:
        if egress:
            ports = port_bits(rule)
            if not ports:
                return 0, 0
            t, n = pidx.peer_bits(rule, cp.namespace, reqs)
            return t & ports, n & ports
        if id(rule) not in active:
            return 0, 0
        return pidx.peer_bits(rule, cp.namespace, reqs)

    deny = (0, 0)
    for cp in chosen:
        for rule in cp.denies(direction):
            deny = _or_tri(deny, rule_bits(cp, rule))
    enforced = compiled.cilium.mode == "always" or bool(npols) or any(cp.default_deny[direction] for cp in chosen)
    dt, dn = deny
    if not enforced:
        return peer.all & ~dt & ~dn, dn
    allow = (0, 0)
    for p in npols:
        for r in p.rules(direction) or ():
            if egress:
                allow = _or_tri(allow, (peer.rule_set(r) & _rule_ports(pidx.u, r, groups, pcache), 0))
            elif id(r) in active:
                allow = _or_tri(allow, (peer.rule_set(r), 0))
    for cp in chosen:
        for rule in cp.allows(direction):
            allow = _or_tri(allow, rule_bits(cp, rule))
    at, an = allow
    return at & ~dt & ~dn, (an | (at & dn)) & ~dt


def cilium_tainted(compiled: CompiledSnapshot, u: _Universe) -> int:
    """Classes evaluated pair by pair under Cilium: node-like peers when a rule names host or remote-node (the answer
    depends on both ends' nodes), everything when a selector looks at the cluster's name."""
    model = compiled.cilium
    if model.uses_cluster:
        return u.all
    out = 0
    if model.uses_nodes:
        from .cilium import peer_kind

        for i, rep in enumerate(u.reps):
            if peer_kind(compiled, rep) == "node":
                out |= 1 << i
    return out
