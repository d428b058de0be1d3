"""reach: what an identity can reach inside the cluster network, and from where (its footholds)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import log
from .context import AccessContext, build_context, reaches
from .identity import IdentityInput

if TYPE_CHECKING:
    from ..access.model import Reach
    from .source import Source


@dataclass(frozen=True, slots=True)
class ReachResult:
    context: AccessContext
    reaches: tuple[Reach, ...]

    def to_dict(self) -> dict[str, Any]:
        return reach_data(self.context, self.reaches)


def run(identity: IdentityInput, source: Source) -> ReachResult:
    started = time.perf_counter()
    ctx = build_context(source, identity, identity="required")
    found = reaches(ctx)
    log.debug(f"reach: {len(found)} footholds in {time.perf_counter() - started:.2f}s")
    return ReachResult(ctx, tuple(found))


def reach_data(ctx: AccessContext, reaches: Sequence[Reach]) -> dict[str, Any]:
    """The documented JSON of reach."""
    from ..access.model import SEVERITIES

    counts = {s: sum(1 for r in reaches if r.risk == s) for s in reversed(SEVERITIES) if any(r.risk == s for r in reaches)}
    return {
        "identity": ctx.identity_dict(),
        "source": ctx.source,
        "namespaces": ctx.scope,
        "summary": {"footholds": len(reaches), "byRisk": counts},
        "footholds": [r.to_dict() for r in reaches],
    }


__all__ = ["ReachResult", "reach_data", "run"]
