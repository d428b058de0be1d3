"""A Snapshot from manifests: files, folders (recursive) or stdin of YAML (multi-document) and JSON.

Every object is checked field by field before it reaches a record, so the engines never see garbage. An object
the API server would reject is left out with a warning naming the file, the document and the reason (it can never
exist in a cluster, so no answer may depend on it); only files that cannot be read or parsed are errors.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, TextIO

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .. import log
from ..errors import NetssoError
from ..output.text import escape
from . import examples, policykinds
from .snapshot import (
    NAMESPACE_NAME_LABEL,
    WORKLOAD_KINDS,
    AdminNetworkPolicy,
    CalicoHostEndpoint,
    CalicoNetworkSet,
    CalicoPolicy,
    CalicoTier,
    CiliumPolicy,
    ContainerPort,
    InvalidObject,
    Namespace,
    NetworkPolicy,
    Node,
    PolicyRule,
    Role,
    RoleBinding,
    Service,
    ServiceAccount,
    ServicePort,
    Snapshot,
    Subject,
    UnevaluatedPolicy,
    Workload,
)

__all__ = ["load_snapshot", "load_objects", "snapshot_from_objects", "MANIFEST_SUFFIXES"]

# libyaml's loader is ~10x faster than the pure Python one; both are "safe" (no arbitrary objects).
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
_QUOTE_HINT = "quote values such as 1, 1.0, true, yes, on or dates in YAML: the API wants strings there"

# (kind -> accepted API groups). A kind from another group (e.g. Calico's projectcalico.org NetworkPolicy) is skipped.
_GROUPS: dict[str, tuple[str, ...]] = {
    "Pod": ("",),
    "ReplicationController": ("",),
    "Service": ("",),
    "ServiceAccount": ("",),
    "Namespace": ("",),
    "Node": ("",),
    "Deployment": ("apps", "extensions"),
    "StatefulSet": ("apps",),
    "DaemonSet": ("apps", "extensions"),
    "ReplicaSet": ("apps", "extensions"),
    "Job": ("batch",),
    "CronJob": ("batch",),
    "NetworkPolicy": ("networking.k8s.io", "extensions"),
    "AdminNetworkPolicy": ("policy.networking.k8s.io",),
    "BaselineAdminNetworkPolicy": ("policy.networking.k8s.io",),
    "Role": ("rbac.authorization.k8s.io",),
    "ClusterRole": ("rbac.authorization.k8s.io",),
    "RoleBinding": ("rbac.authorization.k8s.io",),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io",),
}
# Engines whose kinds this loader decodes into records (the others' objects become UnevaluatedPolicy).
_DECODED_ENGINES = ("k8s", "calico", "cilium")
_CONVERTED = ("knp.default.", "kanp.adminnetworkpolicy.", "kbanp.baselineadminnetworkpolicy.")
_CLUSTER_SCOPED = {"Namespace", "Node", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterRole", "ClusterRoleBinding"}
_PROTOCOLS = ("TCP", "UDP", "SCTP")
_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


class _Bad(Exception):
    """A malformed field; the object is rejected (an InvalidObject) with the document's location and what could be read
    of its kind, namespace and name."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint
        self.kind = ""
        self.namespace: str | None = None
        self.name: str | None = None


# ---------------------------------------------------------------------------------------------------------------
# Public API


def load_snapshot(paths: Sequence[str], stdin: TextIO | None = None) -> Snapshot:
    """Load manifests into a Snapshot.

    Each path is a file, a folder (recursive: ``*.yaml``, ``*.yml``, ``*.json``; hidden folders skipped) or ``-``
    for stdin (``stdin`` overrides ``sys.stdin``, for tests). YAML multi-document and JSON; ``kind: List`` and
    ``*List`` kinds are flattened. Workloads (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
    ReplicationController, Job, CronJob) become ``Workload`` records from their pod template; Services,
    NetworkPolicies, AdminNetworkPolicies/BaselineAdminNetworkPolicies, Roles/ClusterRoles and
    RoleBindings/ClusterRoleBindings their records; namespaces referenced only by ``metadata.namespace`` exist
    with the automatic ``kubernetes.io/metadata.name`` label. Unknown kinds are skipped (debug log).

    Warnings (object without namespace placed in ``default``, duplicates: last wins, documents that are not
    Kubernetes objects at all, e.g. a Helm values.yaml: skipped, objects the API server would reject: left out and
    listed in ``Snapshot.invalid``) are in ``Snapshot.warnings``; the caller prints them.
    Raises NetssoError (one line naming file and document) on unreadable paths, text that is not UTF-8, malformed
    YAML/JSON, and documents nested deeper than MAX_DEPTH or growing by more than MAX_ALIAS_NODES through aliases.
    """
    if not paths:
        raise NetssoError("no manifests given", hint="pass --manifests FILE|DIR|-")
    return snapshot_from_objects(load_objects(paths, stdin=stdin), source="manifests: " + ", ".join(paths))


def load_objects(paths: Sequence[str], stdin: TextIO | None = None) -> Iterator[tuple[str, Any]]:
    """Yield (location, document) for each YAML/JSON document under paths; location is ``FILE document N``.

    Documents are yielded as parsed (unchecked); empty documents are skipped.
    """
    for path in paths:
        if path == "-":
            stream = stdin if stdin is not None else sys.stdin
            try:
                # bytes when there are any: a text stdin decodes with surrogateescape under the C locale and the bad
                # byte would only surface later, as a UnicodeEncodeError inside libyaml
                buffer = getattr(stream, "buffer", None)
                data = buffer.read() if buffer is not None else stream.read().encode("utf-8", "surrogateescape")
            except OSError as exc:
                raise NetssoError(f"<stdin>: cannot read: {exc.strerror or exc}") from None
            yield from _parse_text("<stdin>", _decode("<stdin>", data))
            continue
        for file in _expand(path):
            try:
                with open(file, "rb") as fh:
                    data = fh.read()
            except OSError as exc:
                raise NetssoError(f"{file}: cannot read: {exc.strerror or exc}") from None
            yield from _parse_text(file, _decode(file, data))


def snapshot_from_objects(docs: Iterator[tuple[str, Any]] | Sequence[tuple[str, Any]], source: str = "") -> Snapshot:
    """Build a Snapshot from (location, object) pairs (e.g. from ``load_objects`` or plain dicts in tests)."""
    builder = _Builder()
    for where, doc in docs:
        builder.add_document(where, doc)
    return builder.build(source)


# ---------------------------------------------------------------------------------------------------------------
# Files and parsing


def _expand(path: str) -> list[str]:
    path = examples.resolve(path)  # example:NAME, the example clusters shipped with the package
    if os.path.isdir(path):
        found: list[str] = []
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.lower().endswith(MANIFEST_SUFFIXES) and not name.startswith("."):
                    found.append(os.path.join(root, name))
        if not found:
            log.warn(f"{path}: no *.yaml, *.yml or *.json files found")
        return found
    if os.path.exists(path):
        return [path]
    raise NetssoError(f"{path}: no such file or directory", hint="--manifests takes a file, a folder or '-' for stdin")


