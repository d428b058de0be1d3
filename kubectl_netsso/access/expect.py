"""`audit --expect FILE`: declarative reachability assertions checked against policies AND permissions.

Schema (YAML; the top level is a mapping with ``expect:`` or just the list)::

    expect:
      - name: storefront calls the api        # optional, shown in the output
        from: frontend/deploy/web             # source, one of:
                                              #   from: ENDPOINT            can-reach syntax (NAME, TYPE/NAME, NS/NAME,
                                              #                             NS/TYPE/NAME, ip:ADDRESS, ip:CIDR)
                                              #   namespace: NS             any workload of the namespace (with
                                              #                             `labels: {k: v}`: a new pod with those labels,
                                              #                             as can-reach --from-selector)
                                              #   group: G | user: U | serviceAccount: NS/NAME
                                              #                             an identity: what its footholds reach
                                              #                             (exec/attach into pods, create pods, ...)
        mustReach: shop/svc/api               # or mustNotReach; an endpoint in can-reach syntax (a Service means its
                                              # backing pods; ip:ADDRESS, ip:CIDR) or {namespace: NS, labels: {k: v}}
                                              # (a pod with those labels, as can-reach --to-selector)
        port: 80                              # optional: number or name (the Service port for a Service);
                                              # omitted = some port
        protocol: TCP                         # optional, default TCP
        severity: high                        # optional: severity of the finding when it fails (default high)

    expect:
      - name: only payments on-call and SRE reach the database
        to: db/svc/postgres                   # an endpoint in the cluster, can-reach syntax
        onlyReachableBy: [oidc:payments-oncall, oidc:sre]   # groups; system:masters (the superuser) always may
        port: 5432                            # optional, as above; protocol, severity, name too

``onlyReachableBy`` is who-can-reach's answer (access/whocanreach.py): it passes when every RBAC subject with a
foothold from which the destination is reachable is one of the groups, nobody in the cluster reaches it without a
foothold ("anyone in the cluster") and no address outside gets in; it fails naming each other subject (a User or
ServiceAccount bound directly counts, even when it is in a listed group) and its most direct path.

Semantics: for a ``from`` endpoint and for ``namespace`` + ``labels`` the verdict is can-reach's for the same
endpoints (netpol/pairs.py): ``mustReach`` passes when can-reach says ALLOWED (every pod pair allowed; for an
ip:CIDR destination every address in it), fails when it says DENIED; ``mustNotReach`` passes when no pair is
allowed (for an ip:CIDR: no address in it) and fails when one is. For ``namespace`` alone and for identities a
``mustReach`` needs one source (a workload of the namespace, a foothold) that can-reach would call ALLOWED; a
``mustNotReach`` fails on any allowed flow from any of them. An unknown verdict (a 403 gap, a namespace whose labels
are not known) makes the assertion UNKNOWN. A failure is an audit finding (``expectation-failed``) whose details
explain the deciding flow.

Long because: the file format is specified here in full (schema and semantics above), beside the loader
that checks each field and the checker that judges each assertion.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..cluster.snapshot import Workload
from ..errors import NetssoError
from ..netpol.endpoints import Endpoint, Target, parse_labels, resolve_endpoint, selector_endpoint, targets
from ..netpol.evaluate import evaluate_flow
from ..netpol.explain import explain_text
from ..netpol.model import Flow, PodPeer
from ..netpol.pairs import EndpointsResult, PairResult, evaluate_endpoints
from .model import CREATE, POD, SEVERITIES, Finding, Reach

SOURCE_KEYS = ("from", "namespace", "group", "user", "serviceAccount", "as")
KNOWN_KEYS = {*SOURCE_KEYS, "name", "mustReach", "mustNotReach", "port", "protocol", "severity", "labels", "to",
              "onlyReachableBy"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Expectation:
    index: int
    source_kind: str  # "from" | "namespace" | "identity"
    source: str  # endpoint text, namespace, or the identity text
    destination: str  # endpoint text; the namespace when destination_labels is set
    must_reach: bool
    port: int | str | None = None
    protocol: str = "TCP"
    severity: str = "high"
    name: str = ""
    labels: Mapping[str, str] | None = None
    user: str = ""
    groups: tuple[str, ...] = ()
    destination_labels: Mapping[str, str] | None = None  # a pod with these labels in namespace `destination`
    only_by: tuple[str, ...] | None = None  # onlyReachableBy: the groups that alone may reach the destination

    @property
    def destination_text(self) -> str:
        if self.destination_labels is not None:
            return f"{self.destination}/{_labels_text(self.destination_labels)}"
        return self.destination

    def describe(self) -> str:
        port = f" on {self.port}/{self.protocol}" if self.port is not None else ""
        if self.only_by is not None:
            return f"{self.destination}{port} only reachable by {', '.join(self.only_by) or '(nobody)'}"
        verb = "must reach" if self.must_reach else "must not reach"
        src = {"from": self.source, "namespace": f"namespace {self.source}", "identity": self.source}[self.source_kind]
        if self.labels:
            src += " " + _labels_text(self.labels)
        dst = self.destination_text
        if _is_cidr(dst):
            # say which reading of a range holds: every address of it, or none of them
            dst = f"every address in {dst}" if self.must_reach else f"any address in {dst}"
        return f"{src} {verb} {dst}{port}"

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "name": self.name or None, "assertion": self.describe(), "severity": self.severity}


def _labels_text(labels: Mapping[str, str]) -> str:
    return "{" + ",".join(f"{k}={v}" for k, v in sorted(labels.items())) + "}"


def _is_cidr(text: str) -> bool:
    return text.lower().startswith("ip:") and "/" in text and not text.endswith(("/32", "/128"))


@dataclass(frozen=True, slots=True)
class ExpectResult:
    expectation: Expectation
    ok: bool | None  # None: unknown
    summary: str
    explanation: tuple[str, ...] = field(default_factory=tuple)

    @property
    def status(self) -> str:
        return {True: "PASS", False: "FAIL", None: "UNKNOWN"}[self.ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.expectation.to_dict(),
            "status": self.status,
            "summary": self.summary,
            "explanation": list(self.explanation),
        }

    def finding(self) -> Finding | None:
        if self.ok is True:
            return None
        e = self.expectation
        label = e.name or f"expect[{e.index}]"
        return Finding(
            e.severity,
            "expectation-failed",
            label,
            f"{e.describe()}: {self.summary}",
            "change the NetworkPolicies or the RBAC bindings (or the expectation) so that it holds",
            {"explanation": list(self.explanation)},
        )


def _label_map(value: Any, at: str) -> dict[str, str]:
    if isinstance(value, str):
        try:
            return parse_labels(value)
        except NetssoError as err:
            raise NetssoError(f"{at}: {err.message}") from None
    if not isinstance(value, Mapping) or not value:
        raise NetssoError(f"{at}: labels must be a non-empty mapping or k=v,k=v")
    return {str(k): str(v) for k, v in value.items()}


def load_expectations(data: Any, where: str) -> list[Expectation]:
    """Validate parsed YAML; errors name the file and the entry (NetssoError, exit 3)."""
    items = data.get("expect") if isinstance(data, Mapping) else data
    if items is None:
        items = []
    if not isinstance(items, list):
        raise NetssoError(f"{where}: 'expect' must be a list of assertions", hint="see: kubectl netsso audit --help")
    out: list[Expectation] = []
    for i, raw in enumerate(items):
        at = f"{where}: expect[{i}]"
        if not isinstance(raw, Mapping):
            raise NetssoError(f"{at}: each assertion must be a mapping")
        unknown = sorted(set(map(str, raw)) - KNOWN_KEYS)
        if unknown:
            raise NetssoError(f"{at}: unknown key(s) {', '.join(unknown)}", hint="keys: " + ", ".join(sorted(KNOWN_KEYS)))
        if "onlyReachableBy" in raw or "to" in raw:
            out.append(_load_only(raw, i, at))
            continue
        sources = [k for k in SOURCE_KEYS if k in raw]
        if len(sources) != 1:
            raise NetssoError(f"{at}: give exactly one source ({', '.join(SOURCE_KEYS)}), found {len(sources)}")
        dests = [k for k in ("mustReach", "mustNotReach") if k in raw]
        if len(dests) != 1:
            raise NetssoError(f"{at}: give exactly one of mustReach / mustNotReach")
        dest = raw[dests[0]]
        dest_labels: dict[str, str] | None = None
        if isinstance(dest, Mapping):
            # {namespace: NS, labels: {...}}: a (hypothetical) pod, as can-reach --to-selector/--to-namespace
            extra = sorted(set(map(str, dest)) - {"namespace", "labels"})
            ns = dest.get("namespace")
            if extra or not isinstance(ns, str) or not ns.strip() or dest.get("labels") is None:
                raise NetssoError(f"{at}: {dests[0]} as a mapping needs exactly namespace and labels")
            dest_labels = _label_map(dest["labels"], f"{at}: {dests[0]}")
            dest = ns
        if not isinstance(dest, str) or not dest.strip():
            raise NetssoError(f"{at}: {dests[0]} must be an endpoint such as shop/svc/api")
        port, protocol, severity = _common(raw, at)
        labels = raw.get("labels")
        if labels is not None:
            if not isinstance(labels, (str, Mapping)):
                raise NetssoError(f"{at}: labels must be a mapping or k=v,k=v")
            labels = _label_map(labels, at)
        kind = sources[0]
        value = raw[kind]
        user: str = ""
        groups: tuple[str, ...] = ()
        if kind in ("from", "namespace"):
            if not isinstance(value, str) or not value.strip():
                raise NetssoError(f"{at}: {kind} must be a non-empty string")
            source_kind, source = kind, value.strip()
            if labels is not None and kind != "namespace":
                raise NetssoError(f"{at}: labels go with namespace (a new pod with those labels)")
        else:
            source_kind = "identity"
            if kind == "as":
                if not isinstance(value, Mapping) or not (value.get("user") or value.get("groups")):
                    raise NetssoError(f"{at}: as needs user and/or groups")
                user = str(value.get("user") or "")
                groups = tuple(str(g) for g in value.get("groups") or ())
                source = f"identity {user or '(any user)'}" + (f" groups {', '.join(groups)}" if groups else "")
            elif not isinstance(value, str) or not value.strip():
                raise NetssoError(f"{at}: {kind} must be a non-empty string")
            elif kind == "group":
                groups, source = (value,), f"group {value}"
            elif kind == "user":
                user, source = value, f"user {value}"
            else:
                ns, _, name = value.partition("/")
                if not ns or not name:
                    raise NetssoError(f"{at}: serviceAccount must be NAMESPACE/NAME")
                user, source = f"system:serviceaccount:{ns}:{name}", f"serviceaccount {value}"
        out.append(
            Expectation(
                index=i,
                source_kind=source_kind,
                source=source,
                destination=dest.strip(),
                must_reach=dests[0] == "mustReach",
                port=port,
                protocol=protocol,
                severity=severity,
                name=str(raw.get("name") or ""),
                labels=labels,
                user=user,
                groups=groups,
                destination_labels=dest_labels,
            )
        )
    return out


def _common(raw: Mapping[str, Any], at: str) -> tuple[int | str | None, str, str]:
    """port, protocol and severity of an assertion, checked."""
    port = raw.get("port")
    if port is not None:
        from ..netpol.endpoints import parse_port

        try:
            port = parse_port(str(port))
        except NetssoError as err:
            raise NetssoError(f"{at}: {err.message}") from None
    protocol = str(raw.get("protocol", "TCP")).upper()
    if protocol not in ("TCP", "UDP", "SCTP"):
        raise NetssoError(f"{at}: protocol must be TCP, UDP or SCTP")
    severity = str(raw.get("severity", "high")).lower()
    if severity not in SEVERITIES:
        raise NetssoError(f"{at}: severity must be one of {', '.join(SEVERITIES)}")
    return port, protocol, severity


def _load_only(raw: Mapping[str, Any], i: int, at: str) -> Expectation:
    """The `to: ENDPOINT` + `onlyReachableBy: [groups]` form (no source, no mustReach)."""
    extra = sorted(set(map(str, raw)) & {*SOURCE_KEYS, "mustReach", "mustNotReach", "labels"})
    if extra:
        raise NetssoError(f"{at}: onlyReachableBy takes to: ENDPOINT, not {', '.join(extra)}")
    dest, groups = raw.get("to"), raw.get("onlyReachableBy")
    if not isinstance(dest, str) or not dest.strip():
        raise NetssoError(f"{at}: to must be an endpoint such as db/svc/postgres (with onlyReachableBy)")
    if not isinstance(groups, list) or not all(isinstance(g, str) and g.strip() for g in groups):
        raise NetssoError(f"{at}: onlyReachableBy must be a list of group names (with to: ENDPOINT)")
    port, protocol, severity = _common(raw, at)
    return Expectation(index=i, source_kind="only", source="", destination=dest.strip(), must_reach=False, port=port,
                       protocol=protocol, severity=severity, name=str(raw.get("name") or ""),
                       only_by=tuple(g.strip() for g in groups))  # fmt: skip


class ExpectationChecker:
    """Checks expectations with a ReachEngine (flows) and, for identity sources, a reach function per identity."""

    def __init__(self, engine: Any, reach_of_identity: Any = None, default_namespace: str = "default",
                 reverse: Any = None) -> None:  # fmt: skip
        self.engine = engine
        self.reach_of_identity = reach_of_identity  # (user, groups) -> list[Reach]
        self.default_namespace = default_namespace
        self.reverse = reverse  # rbac.whocan.ReverseIndex, for onlyReachableBy

    def _endpoint(self, text: str, labels: Mapping[str, str] | None, role: str) -> Endpoint:
        snap = self.engine.snapshot
        if labels is not None:
            return selector_endpoint(snap, labels, text)
        return resolve_endpoint(snap, text, self.default_namespace, role=role)

    def check(self, exp: Expectation) -> ExpectResult:
        try:
            dst = self._endpoint(exp.destination, exp.destination_labels, "destination")
            if exp.only_by is not None:
                return self._check_only(exp, dst)
            if exp.source_kind == "identity":
                return self._check_identity(exp, dst)
            if exp.source_kind == "namespace" and exp.labels is None:
                sources = self._namespace_sources(exp.source)
                if not sources:
                    return ExpectResult(exp, None, f"no source pods for namespace {exp.source}")
            else:
                sources = [self._endpoint(exp.source, exp.labels if exp.source_kind == "namespace" else None, "source")]
            if sources[0].is_external and dst.is_external:
                return ExpectResult(exp, None, "cannot check: both ends are outside the cluster: no NetworkPolicy applies")
            answers = [evaluate_endpoints(self.engine.compiled, s, dst, exp.port, exp.protocol) for s in sources]
        except NetssoError as err:
            return ExpectResult(exp, None, f"cannot check: {err.message}")
        return _judge(exp, answers, every_source=exp.source_kind == "from" or exp.labels is not None)

    def _check_only(self, exp: Expectation, dst: Endpoint) -> ExpectResult:
        """onlyReachableBy: who-can-reach's subjects (and anyone / outside) against the groups listed."""
        from ..rbac.authorize import SUPERUSER_GROUP
        from .whocanreach import Goal, who_can_reach

        if dst.is_external:
            return ExpectResult(exp, None, "cannot check: onlyReachableBy needs a destination in the cluster")
        if self.reverse is None:
            return ExpectResult(exp, None, "cannot check who reaches it without RBAC data")
        found_targets, _ = targets(dst, exp.port, exp.protocol)
        goals = [Goal(t.workload, t.port) for t in found_targets if t.problem is None]
        found = who_can_reach(self.engine.snapshot, self.engine, self.reverse, goals, exp.protocol)
        allowed = {*(exp.only_by or ()), SUPERUSER_GROUP}
        others = [s for s in found.subjects if not (s.subject.kind == "Group" and s.subject.name in allowed)]
        lines = [f"{p.who} -> {p.to} ({', '.join(p.ports)}): {'; '.join(p.via)}" for p in (*found.anyone, *found.outside)]
        for sp in others:
            s, p = sp.subject, sp.paths[0]
            who = f"{s.kind} {s.namespace}/{s.name}" if s.kind == "ServiceAccount" else f"{s.kind} {s.name}"
            lines.append(f"{who}: {p.foothold.display} ({p.foothold.actions_text(3)}; {'; '.join(p.foothold.obtained[:1])})"
                         f" -> {p.to}" + (f" via {'; '.join(p.via)}" if p.via else ""))  # fmt: skip
        if lines:
            names = [("anyone in the cluster" if p.who.startswith("anyone") else f"outside ({p.who})")
                     for p in (*found.anyone, *found.outside)]  # fmt: skip
            names += [f"{sp.subject.kind.lower()} {sp.subject.name}" for sp in others]
            more = f" (+{len(names) - 3} more)" if len(names) > 3 else ""
            return ExpectResult(exp, False, f"also reachable by {', '.join(names[:3])}{more}", tuple(lines))
        if found.unknown:
            return ExpectResult(exp, None, f"unknown: {found.unknown} verdict(s) could not be decided")
        holders = sorted({sp.subject.name for sp in found.subjects if sp.subject.name != SUPERUSER_GROUP})
        who = ", ".join(holders) if holders else "nobody (system:masters aside)"
        return ExpectResult(exp, True, f"reachable only by {who}")

    def _namespace_sources(self, namespace: str) -> list[Endpoint]:
        compiled = self.engine.compiled
        out = []
        for w in self.engine.snapshot.workloads:
            if w.namespace == namespace:
                out.append(
                    Endpoint(
                        kind="workload",
                        ref=w.ref,
                        namespace=namespace,
                        workloads=(w,),
                        namespace_labels=compiled.labels_of(namespace),
                    )
                )
        return out

    def _check_identity(self, exp: Expectation, dst: Endpoint) -> ExpectResult:
        if self.reach_of_identity is None:
            return ExpectResult(exp, None, "cannot check identities without RBAC data")
        reaches: list[Reach] = self.reach_of_identity(exp.user, exp.groups)
        if dst.is_external or dst.kind == "selector":
            # Reach lists existing workloads; an address or a pod-to-be is checked flow by flow from the footholds
            # that send traffic themselves (exec/attach into pods, created pods wearing any trusted labels).
            return self._check_identity_flows(exp, dst, reaches)
        dst_targets, _ = targets(dst, exp.port, exp.protocol)
        wanted = _target_refs(dst_targets)
        hits: list[tuple[Reach, str, tuple[str, ...]]] = []
        for r in reaches:
            for d in r.destinations:
                if d.ref in wanted and _port_ok(d.ports, wanted[d.ref], exp.protocol):
                    hits.append((r, d.ref, d.ports))
                    break
        if hits == [] and not any(r.destinations for r in reaches):
            detail = "no footholds" if not reaches else "footholds reach nothing"
        else:
            detail = ""
        if exp.must_reach:
            if hits:
                r, ref, ports = hits[0]
                return ExpectResult(exp, True, f"reached from {_foothold_text(r)}", (f"{ref} ({', '.join(ports)})",))
            return ExpectResult(
                exp,
                False,
                f"no foothold reaches {dst.ref}" + (f" ({detail})" if detail else ""),
                tuple(_foothold_text(r) for r in reaches[:10]),
            )
        if not hits:
            return ExpectResult(exp, True, f"none of {len(reaches)} foothold(s) reaches {dst.ref}")
        lines: list[str] = []
        for r, ref, ports in hits[:5]:
            lines.append(f"{_foothold_text(r)} reaches {ref} ({', '.join(ports)})")
            for d in r.destinations:
                if d.ref == ref and d.labels is not None:
                    lines.append(
                        f"  a new pod wearing {','.join(f'{k}={v}' for k, v in sorted(d.labels.items())) or '(no labels)'}"
                    )
            ev = self._flow_evidence(r, ref, exp)
            lines.extend("  " + ln for ln in ev)
        r, ref, _ = hits[0]
        more = f" (and {len(hits) - 1} more foothold(s))" if len(hits) > 1 else ""
        return ExpectResult(exp, False, f"reachable from {_foothold_text(r)}{more}", tuple(lines))

    def _foothold_sources(self, r: Reach) -> list[Endpoint]:
        """The pods a foothold sends from: its pods (exec/attach), or a new pod per candidate label set (create)."""
        compiled = self.engine.compiled
        fh = r.foothold
        if fh.kind == POD and set(fh.actions) & {"exec", "attach"}:
            return [
                Endpoint("workload", w.ref, w.namespace, (w,), compiled.labels_of(w.namespace)) for w in fh.workloads
            ]
        if fh.kind == CREATE:
            snap = self.engine.snapshot
            return [selector_endpoint(snap, labels, fh.namespace) for labels in self.engine.candidate_label_sets(fh.namespace)]
        return []

    def _check_identity_flows(self, exp: Expectation, dst: Endpoint, reaches: Sequence[Reach]) -> ExpectResult:
        per_foothold: list[tuple[Reach, list[EndpointsResult]]] = []
        for r in reaches:
            sources = self._foothold_sources(r)
            if sources:
                answers = [evaluate_endpoints(self.engine.compiled, s, dst, exp.port, exp.protocol) for s in sources]
                per_foothold.append((r, answers))
        if not per_foothold:
            what = "no footholds" if not reaches else "no foothold sends traffic (exec/attach into pods, create pods)"
            if exp.must_reach:
                return ExpectResult(exp, False, f"{what}: nothing reaches {dst.ref}")
            return ExpectResult(exp, True, f"{what}: nothing reaches {dst.ref}")
        answers = [a for _, fa in per_foothold for a in fa]
        result = _judge(exp, answers, every_source=False)
        hit = _deciding(exp, per_foothold)
        if hit is None:
            if result.ok is True and not exp.must_reach:
                n = len(answers)
                return ExpectResult(
                    exp, True, f"none of {len(reaches)} foothold(s) reaches {dst.ref} ({n} source pod(s) checked)"
                )
            return result
        return ExpectResult(exp, result.ok, f"{result.summary} (from {_foothold_text(hit)})", result.explanation)


    def _flow_evidence(self, r: Reach, ref: str, exp: Expectation) -> list[str]:
        """The flow verdict behind an identity hit (pod or create-pod footholds)."""
        compiled = self.engine.compiled
        dest = next((w for w in self.engine.snapshot.workloads if w.ref == ref), None)
        if dest is None:
            return []
        src: PodPeer | None = None
        d = next((d for d in r.destinations if d.ref == ref), None)
        if d is not None and d.labels is not None:
            src = compiled.selector_peer(r.foothold.namespace, d.labels, name="{new pod}")
        elif r.foothold.workloads:
            src = compiled.peer(r.foothold.workloads[0])
        if src is None or d is None:
            return [d.note] if d is not None and d.note else []
        port: int | str | None = exp.port
        if port is None or isinstance(port, str):
            first = d.ports[0].split("/")[0].rsplit("=", 1)[-1] if d.ports else ""
            port = int(first) if first.isdigit() else None
        v = evaluate_flow(compiled, Flow(src, compiled.peer(dest), port, exp.protocol), explain=False)
        return explain_text(v)


