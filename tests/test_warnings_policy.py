"""Deprecations triggered by the project's own code fail the suite, in-process and in the executables it runs."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from netsso_warnings import project_modules

PACKAGE = Path(__file__).resolve().parents[1] / "kubectl_netsso"


def test_a_deprecation_attributed_to_project_code_is_an_error_in_process() -> None:
    with pytest.raises(DeprecationWarning):
        warnings.warn_explicit("old API", DeprecationWarning, "x.py", 1, module="kubectl_netsso.cli.main")
    with pytest.raises(PendingDeprecationWarning):
        warnings.warn_explicit("old API", PendingDeprecationWarning, "x.py", 1, module="kubectl_netsso")


def test_a_deprecation_inside_a_dependency_is_left_to_the_dependency() -> None:
    # only what our code calls is ours to fix; a library warning about its own internals stays a warning
    with warnings.catch_warnings(record=True) as seen:
        warnings.warn_explicit("old API", DeprecationWarning, "x.py", 1, module="click.core")
    assert [str(w.message) for w in seen] == ["old API"]


def _child(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ), timeout=60)


@pytest.mark.parametrize("category", ["DeprecationWarning", "PendingDeprecationWarning"])
def test_child_processes_get_the_same_filters(category: str) -> None:
    code = f"import warnings; warnings.warn_explicit('old API', {category}, 'x.py', 1, module='kubectl_netsso.cli.network')"
    r = _child(code)
    assert r.returncode != 0 and f"{category}: old API" in r.stderr
    assert _child(code.replace("kubectl_netsso.cli.network", "click.core")).returncode == 0


def test_the_filters_name_every_module_on_disk() -> None:
    on_disk = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
               for p in PACKAGE.rglob("*.py")}
    assert on_disk <= set(project_modules())
    for module in on_disk:
        assert f"error::DeprecationWarning:{module}" in os.environ["PYTHONWARNINGS"].split(",")


def test_every_module_imports_without_a_deprecation() -> None:
    # import-time uses of deprecated APIs (module-level aliases, old decorators) in modules no other test imports
    code = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)"
    r = subprocess.run([sys.executable, "-c", code, *project_modules()], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
