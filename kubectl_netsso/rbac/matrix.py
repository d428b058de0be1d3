"""The permissions view: resource x verb for one identity in one namespace, plus the risky permissions.

Pure: the caller passes a decide(Request) -> bool | None (None = could not tell), backed by the offline evaluator or
by the rules of a SelfSubjectRulesReview.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .resources import ResourceType
from .rules import Request

MATRIX_VERBS = ("get", "list", "watch", "create", "update", "patch", "delete")
WORKLOADS = (
    ("deployments", "apps"), ("statefulsets", "apps"), ("daemonsets", "apps"), ("replicasets", "apps"),
    ("jobs", "batch"), ("cronjobs", "batch"), ("replicationcontrollers", ""),
)  # fmt: skip
RBAC_GROUP = "rbac.authorization.k8s.io"


@dataclass(frozen=True, slots=True)
class RiskyCheck:
    """A permission that lets its holder escape its role (run code, read credentials, change policy or identity)."""

    label: str  # short, for the RISKY column
    resource: str
    group: str
    verb: str
    subresource: str = ""
    namespaced: bool = True
    why: str = ""


RISKY: tuple[RiskyCheck, ...] = (
    RiskyCheck("exec", "pods", "", "create", "exec", why="run commands in pods (their service account, their network)"),
    RiskyCheck("attach", "pods", "", "create", "attach", why="attach to running containers"),
    RiskyCheck("portforward", "pods", "", "create", "portforward", why="tunnel to pod ports past NetworkPolicies"),
    RiskyCheck("create", "pods", "", "create", why="run any pod (any service account and labels in the namespace)"),
    RiskyCheck("read", "secrets", "", "get", why="read credentials"),
    RiskyCheck("list", "secrets", "", "list", why="read all credentials of the namespace"),
    *(RiskyCheck("create", r, g, "create", why="run pods through a workload") for r, g in WORKLOADS),
    *(RiskyCheck(v, "networkpolicies", "networking.k8s.io", v, why="change who may talk to whom") for v in (
        "create", "update", "patch", "delete")),
    RiskyCheck("bind", "roles", RBAC_GROUP, "bind", why="grant a role without holding its permissions"),
    RiskyCheck("bind", "clusterroles", RBAC_GROUP, "bind", why="grant a cluster role without holding its permissions"),
    RiskyCheck("escalate", "roles", RBAC_GROUP, "escalate", why="edit a role beyond your own permissions"),
    RiskyCheck("escalate", "clusterroles", RBAC_GROUP, "escalate", why="edit a cluster role beyond your permissions"),
    RiskyCheck("create", "rolebindings", RBAC_GROUP, "create", why="bind roles (limited by escalation checks)"),
    RiskyCheck("impersonate", "serviceaccounts", "", "impersonate", why="act as any service account"),
    RiskyCheck("impersonate", "users", "", "impersonate", namespaced=False, why="act as any user"),
    RiskyCheck("impersonate", "groups", "", "impersonate", namespaced=False, why="act as any group"),
    RiskyCheck("token", "serviceaccounts", "", "create", "token", why="mint service account tokens"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class MatrixRow:
    resource: ResourceType
    cells: tuple[bool | None, ...]  # aligned with MATRIX_VERBS
    risky: tuple[str, ...]  # labels of risky checks on this resource that are allowed

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"resource": self.resource.resource, "group": self.resource.group}
        if self.resource.subresource:
            out["subresource"] = self.resource.subresource
        out.update({
            "name": self.resource.ref,
            "namespaced": self.resource.namespaced,
            "verbs": dict(zip(MATRIX_VERBS, self.cells, strict=True)),
            "risky": list(self.risky),
        })  # fmt: skip
        return out


@dataclass(frozen=True, slots=True)
class RiskyResult:
    check: RiskyCheck
    allowed: bool | None

    @property
    def name(self) -> str:
        c = self.check
        res = f"{c.resource}.{c.group}" if c.group else c.resource
        if c.subresource:
            res += f"/{c.subresource}"
        return f"{c.verb} {res}"

    def to_dict(self) -> dict[str, Any]:
        return {"permission": self.name, "allowed": self.allowed, "why": self.check.why}


def build_matrix(
    rows: Sequence[ResourceType], namespace: str, decide: Callable[[Request], bool | None]
) -> tuple[list[MatrixRow], list[RiskyResult]]:
    """Cells for every row x MATRIX_VERBS and every risky check.

    Cluster-scoped resources are asked cluster-wide (namespace ""), namespaced ones in the namespace
    (kubernetes#75970: asking for namespaces "in" a namespace answers another question).
    """
    risky_results: list[RiskyResult] = []
    for check in RISKY:
        ns = namespace if check.namespaced else ""
        req = Request(verb=check.verb, resource=check.resource, api_group=check.group, subresource=check.subresource,
                      namespace=ns)  # fmt: skip
        risky_results.append(RiskyResult(check=check, allowed=decide(req)))
    out: list[MatrixRow] = []
    for rt in rows:
        ns = namespace if rt.namespaced else ""
        cells = tuple(decide(Request(verb=v, resource=rt.resource, api_group=rt.group, subresource=rt.subresource,
                                     namespace=ns)) for v in MATRIX_VERBS)  # fmt: skip
        labels = []
        for rr in risky_results:
            c = rr.check
            # A resource's row shows the risks of its subresources too (pods: exec, portforward); a subresource's row
            # only its own (pods/exec: exec).
            same = c.resource == rt.resource and c.group == rt.group and (not rt.subresource or c.subresource == rt.subresource)
            if rr.allowed and same and c.label not in labels:
                labels.append(c.label)
        out.append(MatrixRow(resource=rt, cells=cells, risky=tuple(labels)))
    return out, risky_results
