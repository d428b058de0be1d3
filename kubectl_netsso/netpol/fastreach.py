"""Reach over NetworkPolicy v1 with bitsets: all destinations of one source in one pass.

For a source pod S and a destination class D on a declared port k, the flow is allowed iff
  egress: S is not egress-isolated, or some egress rule of a policy selecting S matches D's pod and port k; AND
  ingress: D is not ingress-isolated, or some ingress rule of a policy selecting D matches S and port k
("a connection ... must be allowed by both the egress policy on the source pod and the ingress policy on the
destination pod", kubernetes.io, Network Policies). Policies only add allows, so each side is an OR of rules.

Destination classes are bits of a Python int; per rule and port the matching classes are precomputed once, so a
source costs a few OR/AND of ints: egress masks are shared by sources selected by the same egress policies, ingress
masks by sources admitted by the same set of ingress rules. Used by ReachEngine when the snapshot holds only
NetworkPolicies (no AdminNetworkPolicy/BANP), no gaps and no hostNetwork pods; the per-pair engine
(netpol.evaluate) stays the reference, and tests check both agree.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .compile import CompiledPolicy, CompiledRule, CompiledSnapshot, PeerMatcher
from .model import PodPeer
from .selectors import LabelSelector

PortKey = tuple[int, str]


def bits(mask: int) -> Iterator[int]:
    """Indices of the set bits, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _ip_in(ips: Sequence[str], pm: PeerMatcher) -> bool:
    for text in ips:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            continue
        if any(ip.version == c.version and ip in c for c in pm.cidrs) and not any(
            ip.version == e.version and ip in e for e in pm.excepts
        ):
            return True
    return False


def applicable(compiled: CompiledSnapshot, peers: Sequence[PodPeer]) -> bool:
    """The bitset engine covers NetworkPolicy v1 without ANP/BANP, gaps or hostNetwork pods."""
    if compiled.admin_policies or compiled.baseline is not None:
        return False
    if compiled.np_gaps or compiled.label_gaps or compiled.anp_gap or compiled.banp_gap or compiled.undefined_namespaces:
        return False
    if compiled.foreign:  # policies not evaluated here make verdicts UNKNOWN: the per-pair engine says which
        return False
    if compiled.cni != "generic":  # a CNI's own semantics (Calico's tiers): the per-pair engine
        return False
    return not any(p.host_network for p in peers)


