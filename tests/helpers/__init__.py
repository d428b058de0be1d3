"""Shared test helpers (modules without tests); importable as ``helpers.*`` because pyproject puts tests/ on sys.path."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
