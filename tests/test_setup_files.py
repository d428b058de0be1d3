"""The committed set-up files: exact pins for the test tools only, the runtime dependencies left open."""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PINS = ROOT / "tests" / "requirements.txt"


def pins() -> dict[str, str]:
    found = {}
    for line in PINS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([A-Za-z0-9.+!-]+)", line)
        assert match, f"not an exact pin: {line!r}"
        found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def runtime_closure() -> set[str]:
    """Every installed distribution the package's runtime requirements pull in (extras of requirements included)."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in distribution("kubectl-netsso").requires or [] if "extra ==" not in r]
    while todo:
        req = todo.pop()
        if req.marker and not req.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        try:
            dist = distribution(req.name)
        except PackageNotFoundError:
            continue
        seen.add(name)
        for text in dist.requires or []:
            sub = Requirement(text)
            extras = req.extras or {""}
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in extras):
                todo.append(sub)
    return seen


def test_every_line_is_an_exact_pin() -> None:
    assert pins()


def test_no_runtime_dependency_or_package_it_shares_is_pinned() -> None:
    # pinning urllib3 or cryptography here would hold the runtime stack back from the releases users get
    assert set(pins()) & runtime_closure() == set()


def test_every_test_tool_of_the_extra_is_pinned() -> None:
    extra = [Requirement(r.split(";")[0]) for r in distribution("kubectl-netsso").requires or [] if 'extra == "test"' in r]
    tools = {canonicalize_name(r.name) for r in extra} - runtime_closure()
    assert tools and tools <= set(pins()), tools - set(pins())


def test_runtime_dependencies_are_ranges() -> None:
    for text in distribution("kubectl-netsso").requires or []:
        if "extra ==" not in text:
            assert "==" not in text and "<" not in text, f"runtime dependency capped or pinned: {text}"


def test_every_declared_runtime_dependency_is_imported() -> None:
    # a declared but unused dependency is one more thing to install, audit and keep working on a stranger's machine
    import ast
    import tomllib
    from importlib.metadata import packages_distributions

    imported: set[str] = set()
    for path in (ROOT / "kubectl_netsso").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    providers = packages_distributions()
    used = {canonicalize_name(dist) for module in imported for dist in providers.get(module, [])}
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert {canonicalize_name(Requirement(d).name) for d in declared} - used == set()
