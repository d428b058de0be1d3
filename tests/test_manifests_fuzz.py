# ruff: noqa: E501  (test tables: one object per line reads better)
"""Fuzzed manifests (hypothesis): random and mutated objects and texts never raise anything but NetssoError,
and whatever loads satisfies the types the engines rely on; YAML with aliases, merge keys and deep nesting builds
exactly what PyYAML builds, or is refused for a bound it really passes."""

from __future__ import annotations

import copy
import io
import json
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_netsso.cluster import manifests
from kubectl_netsso.cluster.decode import snapshot_from_objects
from kubectl_netsso.cluster.manifests import load_objects, load_snapshot
from kubectl_netsso.cluster.snapshot import Snapshot
from kubectl_netsso.errors import NetssoError

TEMPLATE = {
    "metadata": {"labels": {"app": "api"}},
    "spec": {
        "hostNetwork": False,
        "serviceAccountName": "sa",
        "initContainers": [{"name": "s", "restartPolicy": "Always", "ports": [{"containerPort": 15001, "name": "proxy"}]}],
        "containers": [{"name": "c", "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}]}],
    },
}
SELECTOR = {"matchLabels": {"a": "b"}, "matchExpressions": [{"key": "k", "operator": "In", "values": ["v"]}]}
VALID: list[dict[str, Any]] = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "shop"}}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop", "labels": {"app": "x"}},
     "spec": TEMPLATE["spec"], "status": {"podIPs": [{"ip": "10.0.0.1"}]}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "shop"}, "spec": {"template": TEMPLATE}},
    {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c", "namespace": "shop"},
     "spec": {"jobTemplate": {"spec": {"template": TEMPLATE}}}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "shop"},
     "spec": {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": "http", "protocol": "TCP", "name": "web"}],
              "clusterIP": "10.96.0.1"}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "np", "namespace": "shop"},
     "spec": {"podSelector": SELECTOR, "policyTypes": ["Ingress", "Egress"],
              "ingress": [{"from": [{"namespaceSelector": SELECTOR, "podSelector": {}}, {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                           "ports": [{"port": 80, "endPort": 90}, {"port": "http"}, {"protocol": "UDP"}]}],
              "egress": [{}]}},
    {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy", "metadata": {"name": "a"},
     "spec": {"priority": 3, "subject": {"pods": {"namespaceSelector": {}, "podSelector": SELECTOR}},
              "ingress": [{"action": "Allow", "from": [{"namespaces": SELECTOR}], "ports": [{"portNumber": {"port": 80, "protocol": "TCP"}}]}],
              "egress": [{"action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}], "ports": [{"portRange": {"start": 1, "end": 2}}]}]}},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r", "labels": {"x": "y"}},
     "aggregationRule": {"clusterRoleSelectors": [SELECTOR]},
     "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"], "resourceNames": ["a"]}, {"nonResourceURLs": ["/x"], "verbs": ["get"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "b", "namespace": "shop"},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "r"},
     "subjects": [{"kind": "ServiceAccount", "name": "ci"}, {"kind": "Group", "name": "g"}]},
    {"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "q", "namespace": "x"}, "spec": {}}]},
]  # fmt: skip

scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats() | st.text(max_size=12)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8) | st.integers(0, 3), children, max_size=4)
    ),
    max_leaves=20,
)


def check_types(snap: Snapshot) -> None:
    """What the engines rely on after a successful load."""
    for w in snap.workloads:
        assert isinstance(w.namespace, str) and isinstance(w.name, str) and w.name
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in w.labels.items())
        for p in w.ports:
            assert isinstance(p.port, int) and not isinstance(p.port, bool) and 1 <= p.port <= 65535
            assert p.protocol in ("TCP", "UDP", "SCTP") and (p.name is None or isinstance(p.name, str))
        assert isinstance(w.host_network, bool)
    for s in snap.services:
        assert s.selector is None or all(isinstance(v, str) for v in s.selector.values())
        for sp in s.ports:
            assert isinstance(sp.port, int) and isinstance(sp.target_port, int | str) and sp.protocol in ("TCP", "UDP", "SCTP")
    for np in snap.network_policies:
        assert isinstance(np.spec["podSelector"], dict)
        for direction, key in (("ingress", "from"), ("egress", "to")):
            for rule in np.spec.get(direction, []):
                assert isinstance(rule, dict)
                for peer in rule.get(key, []):
                    assert set(peer) <= {"podSelector", "namespaceSelector", "ipBlock"} and peer
                for port in rule.get("ports", []):
                    assert port["protocol"] in ("TCP", "UDP", "SCTP")
                    assert isinstance(port.get("port", 1), int | str) and isinstance(port.get("endPort", 1), int)
    for ns in snap.namespaces:
        assert ns.labels.get("kubernetes.io/metadata.name") == ns.name
    for r in snap.roles:
        for rule in r.rules:
            assert all(isinstance(v, str) for v in rule.verbs + rule.api_groups + rule.resources)
    for b in snap.bindings:
        assert b.role_kind in ("Role", "ClusterRole") and all(s.kind in ("User", "Group", "ServiceAccount") for s in b.subjects)
    for inv in snap.invalid:  # rejected objects: one line each, and a warning for each
        assert "\n" not in inv.message and any(w.startswith(inv.message) for w in snap.warnings)


