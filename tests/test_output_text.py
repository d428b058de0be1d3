"""output/text.py and the writers built on it: what is escaped, that escaping keeps JSON and YAML exact, and that
the tool's own colours are the only escape sequences that reach a terminal."""

from __future__ import annotations

import io
import json
import sys
import unicodedata
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_netsso import output
from kubectl_netsso.output import text

UNSAFE_CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")
HOSTILE = ["\x1b", "\r", "\n", "\t", "\x07", "\x00", "\x7f", "\x85", "\x9b", "\x9d", "\u202e", "\u2066", "\u200b",
           "\u200d", "\u2028", "\ufeff", "\udcff", "\U000e0041", "\\", "é", "中", "\U0001f600"]  # fmt: skip
hostile_text = st.text(alphabet=st.sampled_from(HOSTILE) | st.characters(codec=None), max_size=40)


def unsafe(c: str) -> bool:
    return unicodedata.category(c) in UNSAFE_CATEGORIES


def test_every_control_format_separator_and_surrogate_code_point_is_escaped() -> None:
    missed = [hex(c) for c in range(sys.maxunicode + 1) if unsafe(chr(c)) and not text.UNSAFE.match(chr(c))]
    assert not missed
    # and nothing else, except code points this Python's Unicode does not assign yet (Unicode 15 added Cf ones)
    extra = [
        hex(c)
        for c in range(sys.maxunicode + 1)
        if text.UNSAFE.match(chr(c)) and unicodedata.category(chr(c)) not in (*UNSAFE_CATEGORIES, "Cn")
    ]
    assert not extra


@settings(max_examples=500)
@given(hostile_text)
def test_escaped_text_has_nothing_unsafe_and_safe_text_is_untouched(s: str) -> None:
    out = text.escape(s)
    assert not any(unsafe(c) for c in out)
    kept = text.escape(s, newlines=True)
    assert not any(unsafe(c) for c in kept if c != "\n") and kept.count("\n") == s.count("\n")
    if not any(unsafe(c) for c in s):
        assert out == s


@settings(max_examples=500)
@given(hostile_text)
def test_escapes_are_json_escapes_so_json_stays_exact(s: str) -> None:
    assert json.loads('"' + text.escape(json.dumps(s, ensure_ascii=False)[1:-1]) + '"') == s
    doc = {s: [s, {"k": s}]}
    assert json.loads(output.to_json(doc)) == doc and not any(unsafe(c) for c in output.to_json(doc) if c != "\n")


@settings(max_examples=300)
@given(hostile_text)
def test_yaml_stays_exact_and_terminal_safe(s: str) -> None:
    doc = {"name": s, "labels": {s or "k": s}}
    out = output.to_yaml(doc)
    assert yaml.safe_load(out) == doc
    assert not any(unsafe(c) for c in out if c != "\n"), repr(out)


def test_known_forms() -> None:
    assert text.escape("payments-prod\r\x1b[2K") == "payments-prod\\r\\u001b[2K"
    assert text.escape("\x1b]52;c;eA==\x07") == "\\u001b]52;c;eA==\\u0007"
    assert text.escape("a\u202eb\U000e0041\udcff\x9b") == "a\\u202eb\\udb40\\udc41\\udcff\\u009b"
    assert text.escape("two\nlines") == "two\\nlines" and text.escape("two\nlines", newlines=True) == "two\nlines"


def test_colour_marks_become_sgr_and_nothing_else_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = io.StringIO()
    tty.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stdout", tty)
    red = output.style("DENIED", "red")
    assert "\x1b" not in red  # marked, not raw: a writer makes it SGR
    # a name that imitates the marks (NUL, a guessed token) is escaped like any other NUL
    forged = "\x00" + "0" * 16 + "[31mfake"
    output.emit(f"{red} {forged} \x1b[8mhidden")
    assert tty.getvalue() == "\x1b[31mDENIED\x1b[0m \\u0000" + "0" * 16 + "[31mfake \\u001b[8mhidden\n"


def test_emit_lines_escape_line_feeds_inside_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    output.emit(["first", "name\nHIGH fake", "last"])
    assert out.getvalue() == "first\nname\\nHIGH fake\nlast\n"


def test_table_cells_are_one_line_and_columns_align_with_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = io.StringIO()
    tty.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stdout", tty)
    rows: list[list[Any]] = [["a\nb", output.style("yes", "green"), "x"], ["c\x1b[2K", "no", "y"]]
    t = output.table(["name", "ok", "z"], rows)
    output.emit(t)
    lines = [output.text.strip_marks(ln) for ln in t.splitlines()]
    assert lines[1].startswith("a\\nb ") and lines[2].startswith("c\\u001b[2K ")
    at = lines[0].index("Z")
    assert all(ln[at] in "xyZ" for ln in lines), lines
    assert "\x1b[32myes\x1b[0m" in tty.getvalue()


def test_terminal_writer_escapes_streamed_text() -> None:
    out = io.StringIO()
    w = output.TerminalWriter(out)
    w.write("ns\x1b]52;c;x\x07/a  ALLOWED\n")
    assert out.getvalue() == "ns\\u001b]52;c;x\\u0007/a  ALLOWED\n"


def test_log_lines_are_one_line_and_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    from kubectl_netsso import log

    log.warn("file x\x1b[2K.yaml: object a\nb")
    assert capsys.readouterr().err == "warning: file x\\u001b[2K.yaml: object a\\nb\n"
