"""The layers of kubectl_netsso (ARCHITECTURE.md) as a test: imports point down only, and no module grows past
LINE_LIMIT lines without saying why.

Every import is read with ``ast`` from the source, never by importing: imports inside functions (the lazy ones that
keep start-up fast) and under ``if TYPE_CHECKING:`` count the same as top-level ones, because a layer that needs
another one's types still depends on it. The rule for the cached get-token path (stdlib only) is checked at run time
by tests/unit/auth/test_execcred.py::test_warm_get_token_subprocess_imports_nothing_heavy, which sees what a real
process loads.

Rules broken today are listed in EXCEPTIONS with the lane of issue 11 that removes them; a listed exception that no
longer happens fails the test too, so the list can only shrink.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import REPO

PACKAGE = REPO / "kubectl_netsso"
TOP = "kubectl_netsso"

LINE_LIMIT = 500
LONG_MARKER = "Long because:"  # a line of the module docstring starting with this says why the module is long

CLI, USECASES = f"{TOP}.cli", f"{TOP}.usecases"
# what the pure engines must not reach: the layers above them, the I/O of cluster/ and auth/, and the libraries that
# would tie a verdict to a terminal, a network or a file format
ENGINE_FORBIDDEN = (CLI, USECASES, f"{TOP}.auth", f"{TOP}.cluster.live", f"{TOP}.cluster.reviews",
                    f"{TOP}.cluster.manifests", f"{TOP}.cluster.kubeconfig", f"{TOP}.cluster.gitrev",
                    "click", "kubernetes", "tabulate", "requests", "yaml")

# layer (first package under kubectl_netsso, or the module name for top-level modules) -> imports it must not have;
# a prefix also forbids everything under it. cli/ and __main__ may import anything below them.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "usecases": (CLI,),
    "netpol": ENGINE_FORBIDDEN,
    "rbac": ENGINE_FORBIDDEN,
    "access": ENGINE_FORBIDDEN,
    "output": (CLI, USECASES),
    "cluster": (CLI, USECASES),
    "auth": (CLI, USECASES),
    # the base every layer may use depends on no layer but output's text escaping
    "errors": (CLI, USECASES, f"{TOP}.netpol", f"{TOP}.rbac", f"{TOP}.access", f"{TOP}.cluster", f"{TOP}.auth"),
    "log": (CLI, USECASES, f"{TOP}.netpol", f"{TOP}.rbac", f"{TOP}.access", f"{TOP}.cluster", f"{TOP}.auth"),
    "__init__": (TOP,),  # __version__ only; `import kubectl_netsso` must cost nothing
}

# (importing module, forbidden import as the source names it) -> who removes it. Issue 11 splits the work into lanes
# that land separately; when a lane's change is merged its entries must go (test_every_exception_still_happens).
EXCEPTIONS: dict[tuple[str, str], str] = {}  # none left: every module imports downward only

# module path (relative to kubectl_netsso/) -> who splits it; these have no "Long because:" line on purpose
LONG_EXCEPTIONS: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # what it imports, dotted and absolute (``from a import b`` gives ``a`` and ``a.b``)
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_in(source: str, module: str, is_package: bool = False) -> list[Import]:
    """Every import statement anywhere in ``source`` (functions, classes, TYPE_CHECKING and try blocks included)."""
    found: list[Import] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the importing module's package
                package = module.split(".") if is_package else module.split(".")[:-1]
                base = ".".join(package[:len(package) - (node.level - 1)] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.append(Import(module, base, node.lineno))
            # the name may be a submodule (`from kubectl_netsso.cluster import live`): check it as one
            found += [Import(module, f"{base}.{alias.name}", node.lineno) for alias in node.names if alias.name != "*"]
    return found


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def matches(target: str, prefix: str) -> bool:
    return target == prefix or target.startswith(prefix + ".")


def violations() -> list[Import]:
    out = []
    for module, path in project_modules().items():
        forbidden = FORBIDDEN.get(layer_of(module), ())
        for imp in imports_in(path.read_text(encoding="utf-8"), module, path.name == "__init__.py"):
            if any(matches(imp.target, prefix) for prefix in forbidden):
                out.append(imp)
    return out


def docstring_reason(path: Path) -> str | None:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    for line in doc.splitlines():
        if line.strip().startswith(LONG_MARKER) and line.strip()[len(LONG_MARKER):].strip():
            return line.strip()
    return None


# --- the checker itself, on made-up sources: it must see what it claims to see ----------------------------------

def test_imports_in_sees_lazy_type_checking_and_relative_imports() -> None:
    source = '''
from __future__ import annotations
import json, os.path
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from kubectl_netsso.cli.options import KubeOptions
try:
    import yaml
except ImportError:
    yaml = None
def f():
    import click
    from ..cluster import live
    from . import model
    class C:
        def g(self):
            from ..errors import NetssoError
'''
    got = {(i.target, i.line) for i in imports_in(source, "kubectl_netsso.netpol.paths")}
    for target, line in [("json", 3), ("os.path", 3), ("kubectl_netsso.cli.options", 6),
                         ("kubectl_netsso.cli.options.KubeOptions", 6), ("yaml", 8), ("click", 12),
                         ("kubectl_netsso.cluster.live", 13), ("kubectl_netsso.netpol.model", 14)]:
        assert (target, line) in got, (target, line, sorted(got))
    # inside a method of a class inside a function, two levels up from netpol/paths.py
    assert ("kubectl_netsso.errors.NetssoError", 17) in got, sorted(got)


def test_relative_imports_in_a_package_init_resolve_against_the_package_itself() -> None:
    got = {i.target for i in imports_in("from .selectors import parse_selector\n", "kubectl_netsso.netpol", True)}
    assert "kubectl_netsso.netpol.selectors" in got


@pytest.mark.parametrize(("module", "source", "bad"), [
    ("kubectl_netsso.netpol.paths", "def f():\n    import click\n", "click"),
    ("kubectl_netsso.rbac.rules", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import kubernetes\n",
     "kubernetes"),
    ("kubectl_netsso.access.reach", "from ..cluster import live\n", "kubectl_netsso.cluster.live"),
    ("kubectl_netsso.output.table", "from kubectl_netsso.usecases.paths import PathsResult\n", "kubectl_netsso.usecases"),
    ("kubectl_netsso.usecases.whoami", "from kubectl_netsso.cli import options\n", "kubectl_netsso.cli"),
    ("kubectl_netsso.auth.flows", "from kubectl_netsso.cli.main import run\n", "kubectl_netsso.cli"),
])
def test_a_forbidden_import_is_found(module: str, source: str, bad: str) -> None:
    forbidden = FORBIDDEN[layer_of(module)]
    hits = [i for i in imports_in(source, module) if any(matches(i.target, p) for p in forbidden)]
    assert hits and all(matches(h.target, bad) for h in hits), hits


def test_prefixes_do_not_match_a_longer_name() -> None:
    assert matches("yaml", "yaml") and matches("yaml.constructor", "yaml")
    assert not matches("yamlish", "yaml") and not matches("kubectl_netsso.clique", CLI)


# --- the rules on the real tree -----------------------------------------------------------------------------------

def test_the_tree_has_the_layers_the_rules_name() -> None:
    layers = {layer_of(m) for m in project_modules()}
    # usecases/ is being built by another lane; every other layer the rules name must exist
    assert set(FORBIDDEN) - {"usecases"} <= layers, set(FORBIDDEN) - layers


def test_imports_point_down_only() -> None:
    unexpected = [f"{PACKAGE.name}/{project_modules()[i.module].relative_to(PACKAGE)}:{i.line}: {i.module} imports {i.target}"
                  for i in violations() if (i.module, i.target) not in EXCEPTIONS]
    assert unexpected == [], "imports against the layering (ARCHITECTURE.md):\n" + "\n".join(unexpected)


def test_every_exception_still_happens() -> None:
    happening = {(i.module, i.target) for i in violations()}
    gone = [f"{module} -> {target} ({lane})" for (module, target), lane in EXCEPTIONS.items()
            if (module, target) not in happening]
    assert gone == [], "fixed: remove these from EXCEPTIONS in tests/unit/test_architecture.py:\n" + "\n".join(gone)


def test_engines_use_only_the_standard_library_and_the_project() -> None:
    # the named libraries are forbidden above; this catches the next one (an engine stays pure Python on plain data)
    third_party = []
    for module, path in project_modules().items():
        if layer_of(module) not in ("netpol", "rbac", "access"):
            continue
        for imp in imports_in(path.read_text(encoding="utf-8"), module, path.name == "__init__.py"):
            root = imp.target.split(".")[0]
            if root and root != TOP and root not in sys.stdlib_module_names and (module, imp.target) not in EXCEPTIONS:
                third_party.append(f"{module}:{imp.line}: {imp.target}")
    assert third_party == [], third_party


def test_no_long_module_without_a_reason() -> None:
    unexplained = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > LINE_LIMIT and rel not in LONG_EXCEPTIONS and docstring_reason(path) is None:
            unexplained.append(f"{rel}: {lines} lines")
    assert unexplained == [], (f"over {LINE_LIMIT} lines with no '{LONG_MARKER} ...' line in the module docstring "
                               "(split it, or say why not):\n" + "\n".join(unexplained))


def test_every_long_exception_is_still_long_and_unexplained() -> None:
    stale = []
    for rel, lane in LONG_EXCEPTIONS.items():
        path = PACKAGE / rel
        if not path.exists() or len(path.read_text(encoding="utf-8").splitlines()) <= LINE_LIMIT:
            stale.append(f"{rel} ({lane}): now short or gone")
        elif docstring_reason(path) is not None:
            stale.append(f"{rel} ({lane}): has a '{LONG_MARKER}' line")
    assert stale == [], "remove these from LONG_EXCEPTIONS in tests/unit/test_architecture.py:\n" + "\n".join(stale)


# --- the tests' own layout (ARCHITECTURE.md, "Where tests go") -----------------------------------------------------

TESTS = REPO / "tests"
TIERS = ("unit", "cli", "e2e")
HELPER_HOMES = (TESTS / "helpers", TESTS / "e2e" / "harness")


def test_test_modules_hold_tests_and_helpers_are_named_as_helpers() -> None:
    problems = []
    for path in sorted(TESTS.rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        rel = path.relative_to(TESTS).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        has_tests = any((isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test_"))
                        or (isinstance(n, ast.ClassDef) and n.name.startswith("Test")) for n in tree.body)
        in_helpers = any(home in path.parents for home in HELPER_HOMES)
        if path.name.startswith("test_"):
            if not has_tests:
                problems.append(f"{rel}: named test_* but holds no test (a helper belongs in tests/helpers/)")
            if in_helpers or path.relative_to(TESTS).parts[0] not in TIERS:
                problems.append(f"{rel}: a test module outside tests/unit, tests/cli, tests/e2e")
        elif path.name != "conftest.py" and not in_helpers:
            problems.append(f"{rel}: neither a test module, a conftest nor in tests/helpers or tests/e2e/harness")
    assert problems == [], "\n".join(problems)