def _deciding(exp: Expectation, per_foothold: Sequence[tuple[Reach, list[EndpointsResult]]]) -> Reach | None:
    """The foothold the summary is about: the first that reaches (mustNotReach) or that reaches fully (mustReach)."""
    for r, answers in per_foothold:
        if exp.must_reach and any(a.allowed is True for a in answers):
            return r
        if not exp.must_reach and any(p.allowed is True for a in answers for p in a.pairs):
            return r
    return None


def _pair_text(pair: PairResult, protocol: str) -> str:
    """FROM -> TO on PORT/PROTO as the flow was evaluated (an address range by its range, a named port resolved)."""
    v = pair.verdict
    if v is None:
        return f"{pair.source} -> {pair.destination}"
    if v.flow.port is None:
        port = f"some port ({v.resolved_port}/{protocol})" if v.allowed and v.resolved_port else f"any {protocol} port"
    else:
        port = f"{v.resolved_port or v.flow.port}/{protocol}"
    return f"{pair.source} -> {pair.destination} on {port}"


def _explain(pair: PairResult, protocol: str, with_fix: bool = False) -> list[str]:
    if pair.verdict is None:
        return [f"DENIED: {pair.source} -> {pair.destination}: {pair.problem}"]
    lines = explain_text(pair.verdict)
    lines[0] = f"{pair.verdict.status}: {_pair_text(pair, protocol)}"
    if with_fix and pair.verdict.fix:
        from ..netpol.generate import to_yaml

        lines.append("  a policy that would allow it:")
        lines.extend("    " + ln for ln in to_yaml(pair.verdict.fix).splitlines())
    return lines


