"""Hostile manifests: alias bombs, deep nesting and non-UTF-8 input end in one `error:` line, quickly.

A pull request to a GitOps repository can put any bytes in front of the CI job that audits it: the loader must
cost what the text is worth (aliases shared as PyYAML shares them, expansion and nesting bounded) and refuse the
rest with a line naming the file and the document.
"""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_netsso.cluster import manifests
from kubectl_netsso.cluster.manifests import load_objects, load_snapshot
from kubectl_netsso.errors import NetssoError

REPO = Path(__file__).resolve().parents[1]


def netsso(*args: str, stdin: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    exe = shutil.which("kubectl-netsso")
    argv = [exe] if exe else [sys.executable, "-m", "kubectl_netsso"]
    env = dict(os.environ, NO_COLOR="1", KUBECONFIG=str(REPO / "tests" / "no-such-kubeconfig"))

    def cap_memory() -> None:
        # before the fix an alias bomb ate gigabytes: keep the machine usable if it comes back
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    return subprocess.run([*argv, *args], input=stdin, capture_output=True, env=env, timeout=timeout, preexec_fn=cap_memory)


def one_error_line(p: subprocess.CompletedProcess[bytes]) -> str:
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 3, (p.returncode, p.stdout, err)
    assert "Traceback" not in err and "internal error" not in err, err
    (line,) = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    return line


def laughs(levels: int, width: int = 9) -> str:
    """The billion laughs: each level is a list of `width` aliases of the one before (width**levels leaves)."""
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: lol, namespace: shop}", "data:"]
    lines.append("  a0: &a0 [" + ",".join(["lol"] * width) + "]")
    for i in range(1, levels + 1):
        lines.append(f"  a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def pyyaml(text: str) -> list[Any]:
    return [d for d in yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if d is not None]


def ours(text: str) -> list[Any]:
    return [doc for _, doc in load_objects(["-"], stdin=io.StringIO(text))]


def containers(value: Any) -> list[Any]:
    """Every dict/list reached from value, once per path (what a naive walk of the expanded tree visits)."""
    out = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            out.append(v)
            stack.extend(v.values())
        elif isinstance(v, list):
            out.append(v)
            stack.extend(v)
    return out


# --- aliases ---------------------------------------------------------------------------------------------------


def test_a_600_byte_alias_bomb_is_refused_in_a_second_through_the_executable(tmp_path: Path) -> None:
    path = tmp_path / "lol.yaml"
    # a Namespace before the bomb: document 2 is the one named
    path.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n" + laughs(9))
    assert path.stat().st_size < 700  # 9**9 = 387 million "lol"s
    start = time.monotonic()
    p = netsso("paths", "-A", "--manifests", str(path), timeout=30)
    elapsed = time.monotonic() - start
    line = one_error_line(p)
    assert line.startswith(f"error: {path} document 2: "), line
    assert "alias" in line and "100,000" in line, line
    assert elapsed < 10, elapsed


def test_an_aliased_node_is_built_once_and_shared_as_pyyaml_does() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: &l {app: api}}\ndata: {a: *l, b: [*l, *l]}\n"
    (doc,) = ours(text)
    assert [doc] == pyyaml(text)
    labels = doc["metadata"]["labels"]
    assert doc["data"]["a"] is labels and doc["data"]["b"][0] is labels and doc["data"]["b"][1] is labels


def test_a_bomb_within_the_budget_loads_as_shared_objects_equal_to_pyyaml() -> None:
    text = laughs(4)  # 9**4 = 6,561 lists of 9 "lol"s after expansion, 82,000 nodes: within the budget
    (doc,) = ours(text)
    assert [doc] == pyyaml(text)
    # one list object per anchor (plus the document, data and metadata), not one per path through the aliases
    assert len({id(c) for c in containers(doc)}) == 3 + 5
    assert len(containers(doc)) > 7000


def test_the_alias_budget_is_exact() -> None:
    budget = manifests.MAX_ALIAS_NODES
    # one anchored list of n scalars, aliased k times: each alias adds n + 1 nodes (the list and its items)
    n = 999
    k = budget // (n + 1)
    anchor = "[" + ", ".join(["x"] * n) + "]"
    within = "a: &a " + anchor + "\nb: [" + ", ".join(["*a"] * k) + "]\n"
    (doc,) = ours(within)
    assert len(doc["b"]) == k
    over = "a: &a " + anchor + "\nb: [" + ", ".join(["*a"] * (k + 1)) + "]\n"
    with pytest.raises(NetssoError, match=r"<stdin> document 1: aliases expand to more than 100,000 nodes"):
        ours(over)


def merge_laughs(levels: int) -> str:
    """Merge keys that double at each level (the shape of yaml/pyyaml#897): exponential in PyYAML before 6.0.4."""
    lines = ["L0: &L0 {k0_0: v0}"]
    for level in range(1, levels + 1):
        keys = ", ".join(f"k{level}_{i}: v{level}" for i in range(1 << level))
        lines.append(f"L{level}: &L{level} {{<<: [*L{level - 1}, *L{level - 1}], {keys}}}")
    return "\n".join(lines) + f"\ntarget: {{<<: [*L{levels}, *L{levels}]}}\n"


def test_a_merge_key_bomb_is_bounded_too() -> None:
    start = time.monotonic()
    with pytest.raises(NetssoError, match=r"<stdin> document 1: aliases expand to more than 100,000 nodes"):
        ours(merge_laughs(14))
    assert time.monotonic() - start < 5
    small = merge_laughs(4)
    assert ours(small) == pyyaml(small)


