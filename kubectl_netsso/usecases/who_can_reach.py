"""who-can-reach: every subject with a foothold (exec, attach, port-forward, create pods or workloads, Service proxy,
rewrite NetworkPolicies) from which TO is reachable on the port, with the foothold, the source and the policy rules
that allow the flow; plus "anyone in the cluster" and "outside" (access/whocanreach.py). TO in every form can-reach
accepts; a Service stands for its backing pods on the Service port's targetPort."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import log
from ..errors import EXIT_ERROR, EXIT_NO, EXIT_OK, EXIT_USAGE, NetssoError

if TYPE_CHECKING:
    from ..access.whocanreach import WhoCanReach
    from ..netpol.endpoints import Endpoint
    from .source import Source


@dataclass(frozen=True, slots=True)
class WhoCanReachInput:
    destination: str
    port_text: str | None = None
    protocol: str = "TCP"


@dataclass(frozen=True, slots=True)
class WhoCanReachResult:
    destination: Endpoint
    port: int | str | None
    protocol: str
    found: WhoCanReach
    gaps: tuple[str, ...]
    source: str
    targets: tuple[str, ...]  # the workloads TO stands for, with the port checked on each

    @property
    def reachable(self) -> bool:
        """Anyone in the cluster, outside, or a subject other than system:masters (which always can) gets to TO."""
        from ..access.whocanreach import MASTERS

        others = any(s.subject != MASTERS for s in self.found.subjects)
        return bool(others or self.found.anyone or self.found.outside)

    @property
    def exit_code(self) -> int:
        """0 someone can reach it, 1 nobody, 3 nobody seen but verdicts are unknown or RBAC lists unreadable."""
        if self.reachable:
            return EXIT_OK
        return EXIT_ERROR if self.gaps or self.found.unknown else EXIT_NO

    def to_dict(self) -> dict[str, Any]:
        return {
            "to": self.destination.ref,
            "port": self.port,
            "protocol": self.protocol,
            "targets": list(self.targets),
            "reachable": self.reachable,
            "anyone": [p.to_dict() for p in self.found.anyone],
            "outside": [p.to_dict() for p in self.found.outside],
            "subjects": [s.to_dict() for s in self.found.subjects],
            "unknown": self.found.unknown,
            "gaps": list(self.gaps),
            "complete": not self.gaps and not self.found.unknown,
            "source": self.source,
        }


def run(inp: WhoCanReachInput, source: Source) -> WhoCanReachResult:
    from ..access.reach import ReachEngine
    from ..access.whocanreach import Goal, who_can_reach
    from ..netpol import endpoints
    from ..rbac.authorize import compile_rbac
    from ..rbac.whocan import ReverseIndex
    from .source import print_warnings, resolve_cni
    from .who_can import rbac_gaps

    started = time.perf_counter()
    port = endpoints.parse_port(inp.port_text)
    protocol = inp.protocol.upper()
    # every namespace: a foothold anywhere may lead to TO
    loaded = source.load({"network", "rbac"}, lambda _default: None, cni=source.live)
    snap = loaded.snapshot
    dst = endpoints.resolve_endpoint(snap, inp.destination, loaded.namespace, role="destination")
    if dst.is_external:
        raise NetssoError("TO must be in the cluster (a pod, workload or Service): addresses outside are not reached "
                          "from footholds", hint="e.g. who-can-reach db/deploy/postgres --port 5432",
                          exit_code=EXIT_USAGE)  # fmt: skip
    engine = ReachEngine(snap, cni=resolve_cni(source.cni, snap, loaded.detected_cni))
    print_warnings(loaded.warnings(engine.compiled.warnings))
    found_targets, _sp = endpoints.targets(dst, port, protocol)
    goals = [Goal(t.workload, t.port) for t in found_targets if t.problem is None]
    for t in found_targets:
        if t.problem is not None:
            log.warn(f"{t.workload.ref}: {t.problem}")
    index = ReverseIndex(compile_rbac(snap))
    found = who_can_reach(snap, engine, index, goals, protocol)
    log.debug(f"who-can-reach: {len(found.subjects)} subjects in {time.perf_counter() - started:.2f}s")
    shown = tuple(f"{g.workload.ref}" + (f" port {g.port}" if g.port is not None else "") for g in goals)
    return WhoCanReachResult(dst, port, protocol, found, tuple(rbac_gaps(loaded)), loaded.source_text, shown)


__all__ = ["WhoCanReachInput", "WhoCanReachResult", "run"]
