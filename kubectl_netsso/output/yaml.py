"""YAML: the one dumper (block style, keys in insertion order) for documents, multi-document manifests and the
rows of a streamed listing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

from .results import CompactView, DocumentView, PathsView, all_rows, workloads_map
from .text import emit, needs_escape

if TYPE_CHECKING:
    import yaml as _yaml

__all__ = [
    "render_compact",
    "render_paths",
    "render_who_can",
    "render_who_can_reach",
    "to_yaml",
    "to_yaml_ascii",
    "to_yaml_documents",
]

_LITERAL_DUMPER: type[_yaml.SafeDumper] | None = None


def _literal_dumper() -> type[_yaml.SafeDumper]:
    """A SafeDumper writing multi-line strings (a PEM bundle) as literal blocks: built once, on first use."""
    global _LITERAL_DUMPER
    if _LITERAL_DUMPER is None:
        import yaml

        class LiteralDumper(yaml.SafeDumper):
            pass

        def text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

        LiteralDumper.add_representer(str, text)
        _LITERAL_DUMPER = LiteralDumper
    return _LITERAL_DUMPER


def _dump(data: Any, *, unicode: bool, literal: bool = False, width: int | None = None) -> str:
    import yaml

    dumper = _literal_dumper() if literal else yaml.SafeDumper
    return str(yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=False, allow_unicode=unicode, width=width))


def to_yaml(data: Any, *, literal_blocks: bool = False) -> str:
    """Block YAML. PyYAML escapes C0 and C1 itself but writes NEL and the invisible/bidi characters raw when
    unicode is allowed: a document holding any of them is written with every non-ASCII character escaped.
    literal_blocks: multi-line strings as ``|`` blocks (certificates stay readable)."""
    text = _dump(data, unicode=True, literal=literal_blocks)
    if needs_escape(text, newlines=True):
        text = _dump(data, unicode=False, literal=literal_blocks)
    return text


def to_yaml_documents(objs: Iterable[Mapping[str, Any]]) -> str:
    """Multi-document YAML: one document per object, ``---`` between them, long lines kept whole (a manifest to
    apply; non-ASCII as escapes)."""
    return "---\n".join(_dump(o, unicode=False, width=4096) for o in objs)


def to_yaml_ascii(data: Any) -> str:
    """Block YAML with every non-ASCII character escaped: for a listing written piece by piece (one list element
    at a time: ``to_yaml_ascii([row])``), where no piece can be checked against the whole."""
    return _dump(data, unicode=False)


def render_paths(run: PathsView, out: TextIO, fmt: str = "yaml", **_options: str) -> None:
    """The same document as JSON, in block YAML (one list item per path, streamed)."""
    empty = True
    for row in all_rows(run):
        if empty:
            out.write("paths:\n")
            empty = False
        out.write(to_yaml_ascii([row]))
    if empty:
        out.write("paths: []\n")
    out.write(to_yaml_ascii({"workloads": workloads_map(run), "warnings": list(run.warnings)}))
    out.flush()


def render_compact(view: CompactView, out: TextIO, fmt: str = "yaml", **_options: str) -> None:
    out.write(to_yaml({**view.result.to_dict(), "warnings": list(view.warnings)}))
    out.flush()


def render_who_can(result: DocumentView, out: TextIO, fmt: str = "yaml", **_options: str) -> None:
    """The documented YAML of who-can / who-can-reach (its to_dict())."""
    emit(to_yaml(dict(result.to_dict())), out)


render_who_can_reach = render_who_can