class FastReach:
    """Bitset index over destination classes (the representatives in ``peers``)."""

    def __init__(self, compiled: CompiledSnapshot, peers: Sequence[PodPeer]) -> None:
        self.compiled = compiled
        self.peers = list(peers)
        n = len(self.peers)
        self.all = (1 << n) - 1
        keys: dict[PortKey, int] = {}
        self.has_port: list[int] = []
        self.port_text: list[dict[int, str]] = [{} for _ in range(n)]
        self.port_rank: list[dict[str, int]] = [{} for _ in range(n)]
        self.named: dict[tuple[str, str, int], int] = {}
        self.by_ns: dict[str, list[int]] = {}
        for i, p in enumerate(self.peers):
            self.by_ns.setdefault(p.namespace, []).append(i)
            for cp in p.ports:
                proto = cp.protocol.upper()
                key = (cp.port, proto)
                if key not in keys:
                    keys[key] = len(keys)
                    self.has_port.append(0)
                k = keys[key]
                self.has_port[k] |= 1 << i
                self.port_text[i][k] = f"{cp.name}={cp.port}/{proto}" if cp.name else f"{cp.port}/{proto}"
                self.port_rank[i].setdefault(self.port_text[i][k], len(self.port_rank[i]))
                if cp.name:
                    nk = (cp.name, proto, cp.port)
                    self.named[nk] = self.named.get(nk, 0) | (1 << i)
        self.keys = list(keys)
        self.policies: list[CompiledPolicy] = [p for ps in compiled.network_policies.values() for p in ps]
        self._pid = {id(p): i for i, p in enumerate(self.policies)}
        self.subj = [self._subject_mask(p) for p in self.policies]
        iso_in = 0
        self.ingress_rules: list[tuple[int, CompiledRule]] = []
        for pi, pol in enumerate(self.policies):
            if pol.ingress is not None:
                iso_in |= self.subj[pi]
                self.ingress_rules.extend((pi, r) for r in pol.ingress)
        self.open_in = self.all & ~iso_in
        # per ingress rule and port: the destination classes it admits on that port (its policy's subjects)
        self.ing_port: list[list[int]] = [[self.subj[pi] & m for m in self._rule_port_masks(r)] for pi, r in self.ingress_rules]
        self._ns_rules: dict[str, list[tuple[int, bool, list[PeerMatcher]]]] = {}
        self._ns_sel: dict[str, Any] = {}  # _ns_selectors
        self._ing_cache: dict[frozenset[int], list[int]] = {}
        self._eg_cache: dict[tuple[int, ...], list[int]] = {}
        self._peer_mask_cache: dict[int, int] = {}

    # --- building blocks ------------------------------------------------------------------------------------------

    def _ns_labels(self, ns: str) -> Mapping[str, str]:
        return self.compiled.labels_of(ns)

    def _subject_mask(self, p: CompiledPolicy) -> int:
        sel = p.subject_pod_selector
        if sel is None or p.subject_namespace is None:
            return 0
        out = 0
        for i in self.by_ns.get(p.subject_namespace, ()):
            if sel.matches(self.peers[i].labels):
                out |= 1 << i
        return out

    def _rule_port_masks(self, rule: CompiledRule) -> list[int]:
        """Per port key: the classes on which the rule's ports allow that declared port."""
        if rule.all_ports:
            return list(self.has_port)
        out = [0] * len(self.keys)
        for k, (number, proto) in enumerate(self.keys):
            m = 0
            for pm in rule.ports:
                if pm.protocol != proto:
                    continue
                if pm.port is None:
                    m = self.has_port[k]
                    break
                if isinstance(pm.port, str):
                    m |= self.named.get((pm.port, proto, number), 0)
                elif pm.port <= number <= (pm.end_port if pm.end_port is not None else pm.port):
                    m = self.has_port[k]
                    break
            out[k] = m
        return out

    def _ns_matches(self, pm: PeerMatcher, ns: str) -> bool:
        if pm.namespace is not None:
            return pm.namespace == ns
        return pm.namespace_selector is not None and pm.namespace_selector.matches(self._ns_labels(ns))

    def _peer_mask(self, pm: PeerMatcher) -> int:
        """Destination classes one to-entry matches."""
        key = id(pm)
        if key in self._peer_mask_cache:
            return self._peer_mask_cache[key]
        out = 0
        if pm.kind == "pods" and pm.pod_selector is not None:
            for ns, idx in self.by_ns.items():
                if not self._ns_matches(pm, ns):
                    continue
                for i in idx:
                    if pm.pod_selector.matches(self.peers[i].labels):
                        out |= 1 << i
        elif pm.kind == "ipBlock" and self.compiled.ipblock_pods == "match":
            for i, p in enumerate(self.peers):
                if p.ips and _ip_in(p.ips, pm):
                    out |= 1 << i
        self._peer_mask_cache[key] = out
        return out

    # --- per source -----------------------------------------------------------------------------------------------

    def egress_key(self, src: PodPeer) -> tuple[int, ...]:
        """The egress policies selecting the source: everything its egress depends on (NetworkPolicy v1)."""
        return tuple(
            self._pid[id(p)]
            for p in self.compiled.policies_in(src.namespace)
            if p.egress is not None and p.subject_pod_selector is not None and p.subject_pod_selector.matches(src.labels)
        )

    def external_allowed(
        self, src: PodPeer, ip: str, port: int | str | None, protocol: str, chosen: tuple[int, ...] | None = None
    ) -> bool:
        """Egress from src to an address outside the cluster (only the source's egress policies apply). chosen:
        ``egress_key(src)``, when the caller has it."""
        if chosen is None:
            chosen = self.egress_key(src)
        if not chosen:
            return True
        protocol = protocol.upper()
        if isinstance(port, str):
            return False  # "a named port never matches an ipBlock": no pod to resolve it on
        for pi in chosen:
            for rule in self.policies[pi].egress or ():
                if not (rule.all_peers or any(pm.kind == "ipBlock" and _ip_in((ip,), pm) for pm in rule.peers)):
                    continue
                if rule.all_ports:
                    return True
                for pm in rule.ports:
                    if pm.protocol != protocol or isinstance(pm.port, str):
                        continue
                    if port is None or pm.port is None:
                        return True
                    if pm.port <= port <= (pm.end_port if pm.end_port is not None else pm.port):
                        return True
        return False

    def _egress(self, src: PodPeer, chosen: tuple[int, ...] | None = None) -> list[int]:
        if chosen is None:
            chosen = self.egress_key(src)
        if chosen not in self._eg_cache:
            if not chosen:
                masks = list(self.has_port)
            else:
                masks = [0] * len(self.keys)
                for pi in chosen:
                    for rule in self.policies[pi].egress or ():
                        dst = self.all if rule.all_peers else 0
                        if not rule.all_peers:
                            for pm in rule.peers:
                                dst |= self._peer_mask(pm)
                        if not dst:
                            continue
                        for k, m in enumerate(self._rule_port_masks(rule)):
                            masks[k] |= dst & m
            self._eg_cache[chosen] = masks
        return self._eg_cache[chosen]

    def _rules_for_ns(self, ns: str) -> list[tuple[int, bool, list[PeerMatcher]]]:
        if ns not in self._ns_rules:
            out: list[tuple[int, bool, list[PeerMatcher]]] = []
            for ri, (_pi, rule) in enumerate(self.ingress_rules):
                if rule.all_peers:
                    out.append((ri, True, []))
                    continue
                peers = [pm for pm in rule.peers if (pm.kind == "pods" and self._ns_matches(pm, ns)) or pm.kind == "ipBlock"]
                if peers:
                    out.append((ri, False, peers))
            self._ns_rules[ns] = out
        return self._ns_rules[ns]

    def _admits(self, pm: PeerMatcher, src: PodPeer) -> bool:
        if pm.kind == "pods":
            return pm.pod_selector is not None and pm.pod_selector.matches(src.labels)
        if pm.kind == "ipBlock":
            return self.compiled.ipblock_pods == "match" and bool(src.ips) and _ip_in(src.ips, pm)
        return False

    def _ns_selectors(
        self, ns: str
    ) -> tuple[frozenset[int], list[tuple[LabelSelector, frozenset[int]]], list[tuple[int, list[PeerMatcher]]]]:
        """The ingress rules that may admit a pod of ns (_rules_for_ns), indexed for a source: those admitting any
        pod, each distinct pod selector with the rules naming it, and the rules with other peers (ipBlock)."""
        if ns not in self._ns_sel:
            always: set[int] = set()
            by_selector: dict[LabelSelector, set[int]] = {}
            others: list[tuple[int, list[PeerMatcher]]] = []
            for ri, all_peers, peers in self._rules_for_ns(ns):
                if all_peers:
                    always.add(ri)
                    continue
                for pm in peers:
                    if pm.kind == "pods" and pm.pod_selector is not None:
                        by_selector.setdefault(pm.pod_selector, set()).add(ri)
                rest = [pm for pm in peers if pm.kind != "pods"]
                if rest:
                    others.append((ri, rest))
            self._ns_sel[ns] = (frozenset(always), [(sel, frozenset(r)) for sel, r in by_selector.items()], others)
        return self._ns_sel[ns]

    def _ingress_signature(self, src: PodPeer) -> frozenset[int]:
        """The ingress rules that admit the source: everything the far side's ingress depends on."""
        always, by_selector, others = self._ns_selectors(src.namespace)
        sig = set(always)
        for sel, rules in by_selector:
            if sel.matches(src.labels):
                sig |= rules
        sig.update(ri for ri, rest in others if any(self._admits(pm, src) for pm in rest))
        return frozenset(sig)

    def signature(self, src: PodPeer) -> tuple[tuple[int, ...], frozenset[int]]:
        """What ``allowed(src)`` depends on: two sources of one signature reach the same classes on the same ports."""
        return (self.egress_key(src), self._ingress_signature(src))

    def _ingress(self, src: PodPeer, sig: frozenset[int] | None = None) -> list[int]:
        if sig is None:
            sig = self._ingress_signature(src)
        if sig not in self._ing_cache:
            masks = [self.open_in & h for h in self.has_port]
            for ri in sig:
                for k, m in enumerate(self.ing_port[ri]):
                    masks[k] |= m
            self._ing_cache[sig] = masks
        return self._ing_cache[sig]

    def allowed(
        self, src: PodPeer, signature: tuple[tuple[int, ...], frozenset[int]] | None = None
    ) -> dict[int, list[str]]:
        """Destination class index -> the allowed declared ports (as text), for classes that declare ports.
        signature: src's, when the caller has it (``signature(src)``)."""
        eg = self._egress(src, signature[0] if signature is not None else None)
        ing = self._ingress(src, signature[1] if signature is not None else None)
        out: dict[int, list[str]] = {}
        for k in range(len(self.keys)):
            for i in bits(eg[k] & ing[k]):
                out.setdefault(i, []).append(self.port_text[i][k])
        for i, texts in out.items():
            if len(texts) > 1:
                texts.sort(key=self.port_rank[i].__getitem__)  # the pod's own port order
        return out

    def stats(self) -> dict[str, Any]:
        return {
            "classes": len(self.peers), "portKeys": len(self.keys), "policies": len(self.policies),
            "ingressRules": len(self.ingress_rules), "egressSets": len(self._eg_cache), "ingressSignatures": len(self._ing_cache),
        }  # fmt: skip
