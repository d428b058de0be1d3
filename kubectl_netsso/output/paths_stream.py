"""paths output for machines: the per-pair JSON streamed as bytes straight from the engine's class bitsets (millions
of rows on big clusters), the same document as YAML, and the --compact rules as JSON or YAML."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..netpol.ports import resolve_named

if TYPE_CHECKING:
    from ..cluster.snapshot import Workload
    from ..netpol.external import ExternalFlow
    from ..netpol.paths import PathsResult
    from ..usecases.paths import CompactPaths, PathsBlock, PathsRun, PortKey


_ASCII0 = ord("0")


def _spread(bits: int, width: int) -> int:
    """An int bitset as a big int with one byte per bit (byte k = bit k), built with C-level int/bytes operations."""
    text = format(bits, "b").zfill(width)[::-1].encode("ascii")  # b"0110..." indexed by class
    return int.from_bytes(text, "little") - int.from_bytes(bytes([_ASCII0]) * width, "little") if width else 0


def _class_codes(res: PathsResult, sc: int, width: int) -> bytes:
    """Per destination class, a 6-bit code of (allowed, unknown, egress, egress unknown, ingress, ingress unknown).

    Each bitset is spread to one byte per class and the six are added with weights 1..32 (no carries between
    bytes), so one row of class codes costs a handful of big-int operations instead of a Python loop.
    """
    if not width:
        return b""
    total = (
        _spread(res.matrix[0][sc], width)
        + 2 * _spread(res.unknown[0][sc], width)
        + 4 * _spread(res.egress[0][sc], width)
        + 8 * _spread(res.egress_unknown[0][sc], width)
        + 16 * _spread(res.ingress[0][sc], width)
        + 32 * _spread(res.ingress_unknown[0][sc], width)
    )
    return total.to_bytes(width, "little")


def _tri(code: int, value_bit: int, unknown_bit: int) -> str:
    return "null" if code & unknown_bit else ("true" if code & value_bit else "false")


_LOOPBACK_CODE = 1 | 4 | 16  # allowed, egress and ingress allowed: "a pod cannot block traffic to itself"


def _row_name(run: PathsRun) -> Callable[[Workload], str]:
    """How JSON/YAML name a pod or workload: exactly as the table and can-reach do (NS/NAME for a pod, NS/kind/NAME
    for a workload), so a name from any output can be given back as an endpoint."""
    return _ref


def _ref(w: Workload) -> str:
    return w.ref


def _workloads_json(run: PathsRun, name: Callable[[Workload], str]) -> dict[str, Any]:
    """The "workloads" map: kind and the policies selecting each pod/workload per direction (None: not computed)."""
    out: dict[str, Any] = {}
    for idx, w in enumerate(run.sources):
        entry = out.setdefault(name(w), {"kind": w.kind, "egress": None, "ingress": None})
        if run.blocks:
            entry["egress"] = list(run.blocks[0][2].selecting("egress", idx))
    for d_i, w in enumerate(run.destinations):
        entry = out.setdefault(name(w), {"kind": w.kind, "egress": None, "ingress": None})
        for _key, dst_idx, block in run.blocks:
            j = block.index_of(d_i, dst_idx)
            if j is not None:
                entry["ingress"] = list(block.selecting("ingress", j))
                break
    return out


def stream_json(run: PathsRun, out: Any) -> None:
    """{"paths": [...], "workloads": {...}, "warnings": [...]}: one path per line, streamed (millions on big clusters).

    Rows are assembled from byte pieces rendered once per source, per destination and per verdict code, reading
    the engine's per-class bitsets directly; each source's row is joined by C-level iterators and written at once.
    """
    from itertools import chain, repeat

    def enc(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode("ascii")

    raw = getattr(out, "buffer", None)
    if raw is not None:
        out.flush()
        write: Callable[[bytes], Any] = raw.write
    else:  # a text-only stream (tests): decode each row

        def write(data: bytes) -> Any:
            return out.write(data.decode("ascii"))

    name = _row_name(run)
    write(b'{"paths": [')
    first = True
    all_scope = run.scope_ns is None
    for key, dst_idx, block in run.blocks:
        res = block.result
        dsts = [run.destinations[d_i] for d_i in dst_idx]
        width = len(res.dest_reps)
        port_proto = b',"port":' + enc(key.port) + b',"protocol":' + enc(key.protocol) + b',"allowed":'
        to_piece = [b',"to":' + enc(name(d)) for d in dsts]
        tails = []
        for j in range(len(dsts)):
            rp = block.resolved_port(j, key.port, key.protocol)
            tails.append(b"}" + (b',"resolvedPort":' + enc(rp) if rp is not None else b"") + b"}")
        mids = [
            b"".join(
                (
                    port_proto,
                    _tri(c, 1, 2).encode(),
                    b',"egress":{"allowed":',
                    _tri(c, 4, 8).encode(),
                    b'},"ingress":{"allowed":',
                    _tri(c, 16, 32).encode(),
                )
            )
            for c in range(64)
        ]
        dclass = res.dest_class
        position = {id(d): j for j, d in enumerate(dsts)}
        in_ns = [j for j, d in enumerate(dsts) if d.namespace == run.scope_ns] if not all_scope else []
        for s_i, s in enumerate(run.sources):
            if all_scope or s.namespace == run.scope_ns:
                cols: Sequence[int] | None = None  # every destination
            else:
                cols = in_ns
                if not cols:
                    continue
            codes = _class_codes(res, res.source_class[s_i], width)
            by_class = list(map(mids.__getitem__, codes))
            head = b',\n  {"from":' + enc(name(s))
            if cols is None:
                parts = list(chain.from_iterable(zip(repeat(head), to_piece, map(by_class.__getitem__, dclass), tails)))
                self_j = position.get(id(s)) if s.kind == "Pod" else None
                if self_j is not None:
                    parts[4 * self_j + 2] = mids[_LOOPBACK_CODE]
            else:
                parts = []
                for j in cols:
                    parts += (
                        head,
                        to_piece[j],
                        mids[_LOOPBACK_CODE] if dsts[j] is s and s.kind == "Pod" else by_class[dclass[j]],
                        tails[j],
                    )
            if first and parts:
                parts[0] = parts[0][1:]  # no comma before the first path
                first = False
            write(b"".join(parts))
    for piece in external_json(run, name):
        write((b"\n  " if first else b",\n  ") + piece)
        first = False
    write(b"\n" if not first else b"")
    workloads = _workloads_json(run, name)
    entries = ",\n  ".join(json.dumps(k) + ": " + json.dumps(v, separators=(",", ":")) for k, v in workloads.items())
    write(b'],\n"workloads": {' + (("\n  " + entries + "\n").encode("ascii") if entries else b"") + b"}")
    write(b',\n"warnings": ' + json.dumps(run.warnings).encode("ascii") + b"}\n")
    if raw is not None:
        raw.flush()
    else:
        out.flush()


def _row_dict(
    name: Callable[[Workload], str], s: Workload, d: Workload, key: PortKey, block: PathsBlock, s_i: int, j: int
) -> dict[str, Any]:
    eg, ing = block.directions(s_i, j)
    item: dict[str, Any] = {
        "from": name(s),
        "to": name(d),
        "port": key.port,
        "protocol": key.protocol,
        "allowed": block.allowed(s_i, j),
        "egress": {"allowed": eg},
        "ingress": {"allowed": ing},
    }
    rp = block.resolved_port(j, key.port, key.protocol)
    if rp is not None:
        item["resolvedPort"] = rp
    return item


def stream_yaml(run: PathsRun, out: Any) -> None:
    """The same document as JSON, in block YAML (one yaml.safe_dump per path, streamed)."""
    import yaml

    name = _row_name(run)
    empty = True
    for s_i, j, key, block in run.rows():
        if empty:
            out.write("paths:\n")
            empty = False
        row = _row_dict(name, run.sources[s_i], block.destinations[j], key, block, s_i, j)
        out.write(yaml.safe_dump([row], sort_keys=False, default_flow_style=False))
    for direction, w, flow in run.external:
        if empty:
            out.write("paths:\n")
            empty = False
        out.write(yaml.safe_dump([external_row(direction, w, flow, name)], sort_keys=False, default_flow_style=False))
    if empty:
        out.write("paths: []\n")
    rest = {"workloads": _workloads_json(run, name), "warnings": run.warnings}
    out.write(yaml.safe_dump(rest, sort_keys=False, default_flow_style=False))
    out.flush()


def external_row(direction: str, w: Workload, f: ExternalFlow, name: Callable[[Workload], str]) -> dict[str, Any]:
    """One per-pair JSON row; the external end is ``ip:BLOCKS``, and the same addresses as data in ipBlocks."""
    row: dict[str, Any] = {
        "from": name(w) if direction == "egress" else f.ref,
        "to": f.ref if direction == "egress" else name(w),
        "port": f.port,
        "protocol": f.protocol,
        "allowed": f.allowed,
        "egress": {"allowed": f.egress},
        "ingress": {"allowed": f.ingress},
    }
    rp = resolve_named(f.port, f.protocol, w.ports) if direction == "ingress" and isinstance(f.port, str) else None
    if rp is not None:
        row["resolvedPort"] = rp
    row["ipBlocks"] = [b.to_dict() for b in f.blocks]
    return row


def external_json(run: PathsRun, name: Callable[[Workload], str]) -> Iterator[bytes]:
    """The external rows of the per-pair JSON, one per line, in the same compact form as the pod rows."""
    for direction, w, f in run.external:
        yield json.dumps(external_row(direction, w, f, name), separators=(",", ":")).encode("ascii")


def write_compact(result: CompactPaths, fmt: str, out: Any) -> None:
    """--compact -o json|yaml: {"rules": [...], "warnings": [...]}."""
    if fmt == "json":
        # one rule per line, as paths prints one path per line: greppable, and diffs stay readable
        rules = ",\n  ".join(json.dumps(r, separators=(",", ":")) for r in result.result.to_dict()["rules"])
        body = f"\n  {rules}\n" if rules else ""
        out.write(f'{{"rules": [{body}],\n"warnings": {json.dumps(result.warnings)}}}\n')
    else:
        from . import to_yaml

        out.write(to_yaml(result.to_dict()))
    out.flush()