def _load(docs: list[Any]) -> None:
    try:
        snap = snapshot_from_objects([(f"f document {i}", d) for i, d in enumerate(docs, 1)])
    except NetssoError as exc:
        assert exc.message and "\n" not in exc.message
        return
    check_types(snap)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(values, max_size=3))
def test_random_documents(docs: list[Any]) -> None:
    _load(docs)


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    doc = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        node: Any = doc
        while True:
            if isinstance(node, dict) and node:
                key = draw(st.sampled_from(sorted(node, key=str)))
            elif isinstance(node, list) and node:
                key = draw(st.integers(0, len(node) - 1))
            else:
                break
            child = node[key]
            if not isinstance(child, dict | list) or not child or draw(st.booleans()):
                action = draw(st.sampled_from(["replace", "delete", "replace"]))
                if action == "delete" and isinstance(node, dict):
                    del node[key]
                else:
                    node[key] = draw(values)
                break
            node = child
    return doc


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated(), min_size=1, max_size=3))
def test_mutated_manifests(docs: list[dict[str, Any]]) -> None:
    _load(docs)


def test_valid_pool_loads() -> None:
    snap = snapshot_from_objects([(str(i), copy.deepcopy(d)) for i, d in enumerate(VALID)])
    check_types(snap)
    assert len(snap.workloads) == 4 and len(snap.network_policies) == 1 and len(snap.admin_network_policies) == 1


yaml_bits = st.sampled_from(
    ["apiVersion: v1\n", "kind: Pod\n", "metadata:\n", "  name: x\n", "  labels: {a: 1}\n", "spec:\n", "  containers:\n",
     "  - ports: [{containerPort: 80}]\n", "---\n", "- ", ": ", "{", "}", "[", "]", "&a ", "*a ", "!!binary ", "<<: ", "'", '"',
     "\t", "\n", "kind: List\nitems:\n", "  - kind: Service\n", "%YAML 1.1\n", "... \n", "\x00", "é"]
)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(yaml_bits, max_size=25).map("".join) | st.text(max_size=200))
def test_random_text(text: str) -> None:
    try:
        snap = load_snapshot(["-"], stdin=io.StringIO(text))
    except NetssoError as exc:
        assert exc.message and "\n" not in exc.message
        return
    check_types(snap)


# --- aliases, merge keys and nesting: the loader builds what PyYAML builds, within its bounds ----------------------

_REFERENCE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLAIN = ["a", "b", "1", "0x1f", "true", "no", "null", "~", "1.5", "2001-12-14", "'q: x'", '"e\\u00e9"', "!!str 3", "!!binary aGk="]  # fmt: skip


