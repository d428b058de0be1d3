"""Colour and symbols: colour only on a TTY and without NO_COLOR; a fancy symbol only where the console can print it."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from .text import mark

__all__ = ["VERDICT_COLOUR", "VERDICT_TEXT", "can_encode", "style", "symbol", "use_color"]

# a three-valued verdict (allowed / denied / unknown) as every command spells and colours it
VERDICT_TEXT = {True: "ALLOWED", False: "DENIED", None: "UNKNOWN"}
VERDICT_COLOUR = {True: "green", False: "red", None: "yellow"}

_STYLES = {"green": "32", "red": "31", "yellow": "33", "bold": "1", "dim": "2", "cyan": "36"}


def use_color(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR", "") != "":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def can_encode(text: str, stream: TextIO | None = None) -> bool:
    """Whether the stream's encoding can print text (a console with LANG=C or PYTHONIOENCODING=ascii cannot print ✔)."""
    encoding = getattr(stream or sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeError, LookupError):
        return False
    return True


def symbol(fancy: str, plain: str, stream: TextIO | None = None) -> str:
    """fancy (e.g. ✔) where the console can print it, else the plain ASCII spelling."""
    return fancy if can_encode(fancy, stream) else plain


def style(text: str, *names: str, stream: TextIO | None = None) -> str:
    if not names or not use_color(stream):
        return text
    codes = ";".join(_STYLES[n] for n in names if n in _STYLES)
    # marked, not raw: the writers escape every ESC that is not one of these (text.py)
    return f"{mark(codes)}{text}{mark('0')}"