def test_merge_keys_own_entries_win_then_the_first_merged() -> None:
    text = "a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc: {<<: [*a, *b], y: 3}\nd: {<<: *b, w: *a}\n"
    (doc,) = ours(text)
    assert [doc] == pyyaml(text)
    assert doc["c"] == {"x": 1, "y": 3, "z": 2} and doc["d"]["w"] is doc["a"]


@pytest.mark.parametrize("key", ["m", "mm"])
def test_merging_a_mapping_merges_what_it_is(key: str) -> None:
    # "Keys in mapping nodes earlier in the sequence override keys specified in later mapping nodes", and merging
    # a mapping merges its entries as built. PyYAML 6.0.4 de-duplicates merged keys by string identity: it answers
    # {m: 0} for "m" but {mm: 3} for "mm" in the first case, and kk: 2 in the second.
    (doc,) = ours(f"a0: &a0 {{{key}: 0, n: 0}}\na3: &a3 {{{key}: 3, <<: *a0}}\ntop: {{<<: *a3}}\n")
    assert doc["top"] == doc["a3"] == {key: 3, "n": 0}
    (doc,) = ours("x: &x {kk: 1}\ny: &y {kk: 2, ll: 2}\ntop: {<<: [*x, *y]}\n")
    assert doc["top"] == {"kk": 1, "ll": 2}


@pytest.mark.parametrize("text", ["&a [*a]\n", "&a {x: *a}\n", "&a {<<: {}, x: [*a]}\n", "- &a [1, [*a]]\n"])
def test_an_alias_to_itself_is_refused(text: str) -> None:
    with pytest.raises(NetssoError) as err:
        ours(text)
    assert err.value.message == "<stdin> document 1: an alias refers to a node that contains it"


# --- nesting ---------------------------------------------------------------------------------------------------


def _deep_json(depth: int) -> str:
    return '{"apiVersion": "v1", "kind": "ConfigMap", "data": ' + "[" * depth + "]" * depth + "}"


def test_a_1000_deep_json_document_is_one_error_line(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text(_deep_json(1000))
    line = one_error_line(netsso("paths", "-A", "--manifests", str(path)))
    assert line == f"error: {path} document 1: nested deeper than 200 levels"
    line = one_error_line(
        netsso("can-reach", "a/b", "c/d", "--port", "80", "--manifests", "-", stdin=_deep_json(100_000).encode())
    )
    assert line == "error: <stdin> document 1: nested deeper than 200 levels"


@pytest.mark.parametrize("body", ["data: " + "[" * 300 + "]" * 300, "- " * 300 + "x"], ids=["flow", "block"])
def test_deep_yaml_is_refused_before_python_runs_out_of_stack(tmp_path: Path, body: str) -> None:
    # libyaml stops at 1000 levels itself; 300 passes it and is still far more than any manifest
    path = tmp_path / "deep.yaml"
    path.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n" + body + "\n")
    line = one_error_line(netsso("paths", "-A", "--manifests", str(path)))
    assert line == f"error: {path} document 2: nested deeper than 200 levels"


def test_depth_through_aliases_is_measured_after_expansion() -> None:
    # each anchor nests the previous one 30 levels down: 10 anchors make 300 levels from a few hundred bytes
    lines = ["a0: &a0 x"]
    for i in range(1, 11):
        lines.append(f"a{i}: &a{i} " + "[" * 30 + f"*a{i - 1}" + "]" * 30)
    with pytest.raises(NetssoError) as err:
        ours("\n".join(lines) + "\n")
    assert err.value.message == "<stdin> document 1: nested deeper than 200 levels"


def test_nesting_at_the_limit_loads() -> None:
    depth = manifests.MAX_DEPTH
    doc = json.loads("[" * (depth - 1) + "{}" + "]" * (depth - 1))
    assert ours(json.dumps(doc)) == [doc]
    assert ours(yaml.safe_dump(doc)) == [doc]
    with pytest.raises(NetssoError, match="nested deeper than 200 levels"):
        ours(json.dumps([doc]))


# --- encodings ---------------------------------------------------------------------------------------------------


def test_non_utf8_on_stdin_is_one_error_line() -> None:
    latin1 = "apiVersion: v1\nkind: Namespace\nmetadata: {name: caf\u00e9}\n".encode("latin-1")
    line = one_error_line(netsso("paths", "-A", "--manifests", "-", stdin=latin1))
    assert line == f"error: <stdin>: not UTF-8 text (byte 0xe9 at offset {latin1.index(0xE9)})"


def test_non_utf8_file_is_one_error_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    latin1 = "apiVersion: v1\nkind: Namespace\nmetadata: {name: caf\u00e9}\n".encode("latin-1")
    path.write_bytes(latin1)
    line = one_error_line(netsso("paths", "-A", "--manifests", str(tmp_path)))
    assert line == f"error: {path}: not UTF-8 text (byte 0xe9 at offset {latin1.index(0xE9)})"
    utf16 = tmp_path / "utf16.yaml"
    path.unlink()
    utf16.write_text("apiVersion: v1\n", encoding="utf-16")
    assert one_error_line(netsso("paths", "-A", "--manifests", str(utf16))).startswith(f"error: {utf16}: not UTF-8 text")


def test_utf8_with_bom_on_stdin_loads() -> None:
    p = netsso("paths", "-A", "--manifests", "-", stdin="\ufeffapiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n".encode())
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == "no flows in scope\n"


def test_text_stdin_with_undecodable_bytes_is_refused() -> None:
    # a text stream decoded with surrogateescape (Python's stdin under the C locale) carries the bad byte this way
    with pytest.raises(NetssoError) as err:
        load_snapshot(["-"], stdin=io.StringIO("metadata: {name: caf\udce9}\n"))
    assert err.value.message == "<stdin>: not UTF-8 text (byte 0xe9 at offset 20)"