def _judge(exp: Expectation, answers: Sequence[EndpointsResult], *, every_source: bool) -> ExpectResult:
    """PASS / FAIL / UNKNOWN from can-reach's answers (one per source endpoint), with the deciding flow explained.

    every_source: one endpoint whose every pair must be allowed (can-reach's ALLOWED); else one of the answers
    being ALLOWED is enough for mustReach.
    """
    protocol = answers[0].protocol if answers else exp.protocol
    pairs = [p for a in answers for p in a.pairs]
    ranged = any(a.ranges for a in answers)
    dst = answers[0].destination.ref if answers else exp.destination_text
    allowed = [p for p in pairs if p.allowed is True]
    denied = [p for p in pairs if p.allowed is False]
    if exp.must_reach:
        verdicts = [a.allowed for a in answers]
        ok: bool | None
        if every_source:
            ok = answers[0].allowed if len(answers) == 1 else None
        elif any(v is True for v in verdicts):
            ok = True
        elif verdicts and all(v is False for v in verdicts):
            ok = False
        else:
            ok = None
        if ok is True:
            good = next(a for a in answers if a.allowed is True)
            first = good.pairs[0]
            if ranged and good.ranges:
                summary = f"every address in {dst} is allowed ({len(good.pairs)} range(s) checked)"
            else:
                summary = f"allowed ({_pair_text(first, protocol)})"
            return ExpectResult(exp, True, summary, tuple(_explain(first, protocol)))
        if ok is False:
            first = denied[0]
            what = f"denied: {_pair_text(first, protocol)}"
            if ranged:
                lead = "not every address in" if allowed else "no address in"
                what = f"{lead} {dst} is allowed: {what}"
            return ExpectResult(exp, False, what, tuple(_explain(first, protocol, with_fix=True)))
        unknown = next((p for p in pairs if p.allowed is None), None)
        lines = tuple(_explain(unknown, protocol)) if unknown is not None else ()
        reason = ""
        if unknown is not None and unknown.verdict is not None:
            reason = next((d.unknown_reason for d in (unknown.verdict.egress, unknown.verdict.ingress) if d.unknown_reason), "")
        return ExpectResult(exp, None, "unknown: " + (reason or "some verdicts depend on data the source could not read"), lines)
    if allowed:
        first = allowed[0]
        n_sources = len({p.source for p in allowed})
        extra = f" (and {n_sources - 1} more source(s))" if n_sources > 1 else ""
        head = f"some address in {dst} is allowed" if ranged else "allowed"
        return ExpectResult(exp, False, f"{head}: {_pair_text(first, protocol)}{extra}", tuple(_explain(first, protocol)))
    if len(denied) == len(pairs) and pairs:
        n = len({p.source for p in pairs})
        if ranged:
            return ExpectResult(exp, True, f"no address in {dst} is allowed (from {n} source(s))")
        return ExpectResult(exp, True, f"denied for all {n} source(s)")
    unknown = next((p for p in pairs if p.allowed is None), None)
    lines = tuple(_explain(unknown, protocol)) if unknown is not None else ()
    return ExpectResult(exp, None, "unknown: some verdicts depend on data the source could not read", lines)


