"""Running the installed ``kubectl-netsso`` the way a user's shell does, in an environment that owes nothing to the
machine running the tests (the root conftest applies the same isolation to the whole session)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

# The editable install's console script: on PATH inside an activated venv, else next to the interpreter.
EXE = shutil.which("kubectl-netsso") or str(Path(sys.executable).parent / "kubectl-netsso")

# Variables through which the developer's machine would leak into a run: their kubeconfig and token cache, a
# provider configured by NETSSO_* defaults, an exec request meant for another process, a browser that could open.
DROPPED = ("KUBECONFIG", "KUBECACHEDIR", "KUBERNETES_EXEC_INFO", "DISPLAY", "WAYLAND_DISPLAY", "BROWSER")


def exe() -> str:
    """The executable, or skip the test when the package is not installed (a checkout without `pip install -e .`)."""
    if not os.path.exists(EXE):
        pytest.skip("kubectl-netsso is not installed (pip install -e .)")
    return EXE


def isolated_env(home: Path, base: Mapping[str, str] | None = None, **overrides: str) -> dict[str, str]:
    """``base`` (default: os.environ) without the machine's settings, with ``home`` as HOME and the XDG folders in it,
    no kubeconfig (the file does not exist: the offline namespace is `default`), no colour; ``overrides`` last."""
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if k not in DROPPED and not k.startswith("NETSSO_")}
    env.update(
        HOME=str(home),
        KUBECONFIG=str(home / "no-kubeconfig"),
        KUBECACHEDIR=str(home / ".kube" / "cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        NO_COLOR="1",
    )
    env.update(overrides)
    return env


def run(argv: Sequence[str], *, env: Mapping[str, str], input: str | None = None, timeout: float = 120,
        **kw: Any) -> subprocess.CompletedProcess[str]:
    """One process with exactly ``env``, output captured as text, stdin closed unless ``input`` is given."""
    if input is None:
        kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(list(argv), env=dict(env), input=input, capture_output=True, text=True, timeout=timeout, **kw)


def netsso(*args: str, home: Path | None = None, env: Mapping[str, str] | None = None, input: str | None = None,
           timeout: float = 120, **kw: Any) -> subprocess.CompletedProcess[str]:
    """``kubectl-netsso ARGS`` with its own HOME (``home``) or the session's isolated one; ``env`` adds or overrides."""
    full = isolated_env(home) if home is not None else dict(os.environ)
    full.update(env or {})
    return run([exe(), *args], env=full, input=input, timeout=timeout, **kw)
