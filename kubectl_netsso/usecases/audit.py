"""audit: NetworkPolicy and RBAC findings together (and failed --expect assertions), for people and CI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import EXIT_NO, EXIT_OK, EXIT_USAGE, NetssoError
from .context import AccessContext, build_context, identity_reach_fn
from .identity import IdentityInput

if TYPE_CHECKING:
    from ..access.expect import Expectation, ExpectResult
    from ..access.model import Finding
    from .source import Source

@dataclass(frozen=True, slots=True)
class AuditInput:
    expect_paths: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    fail_on: str = "high"  # info | low | medium | high | critical | never


@dataclass(frozen=True, slots=True)
class AuditResult:
    context: AccessContext
    inp: AuditInput
    findings: tuple[Finding, ...]
    expectations: tuple[ExpectResult, ...]
    failing: tuple[Finding, ...]  # findings at or above --fail-on

    @property
    def exit_code(self) -> int:
        return EXIT_NO if self.failing else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.context.source,
            "namespaces": self.context.scope,
            "failOn": self.inp.fail_on,
            "only": list(self.inp.only),
            "skip": list(self.inp.skip),
            "passed": not self.failing,
            "summary": severity_counts(self.findings),
            "findings": [f.to_dict() for f in self.findings],
            "expectations": [r.to_dict() for r in self.expectations],
        }


def severity_counts(findings: Sequence[Finding]) -> dict[str, int]:
    from ..access.model import SEVERITIES

    return {s: n for s in reversed(SEVERITIES) if (n := sum(1 for f in findings if f.severity == s))}


def run(inp: AuditInput, source: Source) -> AuditResult:
    from ..access.audit import CHECKS
    from ..access.model import severity_rank

    for name in (*inp.only, *inp.skip):
        if name not in CHECKS:
            raise NetssoError(f"unknown check {name!r}", hint="checks: " + ", ".join(CHECKS), exit_code=EXIT_USAGE)
    ctx = build_context(source, IdentityInput(), identity="none")
    if not source.live and (source.kube.as_user or source.kube.as_groups):
        ctx.notes.append("--as/--as-group have no effect on audit offline: it checks every subject "
                         "(for one identity: kubectl netsso reach --as ... or report --as ...)")
    findings, results = run_audit(ctx, inp.expect_paths)
    findings = [f for f in findings if (not inp.only or f.check in inp.only) and f.check not in inp.skip]
    failing = [f for f in findings if inp.fail_on != "never" and severity_rank(f.severity) >= severity_rank(inp.fail_on)]
    return AuditResult(ctx, inp, tuple(findings), tuple(results), tuple(failing))


def load_expect(paths: Sequence[str]) -> list[Expectation]:
    import yaml

    from ..access.expect import load_expectations
    from ..cluster.examples import resolve

    out: list[Expectation] = []
    for path in paths:
        try:
            with open(resolve(path), encoding="utf-8") as fh:
                data = yaml.safe_load(fh)
        except OSError as exc:
            raise NetssoError(f"cannot read --expect file {path}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise NetssoError(f"--expect file {path}: not UTF-8 text", hint="give a YAML file with an 'expect:' list") from exc
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark is not None else ""
            raise NetssoError(f"{path}{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from exc
        out.extend(load_expectations(data, path))
    return out


def run_audit(ctx: AccessContext, expect_paths: Sequence[str]) -> tuple[list[Finding], list[ExpectResult]]:
    from ..access.audit import audit as audit_engine
    from ..access.expect import ExpectationChecker
    from ..access.model import sort_findings

    expectations = load_expect(expect_paths)
    findings = audit_engine(ctx.engine, authorizer=ctx.authorizer, namespaces=ctx.scope, cni_warning=ctx.cni_warning)
    results: list[ExpectResult] = []
    if expectations:
        default_ns = ctx.scope[0] if len(ctx.scope) == 1 else "default"
        reverse = None
        if ctx.authorizer is not None:
            from ..rbac.whocan import ReverseIndex

            reverse = ReverseIndex(ctx.authorizer.model)
        checker = ExpectationChecker(ctx.engine, identity_reach_fn(ctx), default_ns, reverse)
        results = [checker.check(e) for e in expectations]
        findings = sort_findings(findings + [f for f in (r.finding() for r in results) if f is not None])
    return findings, results


__all__ = ["AuditInput", "AuditResult", "load_expect", "run", "run_audit", "severity_counts"]