def _decode(source: str, data: bytes) -> str:
    """UTF-8 (a BOM allowed, as kubectl allows it), with universal newlines as text-mode files had them."""
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        text = data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = start + exc.start
        raise NetssoError(f"{source}: not UTF-8 text (byte 0x{data[at]:02x} at offset {at})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


# Bounds on one document, so that every later stage (the checks, the engines, JSON output) walks a tree whose size
# the text pays for. Kubernetes objects nest about 10 levels (a CRD's schema 40 or so); Python's own stack ends
# near 500 levels of libyaml composition. Aliases are shared, as PyYAML shares them, but the later stages see the
# expanded tree: a NetworkPolicy whose rules alias one list of peers 140 times (48 KB, 980,000 nodes expanded)
# made `audit` run 4 minutes. Sharing a labels block or a container spec a few times costs hundreds of nodes.
MAX_DEPTH = 200
MAX_ALIAS_NODES = 100_000
_DEEP = f"nested deeper than {MAX_DEPTH} levels"
_BOMB = f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes (an alias bomb?)"
_SELF = "an alias refers to a node that contains it"


class _Refused(Exception):
    """A document over the bounds; becomes a NetssoError naming the file and the document."""


def _parse_text(file: str, text: str) -> Iterator[tuple[str, Any]]:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")) or file.lower().endswith(".json"):
        try:
            doc = json.loads(text)
            _check_depth(doc)
        except RecursionError:
            raise NetssoError(f"{file} document 1: {_DEEP}") from None
        except _Refused as exc:
            raise NetssoError(f"{file} document 1: {exc}") from None
        except ValueError as exc:
            if file.lower().endswith(".json"):
                line = getattr(exc, "lineno", None)
                at = f" line {line}" if line else ""
                raise NetssoError(_one_line(f"{file} document 1{at}: invalid JSON: {getattr(exc, 'msg', exc)}")) from None
        else:
            if doc is not None:
                yield f"{file} document 1", doc
            return
    number = 0
    try:
        for doc in _yaml_documents(text):
            number += 1
            if doc is not None:
                yield f"{file} document {number}", doc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise NetssoError(_one_line(f"{file} document {number + 1}{at}: invalid YAML: {problem}")) from None
    except _Refused as exc:
        raise NetssoError(f"{file} document {number + 1}: {exc}") from None
    except RecursionError:  # libyaml's composer recurses in Python frames: it gives up before MAX_DEPTH matters
        raise NetssoError(f"{file} document {number + 1}: {_DEEP}") from None


def _check_depth(doc: Any) -> None:
    """JSON has no aliases, so its size is the text's; only the nesting needs a bound (json.loads allows ~1000)."""
    level = [doc] if doc.__class__ is dict or doc.__class__ is list else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            raise _Refused(_DEEP)
        below = []
        for value in level:
            for child in value.values() if value.__class__ is dict else value:
                if child.__class__ is dict or child.__class__ is list:
                    below.append(child)
        level = below


class _FastLoader(_Loader):
    """The safe loader with the implicit-tag resolution of plain scalars memoised.

    Manifests repeat the same keys and values thousands of times (name, app, containerPort, TCP...); resolving each
    one runs a handful of regular expressions. The result depends only on (value, implicit), so caching it is exact.
    """

    _tags: dict[tuple[str, tuple[bool, bool]], str] = {}

    # Path resolvers (yaml.add_path_resolver) are never registered here; skip their per-node bookkeeping.
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode:
            key = (value, implicit)
            tag = self._tags.get(key)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(self._tags) < 200_000:
                    self._tags[key] = tag
            return tag
        return super().resolve(kind, value, implicit)


_TAG = "tag:yaml.org,2002:"
_STR_TAG = _TAG + "str"
_MAP_TAG = _TAG + "map"
_SEQ_TAG = _TAG + "seq"
_SET_TAG = _TAG + "set"
_MERGE_TAG = _TAG + "merge"
_VALUE_TAG = _TAG + "value"
_PAIRS_TAGS = (_TAG + "omap", _TAG + "pairs")
_SCALAR_TAGS = ("null", "bool", "int", "float", "timestamp", "binary")
_BUSY = (None, 0, 0)  # the memo entry of a node being built: meeting it again is a cycle


class _Constructor:
    """SafeConstructor's result from a composed document, each node built once, bounded; about 4x cheaper.

    Every construct is done here, merge keys and tags included, so no document reaches PyYAML's constructor: its
    cost on merge keys depends on the installed version (`<<: [*a, *a, ...]` nine levels deep was exponential
    before PyYAML 6.0.4, yaml/pyyaml#897). An alias returns the object already built, as PyYAML shares it, and
    counts the nodes it would expand to against MAX_ALIAS_NODES; recursive aliases, which PyYAML turns into
    self-containing lists, are refused: every later stage would loop on them.
    """

    __slots__ = ("loader", "scalar", "built", "count", "expanded", "deepest")

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        ctors = loader.yaml_constructors
        self.scalar = {_TAG + t: ctors[_TAG + t] for t in _SCALAR_TAGS}
        # id(node) -> (object, nodes below it after expansion, levels of collections from it down); the composed
        # document keeps every node alive while it is built, so ids are not reused
        self.built: dict[int, tuple[Any, int, int]] = {}
        self.count = 0  # nodes built so far, aliases expanded
        self.expanded = 0  # of which through aliases
        self.deepest = 0  # deepest collection level reached below the collection being built

    def document(self, node: Any) -> Any:
        self.built.clear()
        self.count = self.expanded = self.deepest = 0
        return self.build(node, 0)

    def build(self, node: Any, depth: int) -> Any:
        """The object for node, which sits under `depth` collections."""
        cls = node.__class__
        if cls is ScalarNode:
            if node.tag == _STR_TAG:
                return node.value
            ctor = self.scalar.get(node.tag)
            if ctor is None:
                raise ConstructorError(None, None, f"could not determine a constructor for the tag {node.tag!r}", node.start_mark)
            return ctor(self.loader, node)
        key = id(node)
        seen = self.built.get(key)
        if seen is not None:
            if seen is _BUSY:
                raise _Refused(_SELF)
            shared, size, height = seen
            self.count += size
            self.expanded += size + 1
            if self.expanded > MAX_ALIAS_NODES:
                raise _Refused(_BOMB)
            if depth + height > MAX_DEPTH:
                raise _Refused(_DEEP)
            if depth + height > self.deepest:
                self.deepest = depth + height
            return shared
        depth += 1
        if depth > MAX_DEPTH:
            raise _Refused(_DEEP)
        self.built[key] = _BUSY
        start, outer, self.deepest = self.count, self.deepest, depth
        tag = node.tag
        if cls is MappingNode and (tag == _MAP_TAG or tag == _SET_TAG):
            obj: Any = self._mapping(node, depth)
            if tag == _SET_TAG:
                obj = set(obj)
        elif cls is SequenceNode and tag == _SEQ_TAG:
            self.count += len(node.value)
            build = self.build
            obj = [
                item.value if item.tag == _STR_TAG and item.__class__ is ScalarNode else build(item, depth) for item in node.value
            ]
        elif cls is SequenceNode and tag in _PAIRS_TAGS:
            obj = self._pairs(node, depth)
        else:
            raise ConstructorError(None, None, f"could not determine a constructor for the tag {tag!r}", node.start_mark)
        height = self.deepest - depth + 1
        if outer > self.deepest:
            self.deepest = outer
        self.built[key] = (obj, self.count - start, height)
        return obj

    def _mapping(self, node: Any, depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        merged: list[dict[Any, Any]] = []
        self.count += 2 * len(node.value)
        # plain strings inline: they are most of a manifest, and a call each costs ~10% of the load
        for key_node, value_node in node.value:
            tag = key_node.tag
            if tag == _STR_TAG and key_node.__class__ is ScalarNode:
                key = key_node.value
            elif tag == _MERGE_TAG:
                merged.extend(self._merged(node, value_node, depth))
                continue
            elif tag == _VALUE_TAG:  # PyYAML's flatten_mapping: a key `=` (the "value" type) is the string "="
                key = key_node.value
            else:
                key = self.build(key_node, depth)
            try:
                if value_node.tag == _STR_TAG and value_node.__class__ is ScalarNode:
                    out[key] = value_node.value
                else:
                    out[key] = self.build(value_node, depth)
            except TypeError:
                raise ConstructorError(
                    "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
                ) from None
        if not merged:
            return out
        # the mapping's own entries win, then the first merged mapping (of `<<: [a, b]`, and of two `<<` keys)
        result: dict[Any, Any] = {}
        for source in reversed(merged):
            result.update(source)
        result.update(out)
        return result

    def _merged(self, node: Any, value_node: Any, depth: int) -> list[dict[Any, Any]]:
        """The mappings a `<<` merges, in the order written."""
        if value_node.__class__ is MappingNode:
            return [self._merge_source(value_node, depth)]
        if value_node.__class__ is SequenceNode:
            sources = []
            for sub in value_node.value:
                if sub.__class__ is not MappingNode:
                    raise ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"expected a mapping for merging, but found {sub.id}",
                        sub.start_mark,
                    )
                sources.append(self._merge_source(sub, depth))
            return sources
        raise ConstructorError(
            "while constructing a mapping",
            node.start_mark,
            f"expected a mapping or list of mappings for merging, but found {value_node.id}",
            value_node.start_mark,
        )

    def _merge_source(self, node: Any, depth: int) -> dict[Any, Any]:
        source = self.build(node, depth)
        # a `!!set` merges its members with null values, as PyYAML's flattening does
        return dict.fromkeys(source) if isinstance(source, set) else source

    def _pairs(self, node: Any, depth: int) -> list[tuple[Any, Any]]:
        """!!omap and !!pairs: a sequence of one-entry mappings, as a list of (key, value)."""
        pairs = []
        for sub in node.value:
            if sub.__class__ is not MappingNode or len(sub.value) != 1:
                raise ConstructorError(
                    "while constructing an ordered map", node.start_mark, "expected a mapping of length 1", sub.start_mark
                )
            key_node, value_node = sub.value[0]
            self.count += 3
            pairs.append((self.build(key_node, depth + 1), self.build(value_node, depth + 1)))
        return pairs


def _yaml_documents(text: str) -> Iterator[Any]:
    loader = _FastLoader(text)
    constructor = _Constructor(loader)
    try:
        while loader.check_node():
            yield constructor.document(loader.get_node())
    finally:
        loader.dispose()


def _one_line(text: str, limit: int = 400) -> str:
    """Errors are one line: control characters from names or keys are escaped, very long values cut."""
    text = escape(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------------------------------
# Field checks (path is the dotted field path shown in errors)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _mapping(value: Any, path: str, required: bool = False) -> dict[str, Any]:
    """A mapping with string keys; null/absent gives {} unless required."""
    if value is None:
        if required:
            raise _Bad(f"{path} is required")
        return {}
    if not isinstance(value, dict):
        raise _Bad(f"{path} must be a mapping, not {_type_name(value)}")
    for key in value:
        if not isinstance(key, str):
            raise _Bad(f"{path} has a non-string key {key!r}")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Bad(f"{path} must be a list, not {_type_name(value)}")
    return value


def _str(value: Any, path: str, required: bool = False, default: str | None = None) -> str | None:
    if value is None:
        if required:
            raise _Bad(f"{path} is required")
        return default
    if not isinstance(value, str):
        raise _Bad(f"{path} must be a string, not {_type_name(value)}")
    if required and not value:
        raise _Bad(f"{path} must not be empty")
    return value


def _req_str(value: Any, path: str) -> str:
    result = _str(value, path, required=True)
    assert result is not None
    return result


def _str_list(value: Any, path: str) -> tuple[str, ...]:
    items = _list(value, path)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise _Bad(f"{path}[{i}] must be a string, not {_type_name(item)}")
    return tuple(items)


def _bool(value: Any, path: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _Bad(f"{path} must be true or false, not {_type_name(value)}")
    return value


def _int(value: Any, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"{path} must be a number, not {_type_name(value)}")
    if not low <= value <= high:
        raise _Bad(f"{path} must be between {low} and {high}, not {value}")
    return value


def _port(value: Any, path: str) -> int:
    return _int(value, path, 1, 65535)


def _protocol(value: Any, path: str) -> str:
    proto = _str(value, path, default="TCP")
    if proto not in _PROTOCOLS:
        raise _Bad(f"{path} must be one of TCP, UDP, SCTP, not {proto!r}")
    return proto


def _int_or_name(value: Any, path: str) -> int | str:
    """IntOrString port: a number 1-65535 or a port name (IANA_SVC_NAME: has a letter)."""
    if isinstance(value, str):
        if not value or not any(c.isalpha() for c in value):
            raise _Bad(f"{path} must be a port number or a port name, not {value!r}")
        return value
    return _port(value, path)


def _labels(value: Any, path: str) -> dict[str, str]:
    labels = _mapping(value, path)
    for key, val in labels.items():
        if not isinstance(val, str):
            raise _Bad(f"{path}.{key} must be a string, not {_type_name(val)}", hint=_QUOTE_HINT)
    return dict(labels)


def _selector(value: Any, path: str) -> dict[str, Any]:
    """A metav1.LabelSelector, returned with only matchLabels / matchExpressions (present keys kept)."""
    sel = _mapping(value, path)
    out: dict[str, Any] = {}
    if sel.get("matchLabels") is not None:
        out["matchLabels"] = _labels(sel["matchLabels"], path + ".matchLabels")
    if sel.get("matchExpressions") is not None:
        exprs = []
        for i, expr in enumerate(_list(sel["matchExpressions"], path + ".matchExpressions")):
            epath = f"{path}.matchExpressions[{i}]"
            expr = _mapping(expr, epath, required=True)
            key = _req_str(expr.get("key"), epath + ".key")
            op = _req_str(expr.get("operator"), epath + ".operator")
            if op not in _SELECTOR_OPERATORS:
                raise _Bad(f"{epath}.operator must be one of In, NotIn, Exists, DoesNotExist, not {op!r}")
            values = _str_list(expr.get("values"), epath + ".values")
            # LabelSelectorRequirement: "If the operator is In or NotIn, the values array must be non-empty.
            # If the operator is Exists or DoesNotExist, the values array must be empty." (metav1 API reference)
            if op in ("In", "NotIn") and not values:
                raise _Bad(f"{epath}.values must be non-empty for operator {op}")
            if op in ("Exists", "DoesNotExist") and values:
                raise _Bad(f"{epath}.values must be empty for operator {op}")
            exprs.append({"key": key, "operator": op, "values": list(values)})
        out["matchExpressions"] = exprs
    return out


def _cidr(value: Any, path: str) -> str:
    text = _req_str(value, path)
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise _Bad(f"{path} must be a CIDR such as 10.0.0.0/8, not {text!r}") from None
    if "/" not in text:
        raise _Bad(f"{path} must be a CIDR with a prefix length such as 10.0.0.0/8, not {text!r}")
    return text


# ---------------------------------------------------------------------------------------------------------------
# Kind-specific checks producing clean specs / records


def _container_ports(pod_spec: dict[str, Any], path: str) -> tuple[ContainerPort, ...]:
    """Ports of the pod's containers and of its sidecars.

    Plain init containers run to completion before the app containers start, so they never receive traffic
    and their ports are not used. Sidecars (initContainers with restartPolicy: Always, k8s >= 1.29) keep
    running and are used: kubernetes pkg/api/v1/pod/util.go FindPort: "also support sidecar container
    (initContainer with restartPolicy=Always)".
    """
    ports: list[ContainerPort] = []
    groups = [
        (f"{path}.containers", _list(pod_spec.get("containers"), path + ".containers")),
        (f"{path}.initContainers", _list(pod_spec.get("initContainers"), path + ".initContainers")),
    ]
    for base, items in groups:
        for i, container in enumerate(items):
            cpath = f"{base}[{i}]"
            container = _mapping(container, cpath, required=True)
            if base.endswith("initContainers") and container.get("restartPolicy") != "Always":
                continue
            for j, port in enumerate(_list(container.get("ports"), cpath + ".ports")):
                ppath = f"{cpath}.ports[{j}]"
                port = _mapping(port, ppath, required=True)
                number = port.get("containerPort")
                if number is None:
                    raise _Bad(f"{ppath}.containerPort is required")
                ports.append(
                    ContainerPort(
                        port=_port(number, ppath + ".containerPort"),
                        protocol=_protocol(port.get("protocol"), ppath + ".protocol"),
                        name=_str(port.get("name"), ppath + ".name") or None,
                    )
                )
    return tuple(ports)


def _pod_template(kind: str, spec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(template metadata, pod spec, field path of the pod spec) for a workload kind."""
    if kind == "CronJob":
        job_template = _mapping(spec.get("jobTemplate"), "spec.jobTemplate", required=True)
        job_spec = _mapping(job_template.get("spec"), "spec.jobTemplate.spec", required=True)
        template = _mapping(job_spec.get("template"), "spec.jobTemplate.spec.template", required=True)
        base = "spec.jobTemplate.spec.template"
    else:
        template = _mapping(spec.get("template"), "spec.template", required=True)
        base = "spec.template"
    meta = _mapping(template.get("metadata"), base + ".metadata")
    pod_spec = _mapping(template.get("spec"), base + ".spec", required=True)
    return meta, pod_spec, base + ".spec"


def _np_ports(value: Any, path: str) -> list[dict[str, Any]]:
    out = []
    for i, port in enumerate(_list(value, path)):
        ppath = f"{path}[{i}]"
        port = _mapping(port, ppath, required=True)
        entry: dict[str, Any] = {"protocol": _protocol(port.get("protocol"), ppath + ".protocol")}
        if port.get("port") is not None:
            entry["port"] = _int_or_name(port["port"], ppath + ".port")
        if port.get("endPort") is not None:
            end = _port(port["endPort"], ppath + ".endPort")
            # NetworkPolicyPort.endPort: "The endPort must be equal or greater than port" and only with a numeric port.
            if not isinstance(entry.get("port"), int):
                raise _Bad(f"{ppath}.endPort needs a numeric port")
            if end < entry["port"]:
                raise _Bad(f"{ppath}.endPort must be >= port ({entry['port']}), not {end}")
            entry["endPort"] = end
        out.append(entry)
    return out


def _np_peers(value: Any, path: str) -> list[dict[str, Any]]:
    out = []
    for i, peer in enumerate(_list(value, path)):
        ppath = f"{path}[{i}]"
        peer = _mapping(peer, ppath, required=True)
        entry: dict[str, Any] = {}
        # Absent and empty selectors differ ({} selects all); null counts as absent (a nil pointer in the Go type).
        for key in ("podSelector", "namespaceSelector"):
            if peer.get(key) is not None:
                entry[key] = _selector(peer[key], f"{ppath}.{key}")
        if peer.get("ipBlock") is not None:
            if entry:
                raise _Bad(f"{ppath}: ipBlock cannot be combined with podSelector or namespaceSelector")
            block = _mapping(peer["ipBlock"], ppath + ".ipBlock", required=True)
            cidr = _cidr(block.get("cidr"), ppath + ".ipBlock.cidr")
            excepts = [
                _cidr(e, f"{ppath}.ipBlock.except[{j}]")
                for j, e in enumerate(_list(block.get("except"), ppath + ".ipBlock.except"))
            ]
            entry["ipBlock"] = {"cidr": cidr, "except": excepts}
        if not entry:
            raise _Bad(f"{ppath} must set podSelector, namespaceSelector or ipBlock")
        out.append(entry)
    return out


def _np_spec(value: Any) -> dict[str, Any]:
    spec = _mapping(value, "spec", required=True)
    out: dict[str, Any] = {}
    # podSelector is a non-pointer LabelSelector in the Go type: absent decodes to {} (all pods in the namespace).
    out["podSelector"] = _selector(spec.get("podSelector"), "spec.podSelector")
    if spec.get("policyTypes") is not None:
        types = _str_list(spec["policyTypes"], "spec.policyTypes")
        for i, t in enumerate(types):
            if t not in ("Ingress", "Egress"):
                raise _Bad(f"spec.policyTypes[{i}] must be Ingress or Egress, not {t!r}")
        out["policyTypes"] = list(types)
    for direction, peer_key in (("ingress", "from"), ("egress", "to")):
        if spec.get(direction) is None:
            continue
        rules = []
        for i, rule in enumerate(_list(spec[direction], f"spec.{direction}")):
            rpath = f"spec.{direction}[{i}]"
            rule = _mapping(rule, rpath)  # `- {}` and `- ` (null) both mean "all"
            entry: dict[str, Any] = {}
            if rule.get(peer_key) is not None:
                entry[peer_key] = _np_peers(rule[peer_key], f"{rpath}.{peer_key}")
            if rule.get("ports") is not None:
                entry["ports"] = _np_ports(rule["ports"], f"{rpath}.ports")
            rules.append(entry)
        out[direction] = rules
    return out


def _anp_peer(peer: Any, path: str, egress: bool) -> dict[str, Any]:
    peer = _mapping(peer, path, required=True)
    out: dict[str, Any] = {}
    if "namespaces" in peer:
        out["namespaces"] = _selector(peer["namespaces"], path + ".namespaces")
    if "pods" in peer:
        pods = _mapping(peer["pods"], path + ".pods", required=True)
        out["pods"] = {
            "namespaceSelector": _selector(pods.get("namespaceSelector"), path + ".pods.namespaceSelector"),
            "podSelector": _selector(pods.get("podSelector"), path + ".pods.podSelector"),
        }
    if egress and "nodes" in peer:
        out["nodes"] = _selector(peer["nodes"], path + ".nodes")
    if egress and "networks" in peer:
        out["networks"] = [_cidr(c, f"{path}.networks[{j}]") for j, c in enumerate(_list(peer["networks"], path + ".networks"))]
    if egress and "domainNames" in peer:
        out["domainNames"] = list(_str_list(peer["domainNames"], path + ".domainNames"))
    if not out and peer:
        # A peer type this tool does not know (a newer CRD): "the implementation MUST fail closed" (ANP EgressPeer /
        # IngressPeer docs) -- passed on so the engine treats it so (and says so), instead of refusing the folder.
        return {str(k): v for k, v in peer.items()}
    if len(out) != 1:
        kinds = "namespaces, pods, nodes, networks or domainNames" if egress else "namespaces or pods"
        raise _Bad(f"{path} must set exactly one of {kinds}")
    return out


def _anp_ports(value: Any, path: str) -> list[dict[str, Any]]:
    out = []
    for i, port in enumerate(_list(value, path)):
        ppath = f"{path}[{i}]"
        port = _mapping(port, ppath, required=True)
        entry: dict[str, Any] = {}
        if "portNumber" in port:
            pn = _mapping(port["portNumber"], ppath + ".portNumber", required=True)
            entry["portNumber"] = {
                "protocol": _protocol(pn.get("protocol"), ppath + ".portNumber.protocol"),
                "port": _port(pn.get("port"), ppath + ".portNumber.port"),
            }
        if "namedPort" in port:
            entry["namedPort"] = _req_str(port["namedPort"], ppath + ".namedPort")
        if "portRange" in port:
            pr = _mapping(port["portRange"], ppath + ".portRange", required=True)
            start = _port(pr.get("start"), ppath + ".portRange.start")
            end = _port(pr.get("end"), ppath + ".portRange.end")
            if end < start:
                raise _Bad(f"{ppath}.portRange.end must be >= start ({start}), not {end}")
            entry["portRange"] = {
                "protocol": _protocol(pr.get("protocol"), ppath + ".portRange.protocol"),
                "start": start,
                "end": end,
            }
        if len(entry) != 1:
            raise _Bad(f"{ppath} must set exactly one of portNumber, namedPort or portRange")
        out.append(entry)
    return out


def _anp_spec(kind: str, value: Any) -> dict[str, Any]:
    spec = _mapping(value, "spec", required=True)
    out: dict[str, Any] = {}
    if kind == "AdminNetworkPolicy":
        # AdminNetworkPolicySpec.priority: required, "0 to 1000" (policy.networking.k8s.io/v1alpha1).
        out["priority"] = _int(spec.get("priority"), "spec.priority", 0, 1000)
        actions: tuple[str, ...] = ("Allow", "Deny", "Pass")
    else:
        actions = ("Allow", "Deny")
    subject = _mapping(spec.get("subject"), "spec.subject", required=True)
    sub: dict[str, Any] = {}
    if "namespaces" in subject:
        sub["namespaces"] = _selector(subject["namespaces"], "spec.subject.namespaces")
    if "pods" in subject:
        pods = _mapping(subject["pods"], "spec.subject.pods", required=True)
        sub["pods"] = {
            "namespaceSelector": _selector(pods.get("namespaceSelector"), "spec.subject.pods.namespaceSelector"),
            "podSelector": _selector(pods.get("podSelector"), "spec.subject.pods.podSelector"),
        }
    if len(sub) != 1:
        raise _Bad("spec.subject must set exactly one of namespaces or pods")
    out["subject"] = sub
    for direction, peer_key in (("ingress", "from"), ("egress", "to")):
        if spec.get(direction) is None:
            continue
        rules = []
        for i, rule in enumerate(_list(spec[direction], f"spec.{direction}")):
            rpath = f"spec.{direction}[{i}]"
            rule = _mapping(rule, rpath, required=True)
            action = _req_str(rule.get("action"), rpath + ".action")
            if action not in actions:
                raise _Bad(f"{rpath}.action must be one of {', '.join(actions)}, not {action!r}")
            peers = [
                _anp_peer(p, f"{rpath}.{peer_key}[{j}]", direction == "egress")
                for j, p in enumerate(_list(rule.get(peer_key), f"{rpath}.{peer_key}"))
            ]
            if not peers:
                raise _Bad(f"{rpath}.{peer_key} must list at least one peer")
            entry: dict[str, Any] = {"action": action, peer_key: peers}
            name = _str(rule.get("name"), rpath + ".name")
            if name is not None:
                entry["name"] = name
            if rule.get("ports") is not None:
                entry["ports"] = _anp_ports(rule["ports"], rpath + ".ports")
            rules.append(entry)
        out[direction] = rules
    return out


def _policy_rules(value: Any, path: str) -> tuple[PolicyRule, ...]:
    rules = []
    for i, rule in enumerate(_list(value, path)):
        rpath = f"{path}[{i}]"
        rule = _mapping(rule, rpath, required=True)
        rules.append(
            PolicyRule(
                verbs=_str_list(rule.get("verbs"), rpath + ".verbs"),
                api_groups=_str_list(rule.get("apiGroups"), rpath + ".apiGroups"),
                resources=_str_list(rule.get("resources"), rpath + ".resources"),
                resource_names=_str_list(rule.get("resourceNames"), rpath + ".resourceNames"),
                non_resource_urls=_str_list(rule.get("nonResourceURLs"), rpath + ".nonResourceURLs"),
            )
        )
    return tuple(rules)


def _subjects(value: Any, binding_namespace: str | None) -> tuple[Subject, ...]:
    subjects = []
    for i, subject in enumerate(_list(value, "subjects")):
        spath = f"subjects[{i}]"
        subject = _mapping(subject, spath, required=True)
        kind = _req_str(subject.get("kind"), spath + ".kind")
        if kind not in ("User", "Group", "ServiceAccount"):
            raise _Bad(f"{spath}.kind must be User, Group or ServiceAccount, not {kind!r}")
        name = _req_str(subject.get("name"), spath + ".name")
        namespace = _str(subject.get("namespace"), spath + ".namespace") or None
        if kind == "ServiceAccount":
            # A ServiceAccount subject's namespace defaults to the RoleBinding's; a ClusterRoleBinding must name it
            # (rbac validation: ValidateRoleBindingSubject, "namespace" Required when not namespaced).
            if namespace is None:
                if binding_namespace is None:
                    raise _Bad(f"{spath}.namespace is required for a ServiceAccount in a ClusterRoleBinding")
                namespace = binding_namespace
            api_group = _str(subject.get("apiGroup"), spath + ".apiGroup", default="") or ""
        else:
            namespace = None
            api_group = _str(subject.get("apiGroup"), spath + ".apiGroup", default="rbac.authorization.k8s.io") or ""
        subjects.append(Subject(kind=kind, name=name, namespace=namespace, api_group=api_group))
    return tuple(subjects)


# ---------------------------------------------------------------------------------------------------------------
# The builder


class _Builder:
    """Collects records from documents. live=True: the objects come from the API server, which stored them, so one
    this decoder rejects is only "could not be read" (a warning), not a manifest that will fail to apply."""

    def __init__(self, live: bool = False) -> None:
        self.live = live
        self.namespaces: dict[str, tuple[dict[str, str], str]] = {}  # explicit Namespace manifests
        self.referenced: dict[str, None] = {}  # namespaces seen in metadata.namespace, in order
        self.objects: dict[tuple[str, str | None, str], tuple[str, Any]] = {}  # key -> (where, record)
        self.warnings: list[str] = []
        self.defaulted: dict[str, list[str]] = {}  # file -> objects placed in "default"
        self.invalid: list[InvalidObject] = []

    # -- documents ---------------------------------------------------------------------------------------------
    def add_document(self, where: str, doc: Any, depth: int = 0) -> None:
        if doc is None:
            return
        if depth == 0 and (not isinstance(doc, dict) or ("kind" not in doc and "apiVersion" not in doc)):
            # Folders in GitOps repositories also hold values.yaml, Chart.yaml, CI and tool configs: documents that
            # are not Kubernetes objects at all are skipped with a warning (kubectl apply would refuse them).
            self.warnings.append(f"{where}: not a Kubernetes object (no apiVersion and kind); skipped")
            return
        kind: str | None = ""
        try:
            if not isinstance(doc, dict):
                raise _Bad(f"must be a mapping with apiVersion and kind, not {_type_name(doc)}")
            kind = _str(doc.get("kind"), "kind")
            if not kind:
                raise _Bad("kind is required")
            api_version = _str(doc.get("apiVersion"), "apiVersion") or ""
            if "items" in doc and (kind == "List" or kind.endswith("List")):
                if depth > 4:
                    raise _Bad("Lists nested too deeply")
                items = _list(doc.get("items"), "items")
                for i, item in enumerate(items):
                    if kind != "List" and isinstance(item, dict) and "kind" not in item:
                        # API list responses (`kubectl get --raw`, PodList, NetworkPolicyList...) leave kind and
                        # apiVersion out of their items: they are the list's
                        item = {**item, "kind": kind[: -len("List")], "apiVersion": item.get("apiVersion") or api_version}
                    self.add_document(f"{where} item {i + 1}", item, depth + 1)
                return
            groups = _GROUPS.get(kind)
            group = api_version.split("/", 1)[0] if "/" in api_version else ""
            if api_version and self._policy_kind(where, kind, api_version, group, doc):
                return
            if groups is None or (api_version and group not in groups):
                log.debug(f"{where}: skipping {api_version or '?'} {kind} (not used by netsso)")
                return
            self._add_object(where, kind, doc)
        except _Bad as exc:
            self._reject(where, exc.kind or kind or "", exc.namespace, exc.name, str(exc), exc.hint)
        except RecursionError:
            self._reject(where, kind if isinstance(kind, str) else "", None, None, "object nested too deeply", None)

    def _policy_kind(self, where: str, kind: str, api_version: str, group: str, doc: dict[str, Any]) -> bool:
        """Policy kinds other than NetworkPolicy/ANP/BANP: a CNI's object netsso evaluates becomes its record; one no
        engine here evaluates (another CNI's, an unknown version of a known kind) an UnevaluatedPolicy -- never ignored
        silently (issue 12). True when the document was taken here."""
        pk = policykinds.lookup(group, kind)
        if pk is None:
            return False
        version = api_version.split("/", 1)[1] if "/" in api_version else api_version
        if pk.engine == "k8s" and version in pk.versions:
            return False  # decoded below with the built-in kinds
        if pk.engine in _DECODED_ENGINES and version in pk.versions:
            self._add_cni_object(where, pk, api_version, doc)
            return True
        if pk.data:
            log.debug(f"{where}: skipping {api_version} {kind} (a version this tool does not read)")
            return True
        meta = _mapping(doc.get("metadata"), "metadata", required=True)
        name = _str(meta.get("name"), "metadata.name") or _str(meta.get("generateName"), "metadata.generateName")
        if not name:
            raise _Bad("metadata.name is required")
        namespace = _str(meta.get("namespace"), "metadata.namespace") or None
        known = (pk.group, pk.kind) in policykinds.KNOWN
        if known and pk.namespaced and namespace is None:
            namespace = "default"  # placed like any namespaced object without one (kubectl apply's namespace)
            self.defaulted.setdefault(where.split(" document ")[0], []).append(f"{kind} {name}")
        if known and not pk.namespaced:
            namespace = None
        if pk.staged:
            why = "a staged policy is not enforced: it changes no verdict"
        elif pk.versions and version not in pk.versions:
            why = f"apiVersion {api_version}: version {version} is not known to this tool (it reads {', '.join(pk.versions)})"
        elif not known:
            why = "named like a network policy, but not a kind this tool knows"
        else:
            why = ""  # a kind this tool knows it does not evaluate: the label says enough
        if namespace is not None:
            self.referenced.setdefault(namespace, None)
        record = UnevaluatedPolicy(
            kind=kind,
            api_version=api_version,
            namespace=namespace,
            name=name,
            why=why,
            directions=pk.directions,
            restrict_only=pk.restrict_only,
            hosts=pk.hosts or namespace is None,
            staged=pk.staged,
            source=where,
        )
        key = ("Unevaluated/" + api_version + "/" + kind, namespace, name)
        if key in self.objects:
            self.warnings.append(f"{where}: {record.label} also defined in {self.objects[key][0]}; the last one wins")
        self.objects[key] = (where, record)
        return True

    def _add_cni_object(self, where: str, pk: policykinds.PolicyKind, api_version: str, doc: dict[str, Any]) -> None:
        """A Calico or Cilium object: checked by its decoder (cluster/cni_decode.py) into a record."""
        from . import cni_decode

        kind = pk.kind
        try:
            meta = _mapping(doc.get("metadata"), "metadata", required=True)
            name = _str(meta.get("name"), "metadata.name") or _str(meta.get("generateName"), "metadata.generateName")
            if not name:
                raise _Bad("metadata.name is required")
            namespace = (_str(meta.get("namespace"), "metadata.namespace") or None) if pk.namespaced else None
        except _Bad as exc:
            exc.kind = kind
            raise
        if kind in ("NetworkPolicy", "GlobalNetworkPolicy", "StagedNetworkPolicy") and name.startswith(_CONVERTED):
            # Calico's view of a Kubernetes NetworkPolicy / ANP / BANP ("knp.default.<name>", conversion.go): the
            # object itself is read as what it is; this copy would count it twice.
            log.debug(f"{where}: skipping {kind} {name}: Calico's conversion of a Kubernetes policy")
            return
        defaulted = pk.namespaced and namespace is None
        if defaulted:
            namespace = "default"
        record: Any
        try:
            labels = _labels(meta.get("labels"), "metadata.labels")
            if pk.engine == "cilium":
                record = cni_decode.cilium_policy(kind, name, namespace, api_version, doc, where)
            elif kind in ("NetworkPolicy", "GlobalNetworkPolicy"):
                record = cni_decode.calico_policy(kind, name, namespace, api_version, doc, where)
            elif kind == "Tier":
                record = cni_decode.calico_tier(name, doc, where)
            elif kind in ("NetworkSet", "GlobalNetworkSet"):
                record = cni_decode.calico_network_set(name, namespace, labels, doc, where)
            else:
                record = cni_decode.calico_host_endpoint(name, labels, doc, where)
        except _Bad as exc:
            exc.kind, exc.namespace, exc.name = kind, namespace, name
            raise
        if defaulted:
            self.defaulted.setdefault(where.split(" document ")[0], []).append(f"{kind} {name}")
        if namespace is not None:
            self.referenced.setdefault(namespace, None)
        key = (f"{pk.engine}/{kind}", namespace, name)
        if key in self.objects:
            label = f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
            self.warnings.append(f"{where}: {label} also defined in {self.objects[key][0]}; the last one wins")
        self.objects[key] = (where, record)

    def _reject(self, where: str, kind: str, namespace: str | None, name: str | None, reason: str, hint: str | None) -> None:
        """Leave the object out: the API server refuses to store it ("the answer comes from the rest")."""
        invalid = InvalidObject(
            location=_one_line(where, 300),
            kind=_one_line(kind, 100),
            namespace=None if namespace is None else _one_line(namespace, 100),
            name=None if name is None else _one_line(name, 100),
            reason=_one_line(reason),
            hint=hint,
        )
        if self.live:
            self.warnings.append(f"skipped an object the loader could not read: {invalid.message}")
            return
        self.invalid.append(invalid)
        self.warnings.append(f"{invalid.message}; left out: the API server would reject this object"
                             + (f" (hint: {hint})" if hint else ""))  # fmt: skip

    def _add_object(self, where: str, kind: str, doc: dict[str, Any]) -> None:
        bad_kind = kind
        try:
            meta = _mapping(doc.get("metadata"), "metadata", required=True)
            name = _str(meta.get("name"), "metadata.name") or _str(meta.get("generateName"), "metadata.generateName")
            if not name:
                raise _Bad("metadata.name is required")
            namespace: str | None = None
            if kind not in _CLUSTER_SCOPED:
                namespace = _str(meta.get("namespace"), "metadata.namespace") or None
        except _Bad as exc:
            exc.kind = bad_kind
            raise
        defaulted = kind not in _CLUSTER_SCOPED and namespace is None
        if defaulted:
            namespace = "default"
        label = f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
        try:
            labels = _labels(meta.get("labels"), "metadata.labels")
            record = self._record(where, kind, name, namespace, labels, doc)
        except _Bad as exc:
            exc.kind, exc.namespace, exc.name = kind, namespace, name
            raise
        # Only an object that is kept places its namespace (a rejected one never reaches the cluster).
        if defaulted:
            self.defaulted.setdefault(where.split(" document ")[0], []).append(f"{kind} {name}")
        if namespace is not None:
            self.referenced.setdefault(namespace, None)
        if record is None:
            return
        family = "Workload" if isinstance(record, Workload) else kind
        key = (family + "/" + kind, namespace, name)
        if key in self.objects:
            self.warnings.append(f"{where}: {label} also defined in {self.objects[key][0]}; the last one wins")
        self.objects[key] = (where, record)

    def _record(
        self, where: str, kind: str, name: str, namespace: str | None, labels: dict[str, str], doc: dict[str, Any]
    ) -> Any:
        if kind == "Namespace":
            # "The Kubernetes control plane sets an immutable label kubernetes.io/metadata.name on all namespaces.
            # The value of the label is the namespace name." (Namespaces docs, Automatic labelling)
            labels[NAMESPACE_NAME_LABEL] = name
            if name in self.namespaces:
                self.warnings.append(f"{where}: Namespace {name} also defined in {self.namespaces[name][1]}; the last one wins")
            self.namespaces[name] = (labels, where)
            return None
        if kind in WORKLOAD_KINDS:
            assert namespace is not None
            spec = _mapping(doc.get("spec"), "spec", required=True)
            if kind == "Pod":
                pod_labels, pod_spec, base = labels, spec, "spec"
            else:
                meta, pod_spec, base = _pod_template(kind, spec)
                pod_labels = _labels(meta.get("labels"), base[: -len(".spec")] + ".metadata.labels")
            # serviceAccountName: "Defaults to 'default'" (the ServiceAccount admission controller sets it);
            # serviceAccount is its deprecated alias.
            sa = _str(pod_spec.get("serviceAccountName"), base + ".serviceAccountName") or _str(
                pod_spec.get("serviceAccount"), base + ".serviceAccount"
            )
            ips: tuple[str, ...] = ()
            node: str | None = None
            host_ips: tuple[str, ...] = ()
            if kind == "Pod":
                ips = _pod_ips(doc.get("status"))
                node = _str(pod_spec.get("nodeName"), "spec.nodeName") or None
                host_ips = _pod_ips(doc.get("status"), "host")
            return Workload(
                namespace=namespace,
                name=name,
                kind=kind,
                labels=pod_labels,
                ports=_container_ports(pod_spec, base),
                ips=ips,
                host_network=_bool(pod_spec.get("hostNetwork"), base + ".hostNetwork"),
                owner=None,
                service_account=sa or "default",
                source=where,
                node=node,
                host_ips=host_ips,
            )
        if kind == "Node":
            return _node(name, labels, doc, where)
        if kind == "Service":
            assert namespace is not None
            return replace(_service(where, namespace, name, doc), labels=labels)
        if kind == "ServiceAccount":
            assert namespace is not None
            return ServiceAccount(namespace=namespace, name=name, labels=labels, source=where)
        if kind == "NetworkPolicy":
            assert namespace is not None
            return NetworkPolicy(namespace=namespace, name=name, spec=_np_spec(doc.get("spec")), source=where)
        if kind in ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy"):
            return AdminNetworkPolicy(name=name, kind=kind, spec=_anp_spec(kind, doc.get("spec")), source=where)
        if kind in ("Role", "ClusterRole"):
            aggregation: tuple[Mapping[str, Any], ...] | None = None
            if kind == "ClusterRole" and doc.get("aggregationRule") is not None:
                agg = _mapping(doc["aggregationRule"], "aggregationRule")
                aggregation = tuple(
                    _selector(s, f"aggregationRule.clusterRoleSelectors[{i}]")
                    for i, s in enumerate(_list(agg.get("clusterRoleSelectors"), "aggregationRule.clusterRoleSelectors"))
                )
            return Role(
                name=name,
                namespace=namespace,
                rules=_policy_rules(doc.get("rules"), "rules"),
                labels=labels,
                aggregation_selectors=aggregation,
                source=where,
            )
        if kind in ("RoleBinding", "ClusterRoleBinding"):
            ref = _mapping(doc.get("roleRef"), "roleRef", required=True)
            role_kind = _req_str(ref.get("kind"), "roleRef.kind")
            allowed = ("Role", "ClusterRole") if kind == "RoleBinding" else ("ClusterRole",)
            if role_kind not in allowed:
                raise _Bad(f"roleRef.kind must be {' or '.join(allowed)}, not {role_kind!r}")
            return RoleBinding(
                name=name,
                namespace=namespace,
                role_kind=role_kind,
                role_name=_req_str(ref.get("name"), "roleRef.name"),
                subjects=_subjects(doc.get("subjects"), namespace),
                source=where,
            )
        return None  # pragma: no cover - every kind in _GROUPS is handled above

    # -- result ------------------------------------------------------------------------------------------------
    def build(self, source: str) -> Snapshot:
        warnings = list(self.warnings)
        for file, objects in self.defaulted.items():
            shown = ", ".join(objects[:3]) + (f" and {len(objects) - 3} more" if len(objects) > 3 else "")
            warnings.append(f"{file}: {len(objects)} object(s) without metadata.namespace placed in 'default': {shown}")
        names = list(self.namespaces) + [n for n in self.referenced if n not in self.namespaces]
        namespaces = []
        for name in names:
            labels = dict(self.namespaces[name][0]) if name in self.namespaces else {NAMESPACE_NAME_LABEL: name}
            namespaces.append(Namespace(name=name, labels=labels, defined=name in self.namespaces))
        records = [record for _, record in self.objects.values()]
        return Snapshot(
            namespaces=tuple(namespaces),
            workloads=tuple(r for r in records if isinstance(r, Workload)),
            services=tuple(r for r in records if isinstance(r, Service)),
            network_policies=tuple(r for r in records if isinstance(r, NetworkPolicy)),
            admin_network_policies=tuple(r for r in records if isinstance(r, AdminNetworkPolicy)),
            roles=tuple(r for r in records if isinstance(r, Role)),
            bindings=tuple(r for r in records if isinstance(r, RoleBinding)),
            warnings=tuple(warnings),
            invalid=tuple(self.invalid),
            unevaluated=tuple(r for r in records if isinstance(r, UnevaluatedPolicy)),
            service_accounts=tuple(r for r in records if isinstance(r, ServiceAccount)),
            calico_policies=tuple(r for r in records if isinstance(r, CalicoPolicy)),
            calico_tiers=tuple(r for r in records if isinstance(r, CalicoTier)),
            calico_network_sets=tuple(r for r in records if isinstance(r, CalicoNetworkSet)),
            calico_host_endpoints=tuple(r for r in records if isinstance(r, CalicoHostEndpoint)),
            cilium_policies=tuple(r for r in records if isinstance(r, CiliumPolicy)),
            source=source,
            nodes=tuple(r for r in records if isinstance(r, Node)),
        )


def _pod_ips(status: Any, which: str = "pod") -> tuple[str, ...]:
    """status.podIPs / podIP (or hostIPs / hostIP) of a Pod manifest (e.g. saved with kubectl get -o yaml), in
    canonical form; invalid ones are errors."""
    st = _mapping(status, "status")
    many, one = f"{which}IPs", f"{which}IP"
    ips: list[str] = []
    for i, entry in enumerate(_list(st.get(many), f"status.{many}")):
        entry = _mapping(entry, f"status.{many}[{i}]", required=True)
        ip = _req_str(entry.get("ip"), f"status.{many}[{i}].ip")
        ips.append(ip)
    if not ips and st.get(one) is not None:
        ips.append(_req_str(st.get(one), f"status.{one}"))
    out = []
    for ip in ips:
        try:
            out.append(str(ipaddress.ip_address(ip)))
        except ValueError:
            raise _Bad(f"status.{many}: {ip!r} is not an IP address") from None
    return tuple(dict.fromkeys(out))


def _node(name: str, labels: dict[str, str], doc: dict[str, Any], where: str) -> Node:
    """A Node's IP addresses: status.addresses of type InternalIP and ExternalIP (Hostname and InternalDNS are names)."""
    st = _mapping(doc.get("status"), "status")
    addresses: list[str] = []
    for i, entry in enumerate(_list(st.get("addresses"), "status.addresses")):
        entry = _mapping(entry, f"status.addresses[{i}]", required=True)
        if _str(entry.get("type"), f"status.addresses[{i}].type") not in ("InternalIP", "ExternalIP"):
            continue
        text = _req_str(entry.get("address"), f"status.addresses[{i}].address")
        try:
            addresses.append(str(ipaddress.ip_address(text)))
        except ValueError:
            raise _Bad(f"status.addresses[{i}].address: {text!r} is not an IP address") from None
    return Node(name=name, addresses=tuple(dict.fromkeys(addresses)), labels=labels, source=where)


def _service(where: str, namespace: str, name: str, doc: dict[str, Any]) -> Service:
    spec = _mapping(doc.get("spec"), "spec")
    selector_raw = spec.get("selector")
    # An empty selector is dropped when the API server stores the object (omitempty map), so it means "no selector":
    # the Service gets no endpoints from pods.
    selector = _labels(selector_raw, "spec.selector") if selector_raw else None
    ports = []
    for i, port in enumerate(_list(spec.get("ports"), "spec.ports")):
        ppath = f"spec.ports[{i}]"
        port = _mapping(port, ppath, required=True)
        if port.get("port") is None:
            raise _Bad(f"{ppath}.port is required")
        number = _port(port.get("port"), ppath + ".port")
        # ServicePort.targetPort: "If this is not specified, the value of the 'port' field is used."
        target = port.get("targetPort")
        target_port = number if target is None else _int_or_name(target, ppath + ".targetPort")
        ports.append(
            ServicePort(
                port=number,
                target_port=target_port,
                protocol=_protocol(port.get("protocol"), ppath + ".protocol"),
                name=_str(port.get("name"), ppath + ".name") or None,
            )
        )
    cluster_ips = list(_str_list(spec.get("clusterIPs"), "spec.clusterIPs"))
    cluster_ip = _str(spec.get("clusterIP"), "spec.clusterIP")
    if not cluster_ips and cluster_ip:
        cluster_ips = [cluster_ip]
    return Service(
        namespace=namespace,
        name=name,
        selector=selector,
        ports=tuple(ports),
        type=_str(spec.get("type"), "spec.type", default="ClusterIP") or "ClusterIP",
        cluster_ips=tuple(ip for ip in cluster_ips if ip and ip != "None"),
        source=where,
    )
