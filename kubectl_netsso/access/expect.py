"""`audit --expect FILE`: declarative reachability assertions checked against policies AND permissions.

Schema (YAML; the top level is a mapping with ``expect:`` or just the list)::

    expect:
      - name: storefront calls the api        # optional, shown in the output
        from: frontend/deploy/web             # source, one of:
                                              #   from: ENDPOINT            can-reach syntax (NAME, TYPE/NAME, NS/NAME,
                                              #                             NS/TYPE/NAME); every pod of it must comply
                                              #   namespace: NS             any workload of the namespace (with
                                              #                             `labels: {k: v}`: a new pod with those labels)
                                              #   group: G | user: U | serviceAccount: NS/NAME
                                              #                             an identity: what its footholds reach
                                              #                             (exec/attach into pods, create pods, ...)
        mustReach: shop/svc/api               # or mustNotReach: ENDPOINT (a Service means its backing pods)
        port: 80                              # optional: number or name (the Service port for a Service);
                                              # omitted = any port
        protocol: TCP                         # optional, default TCP
        severity: high                        # optional: severity of the finding when it fails (default high)

Semantics: ``mustReach`` holds when (for ``from``) every source pod, or (for ``namespace`` and identities) at least
one source, reaches at least one destination pod; ``mustNotReach`` holds when no source reaches any destination pod.
An unknown verdict (a 403 gap) makes the assertion fail as unknown. A failure is an audit finding
(``expectation-failed``) whose details explain the deciding flow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..cluster.snapshot import Workload
from ..errors import NetssoError
from ..netpol.endpoints import Endpoint, Target, parse_labels, resolve_endpoint, targets
from ..netpol.evaluate import evaluate_flow
from ..netpol.explain import explain_text
from ..netpol.model import Flow, PodPeer, Verdict
from .model import SEVERITIES, Finding, Reach

SOURCE_KEYS = ("from", "namespace", "group", "user", "serviceAccount", "as")
KNOWN_KEYS = {*SOURCE_KEYS, "name", "mustReach", "mustNotReach", "port", "protocol", "severity", "labels"}


@dataclass(frozen=True, slots=True)
class Expectation:
    index: int
    source_kind: str  # "from" | "namespace" | "identity"
    source: str  # endpoint text, namespace, or the identity text
    destination: str
    must_reach: bool
    port: int | str | None = None
    protocol: str = "TCP"
    severity: str = "high"
    name: str = ""
    labels: Mapping[str, str] | None = None
    user: str = ""
    groups: tuple[str, ...] = ()

    def describe(self) -> str:
        verb = "must reach" if self.must_reach else "must not reach"
        port = f" on {self.port}/{self.protocol}" if self.port is not None else ""
        src = {"from": self.source, "namespace": f"namespace {self.source}", "identity": self.source}[self.source_kind]
        if self.labels:
            src += " {" + ",".join(f"{k}={v}" for k, v in sorted(self.labels.items())) + "}"
        return f"{src} {verb} {self.destination}{port}"

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "name": self.name or None, "assertion": self.describe(), "severity": self.severity}


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
        sources = [k for k in SOURCE_KEYS if k in raw]
        if len(sources) != 1:
            raise NetssoError(f"{at}: give exactly one source ({', '.join(SOURCE_KEYS)}), found {len(sources)}")
        dests = [k for k in ("mustReach", "mustNotReach") if k in raw]
        if len(dests) != 1:
            raise NetssoError(f"{at}: give exactly one of mustReach / mustNotReach")
        dest = raw[dests[0]]
        if not isinstance(dest, str) or not dest.strip():
            raise NetssoError(f"{at}: {dests[0]} must be an endpoint such as shop/svc/api")
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
        labels = raw.get("labels")
        if labels is not None:
            if isinstance(labels, str):
                labels = parse_labels(labels)
            elif not isinstance(labels, Mapping):
                raise NetssoError(f"{at}: labels must be a mapping or k=v,k=v")
            labels = {str(k): str(v) for k, v in labels.items()}
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
            )
        )
    return out


class ExpectationChecker:
    """Checks expectations with a ReachEngine (flows) and, for identity sources, a reach function per identity."""

    def __init__(self, engine: Any, reach_of_identity: Any = None, default_namespace: str = "default") -> None:
        self.engine = engine
        self.reach_of_identity = reach_of_identity  # (user, groups) -> list[Reach]
        self.default_namespace = default_namespace

    def check(self, exp: Expectation) -> ExpectResult:
        snap = self.engine.snapshot
        try:
            dst = resolve_endpoint(snap, exp.destination, self.default_namespace, role="destination")
            dst_targets, _ = targets(dst, exp.port, exp.protocol)
        except NetssoError as err:
            return ExpectResult(exp, None, f"cannot check: {err.message}")
        if exp.source_kind == "identity":
            return self._check_identity(exp, dst, dst_targets)
        try:
            sources = self._sources(exp)
        except NetssoError as err:
            return ExpectResult(exp, None, f"cannot check: {err.message}")
        if not sources:
            return ExpectResult(exp, None, f"no source pods for {exp.source}")
        return self._check_flows(exp, sources, dst, dst_targets)

    def _sources(self, exp: Expectation) -> list[PodPeer]:
        compiled = self.engine.compiled
        if exp.source_kind == "namespace":
            if exp.labels is not None:
                return [compiled.selector_peer(exp.source, exp.labels, name="{new pod}")]
            return [compiled.peer(w) for w in self.engine.snapshot.workloads if w.namespace == exp.source]
        src: Endpoint = resolve_endpoint(self.engine.snapshot, exp.source, self.default_namespace, role="source")
        if src.is_external:
            raise NetssoError("an ip: source is outside the cluster: policies only police its ingress side")
        return [compiled.peer(w) for w in src.workloads]

    def _verdict(self, src: PodPeer, t: Target, protocol: str) -> Verdict | None:
        if t.problem:
            return None
        dst_peer = self.engine.compiled.peer(t.workload)
        return evaluate_flow(self.engine.compiled, Flow(src, dst_peer, t.port, protocol), explain=True)

    def _check_flows(
        self, exp: Expectation, sources: Sequence[PodPeer], dst: Endpoint, dst_targets: Sequence[Target]
    ) -> ExpectResult:
        per_source: list[tuple[PodPeer, Verdict | None, list[Verdict]]] = []
        for src in sources:
            allowed: Verdict | None = None
            others: list[Verdict] = []
            for t in dst_targets:
                v = self._verdict(src, t, exp.protocol)
                if v is None:
                    continue
                if v.allowed is True:
                    allowed = v
                    break
                others.append(v)
            per_source.append((src, allowed, others))
        reaching = [(s, v) for s, v, _ in per_source if v is not None]
        not_reaching = [(s, o) for s, v, o in per_source if v is None]
        unknown = any(any(x.allowed is None for x in o) for _, o in not_reaching)
        if exp.must_reach:
            need_all = exp.source_kind == "from"
            ok = (not not_reaching) if need_all else bool(reaching)
            if ok:
                v = reaching[0][1]
                return ExpectResult(exp, True, f"allowed ({v.flow.describe()})", tuple(explain_text(v)))
            src, others = not_reaching[0]
            if not others:
                return ExpectResult(exp, None, f"no destination pod of {dst.ref} serves the port")
            lines = explain_text(others[0])
            if others[0].fix:
                from ..netpol.generate import to_yaml

                lines.append("  a policy that would allow it:")
                lines.extend("    " + ln for ln in to_yaml(others[0].fix).splitlines())
            status: bool | None = None if unknown and not any(x.allowed is False for x in others) else False
            what = "unknown" if status is None else "denied"
            return ExpectResult(exp, status, f"{what}: {others[0].flow.describe()}", tuple(lines))
        if reaching:
            v = reaching[0][1]
            extra = f" (and {len(reaching) - 1} more source(s))" if len(reaching) > 1 else ""
            return ExpectResult(exp, False, f"allowed: {v.flow.describe()}{extra}", tuple(explain_text(v)))
        if unknown:
            return ExpectResult(exp, None, "unknown: some verdicts depend on data the source could not read")
        return ExpectResult(exp, True, f"denied for all {len(sources)} source(s)")

    def _check_identity(self, exp: Expectation, dst: Endpoint, dst_targets: Sequence[Target]) -> ExpectResult:
        if self.reach_of_identity is None:
            return ExpectResult(exp, None, "cannot check identities without RBAC data")
        reaches: list[Reach] = self.reach_of_identity(exp.user, exp.groups)
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
