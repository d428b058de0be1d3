"""A plain `pip install .` of this tree outside the checkout: what a user's pip or pipx gets (tests/conftest.py).

An editable install reads every file from the checkout, so a file missing from the package data would go unnoticed
there; this one holds only what setuptools put into the package.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# what a fresh clone does not have (the test environment, caches, build output)
NOT_IN_A_CLONE = shutil.ignore_patterns(".git", ".venv", "node_modules", "build", "dist", "*.egg-info", "__pycache__",
                                        ".*_cache", ".hypothesis", "artifacts")


def plain_install(dest: Path) -> Path:
    """Copy the tree (as a clone has it) into ``dest/src`` and pip-install it into ``dest/site``; returns the latter.

    Offline and without the dependencies (the test environment has them): pip builds with the setuptools of this
    environment (tests/requirements.txt pins it) instead of fetching one, and the build writes nothing into the checkout.
    """
    src, site = dest / "src", dest / "site"
    shutil.copytree(ROOT, src, symlinks=True, ignore=NOT_IN_A_CLONE)
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                        "--no-build-isolation", "--no-index", "--target", str(site), str(src)],
                       capture_output=True, text=True, timeout=300)
    if r.returncode:
        raise RuntimeError(f"pip install . failed:\n{r.stdout}{r.stderr}")
    return site
