"""The warning filters the suite gives child processes (see tests/conftest.py)."""

from __future__ import annotations

import pkgutil
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "kubectl_netsso"
CATEGORIES = ("DeprecationWarning", "PendingDeprecationWarning")


def project_modules() -> list[str]:
    """Every module of kubectl_netsso, found on disk (not imported: importing is what the filters guard)."""
    names = ["kubectl_netsso"]
    names += [info.name for info in pkgutil.walk_packages([str(PACKAGE)], prefix="kubectl_netsso.")]
    return sorted(names)


def warning_filters() -> str:
    """PYTHONWARNINGS entries: its module field is an exact name, not a regex, hence one entry per module."""
    return ",".join(f"error::{category}:{module}" for module in project_modules() for category in CATEGORIES)