@st.composite
def aliased_yaml(draw: st.DrawFn) -> tuple[str, bool]:
    """A flow-style document with anchors on some nodes, aliases to earlier ones (sometimes to an ancestor: a
    cycle), merge keys of mappings and tagged collections; returns (text, has a cycle).

    PyYAML 6.0.4 de-duplicates merged keys by the identity of their string objects, so its answer depends on
    string interning where a merged mapping has keys of its own that override merged ones, or keys that are not
    one-character strings (test_manifests_hostile.py checks those cases against the merge-key rule instead): here
    keys are unique within a mapping (duplicates are invalid YAML) and only mappings whose keys are plain one-letter
    keys and that merge nothing themselves are merged.
    """
    done: list[tuple[str, str, Any]] = []  # (anchor, "map" | "mergeable" | "seq" | "set" | "scalar", scalar value)
    open_: list[str] = []  # anchors of the collections being written
    cycle = False

    def node(depth: int) -> str:
        nonlocal cycle
        kinds = ["scalar", "scalar"] + (["seq", "map", "map"] if depth < 5 else [])
        kinds += ["alias"] * (2 if done else 0) + (["cycle"] if open_ and draw(st.integers(0, 9)) == 0 else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "alias":
            return "*" + draw(st.sampled_from(done))[0]
        if kind == "cycle":
            cycle = True
            return "*" + draw(st.sampled_from(open_))
        name = f"a{len(done) + len(open_)}" if draw(st.integers(0, 2)) == 0 else ""
        prefix = f"&{name} " if name else ""
        if kind == "scalar":
            text = draw(st.sampled_from(_PLAIN))
            if name:
                done.append((name, "scalar", yaml.safe_load(text)))
            return prefix + text
        if name:
            open_.append(name)
        entries: list[str] = []
        if kind == "seq":
            tag = draw(st.sampled_from(["", "", "", "!!seq "]))
            body = "[" + ", ".join(node(depth + 1) for _ in range(draw(st.integers(0, 4)))) + "]"
        else:
            tag = draw(st.sampled_from(["", "", "", "!!map ", "!!set "]))
            used: list[Any] = []
            for _ in range(draw(st.integers(0, 4))):
                maps = [a for a, k, _ in done if k == "mergeable"]
                if maps and "<<" not in used and draw(st.integers(0, 3)) == 0:
                    used.append("<<")  # two merge keys are a duplicate key: PyYAML versions differ on which wins
                    merged = draw(st.lists(st.sampled_from(maps), min_size=1, max_size=3))
                    entries.append(
                        "<<: " + ("*" + merged[0] if len(merged) == 1 else "[" + ", ".join("*" + m for m in merged) + "]")
                    )
                    continue
                key, value = draw(st.sampled_from([("k", "k"), ("l", "l"), ("m", "m"), ("=", "=")]))
                if done and draw(st.integers(0, 5)) == 0:
                    anchor, what, value = draw(st.sampled_from(done))
                    key = f"*{anchor} "  # an alias as a key (of a collection: unhashable)
                    value = value if what == "scalar" else anchor
                if value in used:
                    continue
                used.append(value)
                entries.append(f"{key}: {node(depth + 1)}")
            body = "{" + ", ".join(entries) + "}"
        if name:
            open_.remove(name)
            plain = kind == "map" and all(e[0] in "klm=" and e[1] == ":" for e in entries)
            what = "set" if tag == "!!set " else "mergeable" if plain else kind
            done.append((name, what, None))
        return prefix + tag + body

    return node(0) + "\n", cycle


def _expanded(value: Any, depth: int = 0) -> tuple[int, int]:
    """(nodes, levels of collections) of an acyclic value, every shared object counted once per reference."""
    if isinstance(value, dict):
        items = [x for kv in value.items() for x in kv]
    elif isinstance(value, list | tuple | set):
        items = list(value)
    else:
        return 1, 0
    nodes, levels = 1, 0
    for item in items:
        n, lv = _expanded(item, depth + 1)
        nodes, levels = nodes + n, max(levels, lv)
    return nodes, levels + 1


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(aliased_yaml())
def test_aliases_and_merge_keys_build_what_pyyaml_builds(case: tuple[str, bool]) -> None:
    text, cycle = case
    try:
        expected = yaml.load(text, Loader=_REFERENCE_LOADER)
        reference_error = None
    except yaml.YAMLError as exc:
        reference_error = exc
    try:
        ((_, got),) = list(load_objects(["-"], stdin=io.StringIO(text))) or [("", None)]
    except NetssoError as exc:
        assert exc.message.startswith("<stdin> document 1") and "\n" not in exc.message, exc.message
        if reference_error is None and not cycle:
            # refused only for a bound it really passes
            nodes, levels = _expanded(expected)
            assert levels > manifests.MAX_DEPTH or nodes > manifests.MAX_ALIAS_NODES, (text, exc.message)
        return
    assert reference_error is None, (text, reference_error)
    assert not cycle, text  # PyYAML builds a self-containing list; every later stage would loop on it
    assert got == expected, text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 2 * 200 + 20),
    st.lists(st.sampled_from(["seq", "map"]), min_size=1, max_size=3),
    st.sampled_from(["json", "flow", "block"]),
)
def test_nesting_is_refused_exactly_past_the_bound(depth: int, kinds: list[str], style: str) -> None:
    value: Any = "x"
    for i in range(depth):
        value = [value] if kinds[i % len(kinds)] == "seq" else {"k": value}
    if style == "json":
        text = json.dumps(value)
    else:
        # PyYAML's own emitter recurses too; the block style is written by hand
        text = yaml.safe_dump(value, default_flow_style=True) if style == "flow" else _block(value)
    try:
        ((_, got),) = list(load_objects(["-"], stdin=io.StringIO(text)))
    except NetssoError as exc:
        assert exc.message == f"<stdin> document 1: nested deeper than {manifests.MAX_DEPTH} levels"
        assert depth > manifests.MAX_DEPTH
        return
    assert depth <= manifests.MAX_DEPTH and got == value


def _block(value: Any) -> str:
    lines = []
    indent = 0
    while isinstance(value, list | dict):
        if isinstance(value, list):
            lines.append("  " * indent + "-")
            value = value[0]
        else:
            lines.append("  " * indent + "k:")
            value = value["k"]
        indent += 1
    lines.append("  " * indent + value)
    return "\n".join(lines) + "\n"