def _target_refs(dst_targets: Sequence[Target]) -> dict[str, set[int | str | None]]:
    """Destination refs as reach reports them (workload refs; live pods grouped by owner), with the pod ports."""
    from .footholds import workload_groups

    out: dict[str, set[int | str | None]] = {}
    pods: list[Workload] = [t.workload for t in dst_targets if not t.problem]
    ports = {t.workload.ref: t.port for t in dst_targets}
    for ref, members in workload_groups(pods):
        out.setdefault(ref, set()).update(ports.get(m.ref) for m in members)
    return out


def _port_ok(dest_ports: Sequence[str], wanted: set[int | str | None], protocol: str) -> bool:
    if None in wanted:
        return True
    for text in dest_ports:
        if text in ("any", "service ports") or text.startswith("any/"):
            return True
        spec, _, proto = text.partition("/")
        if proto and proto.upper() != protocol:
            continue
        name, _, number = spec.rpartition("=")
        for w in wanted:
            if str(w) == number or (name and str(w) == name):
                return True
    return False


def _foothold_text(r: Reach) -> str:
    fh = r.foothold
    how = "; ".join(fh.obtained[:2])
    return f"{fh.kind} foothold {fh.target} ({', '.join(fh.actions[:3])}{' ...' if len(fh.actions) > 3 else ''}; {how})"
