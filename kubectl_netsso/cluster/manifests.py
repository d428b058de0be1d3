"""Reading manifests: files, folders (recursive), stdin and ``example:NAME`` of YAML (multi-document) and JSON.

This module only reads and parses, with bounds on what one document may cost (size through aliases, depth, UTF-8);
decode.py turns the documents into records. Only files that cannot be read or parsed are errors here; an object
the API server would reject is a warning of the decoder, and left out.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .. import log
from ..errors import NetssoError
from . import examples
from .decode import snapshot_from_objects
from .fields import one_line
from .snapshot import Snapshot

__all__ = ["load_blobs", "load_snapshot", "load_objects", "MANIFEST_SUFFIXES"]

# libyaml's loader is ~10x faster than the pure Python one; both are "safe" (no arbitrary objects).
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


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


def load_blobs(files: Sequence[tuple[str, bytes]], source: str) -> Snapshot:
    """A Snapshot of file contents read elsewhere (a Git revision: cluster/gitrev.py), named as given, with the
    same parsing, bounds and warnings as files on disk."""
    objects = (doc for name, data in files for doc in _parse_text(name, _decode(name, data)))
    return snapshot_from_objects(objects, source=source)


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
                raise NetssoError(f"<stdin>: cannot read: {exc.strerror or exc}") from exc
            yield from _parse_text("<stdin>", _decode("<stdin>", data))
            continue
        for file in _expand(path):
            try:
                with open(file, "rb") as fh:
                    data = fh.read()
            except OSError as exc:
                raise NetssoError(f"{file}: cannot read: {exc.strerror or exc}") from exc
            yield from _parse_text(file, _decode(file, data))


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
        raise NetssoError(f"{source}: not UTF-8 text (byte 0x{data[at]:02x} at offset {at})") from exc
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
        except RecursionError as exc:
            raise NetssoError(f"{file} document 1: {_DEEP}") from exc
        except _Refused as exc:
            raise NetssoError(f"{file} document 1: {exc}") from exc
        except ValueError as exc:
            if file.lower().endswith(".json"):
                line = getattr(exc, "lineno", None)
                at = f" line {line}" if line else ""
                raise NetssoError(one_line(f"{file} document 1{at}: invalid JSON: {getattr(exc, 'msg', exc)}")) from exc
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
        raise NetssoError(one_line(f"{file} document {number + 1}{at}: invalid YAML: {problem}")) from exc
    except _Refused as exc:
        raise NetssoError(f"{file} document {number + 1}: {exc}") from exc
    except RecursionError as exc:  # libyaml's composer recurses in Python frames: it gives up before MAX_DEPTH matters
        raise NetssoError(f"{file} document {number + 1}: {_DEEP}") from exc


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
    def descend_resolver(self, current_node: Node | None, current_index: object) -> None:
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

    def __init__(self, loader: _FastLoader) -> None:
        self.loader = loader
        ctors = loader.yaml_constructors
        self.scalar = {_TAG + t: ctors[_TAG + t] for t in _SCALAR_TAGS}
        # id(node) -> (object, nodes below it after expansion, levels of collections from it down); the composed
        # document keeps every node alive while it is built, so ids are not reused
        self.built: dict[int, tuple[Any, int, int]] = {}
        self.count = 0  # nodes built so far, aliases expanded
        self.expanded = 0  # of which through aliases
        self.deepest = 0  # deepest collection level reached below the collection being built

    def document(self, node: Node) -> Any:
        self.built.clear()
        self.count = self.expanded = self.deepest = 0
        return self.build(node, 0)

    def build(self, node: Node, depth: int) -> Any:
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

    def _mapping(self, node: Node, depth: int) -> dict[Any, Any]:
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
            except TypeError as exc:
                raise ConstructorError(
                    "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
                ) from exc
        if not merged:
            return out
        # the mapping's own entries win, then the first merged mapping (of `<<: [a, b]`, and of two `<<` keys)
        result: dict[Any, Any] = {}
        for source in reversed(merged):
            result.update(source)
        result.update(out)
        return result

    def _merged(self, node: Node, value_node: Node, depth: int) -> list[dict[Any, Any]]:
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
            f"expected a mapping or list of mappings for merging, but found {getattr(value_node, 'id', 'a node')}",
            value_node.start_mark,
        )

    def _merge_source(self, node: Node, depth: int) -> dict[Any, Any]:
        source = self.build(node, depth)
        # a `!!set` merges its members with null values, as PyYAML's flattening does
        return dict.fromkeys(source) if isinstance(source, set) else source

    def _pairs(self, node: Node, depth: int) -> list[tuple[Any, Any]]:
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
