"""report: one self-contained HTML page for compliance reviews -- the identity's footholds, the permissions matrix,
the allowed flows and the audit findings. The page itself is access/report.py's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .audit import run_audit
from .context import AccessContext, build_context, reaches
from .identity import IdentityInput

if TYPE_CHECKING:
    from ..access.report import ReportData
    from .source import Source


@dataclass(frozen=True, slots=True)
class ReportInput:
    identity: IdentityInput
    expect_paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReportResult:
    context: AccessContext
    data: ReportData
    footholds: int
    findings: int  # the page itself is output/report's render_html(data)


def run(inp: ReportInput, source: Source) -> ReportResult:
    from ..access.report import build_report

    ctx = build_context(source, inp.identity, identity="optional")
    found = reaches(ctx) if ctx.perms is not None else []
    findings, results = run_audit(ctx, inp.expect_paths)
    data = build_report(
        ctx.engine,
        scope=ctx.scope,
        source=ctx.source,
        identity=ctx.identity_dict(),
        identity_text=ctx.identity_text if ctx.user is not None else None,
        reaches=found,
        findings=findings,
        expectations=results,
        authorizer=ctx.authorizer,
        cni_warning=ctx.cni_warning,
    )
    return ReportResult(ctx, data, len(found), len(findings))


__all__ = ["ReportInput", "ReportResult", "run"]
