"""Text for a terminal: every character that could drive it, or hide or reorder what it shows, is printed escaped.

Names, labels, claims and messages come from manifests, the cluster, tokens and providers: any of them may carry
ESC (cursor moves, line erase, OSC 52 clipboard writes, OSC 8 links), a carriage return that overwrites its line,
or Unicode that reorders or hides text. What is escaped (by Unicode category, checked against unicodedata in the
tests):

- Cc: C0 (including ESC, CR, BEL, and LF in one-line text), DEL and C1 (the 8-bit CSI/OSC/ST/NEL): they control
  the terminal, and every escape sequence starts with one of them;
- Cf: the bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) that reorder a line ("Trojan
  Source"), and the invisible ones (zero-width space and joiners, word joiner, soft hyphen, BOM, tag characters)
  that make two different names look the same in an audit; a name that needs a joiner shows it escaped, which is
  the price of never being shown something else than what is there;
- Zl, Zp: U+2028/U+2029, line breaks to some terminals and every JavaScript engine;
- Cs: lone surrogates (a non-UTF-8 file name decoded with surrogateescape), which stdout cannot even encode.

Each becomes a JSON-style escape (``\\t`` ``\\n`` ``\\r`` ``\\u001b``, astral characters as a surrogate pair), so
escaping a JSON document's text leaves it valid JSON with the exact same values. Backslashes are left alone: a
name spelling ``\\u001b`` reads the same as an escaped ESC, which is ambiguous but never dangerous.

The tool's own colours: ``mark`` wraps SGR codes in a marker holding a per-process random token (text from outside
cannot contain it), and ``for_terminal`` escapes everything else and turns the markers into the real SGR codes.
Standard library only: the CLI's writers and log.py use it.
"""

from __future__ import annotations

import re
import secrets
import sys
from collections.abc import Sequence
from typing import TextIO

__all__ = [
    "UNSAFE",
    "TerminalWriter",
    "emit",
    "escape",
    "for_terminal",
    "line",
    "mark",
    "marks_to_sgr",
    "needs_escape",
    "sgr_to_marks",
    "strip_marks",
]

# Cc, Cf, Cs, Zl, Zp as of Unicode 15.1 (tests/test_output_text.py checks this against unicodedata for every code
# point); the few Cf ranges that Unicode 15 extended are listed in full, so an older Python escapes them too.
_UNSAFE_ABOVE_C0 = (
    "\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
UNSAFE = re.compile(f"[\x00-\x1f{_UNSAFE_ABOVE_C0}]")
_UNSAFE_BUT_LF = re.compile(f"[\x00-\x09\x0b-\x1f{_UNSAFE_ABOVE_C0}]")
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escaped(match: re.Match[str]) -> str:
    ch = match.group()
    short = _SHORT.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


_ASCII_UNSAFE_BUT_LF = tuple(chr(c) for c in (*range(0x0A), *range(0x0B, 0x20), 0x7F))
_ASCII_UNSAFE = (*_ASCII_UNSAFE_BUT_LF, "\n")


def needs_escape(text: str, newlines: bool = False) -> bool:
    """Whether escape() would change text."""
    if len(text) > 4096 and text.isascii():
        # a large ASCII text (paths writes hundreds of MB): 32 substring searches run ~10x faster than the class
        return any(c in text for c in (_ASCII_UNSAFE_BUT_LF if newlines else _ASCII_UNSAFE))
    return (_UNSAFE_BUT_LF if newlines else UNSAFE).search(text) is not None


def escape(text: str, newlines: bool = False) -> str:
    """text with every unsafe character escaped visibly; with newlines=True a line feed stays a line feed."""
    if not needs_escape(text, newlines):  # the common case: nothing to do
        return text
    return (_UNSAFE_BUT_LF if newlines else UNSAFE).sub(_escaped, text)


# NUL and 16 random hex digits: a name cannot contain the token by chance, and an attacker cannot learn it.
_MARK = "\x00" + secrets.token_hex(8) + "["
_MARKED = re.compile(re.escape(_MARK) + r"([0-9;]*)m")


def mark(codes: str) -> str:
    """The SGR sequence ESC [ codes m, in the form for_terminal lets through."""
    return f"{_MARK}{codes}m"


def _escape_around_marks(text: str, newlines: bool, sgr: bool) -> str:
    parts = _MARKED.split(text)
    # split() alternates text and the codes captured from the marks
    return "".join(
        escape(part, newlines) if i % 2 == 0 else (f"\x1b[{part}m" if sgr else mark(part)) for i, part in enumerate(parts)
    )


def for_terminal(text: str, newlines: bool = True) -> str:
    """text ready for a terminal: escaped as escape() does, except the tool's own colour marks, which become SGR."""
    if _MARK not in text:
        return escape(text, newlines)
    return _escape_around_marks(text, newlines, sgr=True)


def line(text: str) -> str:
    """text escaped as one line, its colour marks kept as marks (for a piece that a writer will print later)."""
    if _MARK not in text:
        return escape(text)
    return _escape_around_marks(text, False, sgr=False)


def strip_marks(text: str) -> str:
    """text without the colour marks (what a width computation should measure)."""
    return _MARKED.sub("", text) if _MARK in text else text


_SGR = re.compile(r"\x1b\[([0-9;]*)m")


def marks_to_sgr(text: str) -> str:
    """Marks as real SGR codes, for a library that measures text (tabulate): only on text already escaped."""
    return _MARKED.sub(lambda m: f"\x1b[{m.group(1)}m", text) if _MARK in text else text


def sgr_to_marks(text: str) -> str:
    """Back from marks_to_sgr: every SGR code in text is taken for one of ours, so text must have been escaped."""
    return _SGR.sub(lambda m: mark(m.group(1)), text) if "\x1b" in text else text


# --- the writers: every result reaches stdout through one of them ---------------------------------------------


def emit(text: str | Sequence[str], out: TextIO | None = None) -> None:
    """Write a result to out, by default stdout (looked up at call time, so wrappers and CliRunner capture it).

    A string is written escaped for a terminal, its line feeds kept; a list is lines, each escaped as one line
    (a line feed in a name shows as \\n instead of starting a line of its own).
    """
    if isinstance(text, str):
        out_text = for_terminal(text, newlines=True)
    else:
        out_text = "\n".join(for_terminal(item, newlines=False) for item in text)
    out = out or sys.stdout
    out.write(out_text if out_text.endswith("\n") else out_text + "\n")
    out.flush()


class TerminalWriter:
    """A text stream for renderers that write as they go (paths on a million flows): escaped like emit()."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return int(self.stream.write(for_terminal(text, newlines=True)) or 0)

    def flush(self) -> None:
        self.stream.flush()
