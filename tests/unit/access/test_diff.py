"""The reach join of diff: for every identity, the changes the use case reports (footholds that may differ only, each
foothold's reach computed once) equal the difference of `reach` computed in full on OLD and on NEW; findings are
matched by check, object and namespace."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import REPO

from kubectl_netsso.access.diff import diff_findings, diff_reach
from kubectl_netsso.access.footholds import RbacPermissions, derive_footholds, namespaces_in
from kubectl_netsso.access.model import Finding
from kubectl_netsso.access.reach import ReachEngine, reach_all
from kubectl_netsso.cluster.manifests import load_snapshot
from kubectl_netsso.cluster.target import KubeOptions
from kubectl_netsso.rbac.authorize import Authorizer
from kubectl_netsso.usecases import diff as usecase
from kubectl_netsso.usecases.identity import GROUP_MEMBER

SHOP = REPO / "examples" / "shop"
KUBE = KubeOptions(kubeconfig=None, context=None, namespace=None, all_namespaces=False, as_user=None, as_groups=())

EXEC_SHOP = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: contractors-exec, namespace: shop}
subjects: [{kind: Group, name: oidc:contractors, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: pod-exec, apiGroup: rbac.authorization.k8s.io}
"""
OPEN_DB = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: open-postgres, namespace: db}
spec:
  podSelector: {matchLabels: {app: postgres}}
  policyTypes: [Ingress]
  ingress: [{from: [{namespaceSelector: {}}], ports: [{port: 5432}]}]
"""


def _fix_label(folder: Path) -> None:
    path = folder / "shop" / "networkpolicies.yaml"
    path.write_text(path.read_text().replace("team: frontend", "team: web"))


def _exec(folder: Path) -> None:
    (folder / "rbac" / "exec-shop.yaml").write_text(EXEC_SHOP)


def _open_db(folder: Path) -> None:
    (folder / "db" / "open.yaml").write_text(OPEN_DB)


def _drop_frontend_policies(folder: Path) -> None:
    (folder / "frontend" / "networkpolicies.yaml").unlink()


EDITS = {"fix-label": [_fix_label], "exec": [_exec], "open-db": [_open_db], "drop-frontend": [_drop_frontend_policies],
         "all": [_fix_label, _exec, _open_db, _drop_frontend_policies]}  # fmt: skip


def full_reach_delta(old: Path, new: Path) -> set[tuple[str, str, str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]]:
    """`reach` in full for every group on each side (no filter, no cache), compared foothold by foothold."""
    snaps = [load_snapshot([str(old)]), load_snapshot([str(new)])]
    engines = [ReachEngine(s) for s in snaps]
    azs = [Authorizer(s) for s in snaps]
    groups = sorted({s.name for az in azs for s in az.subjects() if s.kind == "Group"})
    scope = sorted(set(namespaces_in(snaps[0])) | set(namespaces_in(snaps[1])))
    out = set()
    for g in groups:
        reaches = [
            reach_all(e, derive_footholds(s, RbacPermissions(az, GROUP_MEMBER, (g,)), scope))
            for e, s, az in zip(engines, snaps, azs, strict=True)
        ]
        for c in diff_reach(f"group {g}", reaches[0], reaches[1]):
            out.add((c.identity, c.change, c.foothold, c.gained, c.lost))
    return out


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_reach_changes_equal_the_difference_of_full_reach(tmp_path: Path, edit: str) -> None:
    new = tmp_path / "new"
    shutil.copytree(SHOP, new)
    for apply in EDITS[edit]:
        apply(new)
    expected = full_reach_delta(SHOP, new)
    inp = usecase.DiffInput(str(SHOP), str(new), sections=("reach",))
    result = usecase.run(inp, (usecase.side_source(inp.old, KUBE), usecase.side_source(inp.new, KUBE)))
    assert result.reach is not None
    got = {(c.identity, c.change, c.foothold, c.gained, c.lost) for c in result.reach if c.identity.startswith("group ")}
    assert got == expected
    # opening postgres's ingress alone changes nobody's reach: every namespace denies egress by default
    assert bool(expected) is (edit != "open-db")
    # and swapped
    back = usecase.run(usecase.DiffInput(str(new), str(SHOP), sections=("reach",)),
                       (usecase.side_source(str(new), KUBE), usecase.side_source(str(SHOP), KUBE)))  # fmt: skip
    assert back.reach is not None
    assert {(c.identity, c.change, c.foothold, c.gained, c.lost) for c in back.reach if c.identity.startswith("group ")} == (
        full_reach_delta(new, SHOP)
    )


def test_the_pull_request_lets_contractors_exec_into_the_api_and_reach_payments(tmp_path: Path) -> None:
    new = tmp_path / "new"
    shutil.copytree(SHOP, new)
    _exec(new)
    inp = usecase.DiffInput(str(SHOP), str(new), sections=("reach",))
    result = usecase.run(inp, (usecase.side_source(inp.old, KUBE), usecase.side_source(inp.new, KUBE)))
    assert result.reach is not None
    (api,) = [c for c in result.reach if c.foothold == "pod shop/deployment/api"]
    assert api.identity == "group oidc:contractors" and api.change == "new-foothold"
    assert ("payments/deployment/payments", "https=8443/TCP") in api.gained
    assert api.via == ("RoleBinding shop/contractors-exec -> ClusterRole pod-exec",)
    assert api.sentence.startswith("group oidc:contractors can now exec on pod shop/deployment/api, from which ")


def _finding(obj: str, reason: str, severity: str = "high", ns: str = "a") -> Finding:
    return Finding(severity, "create-pods-cross-namespace", obj, reason, "hint", {"namespace": ns})


def test_findings_matched_by_check_object_and_namespace() -> None:
    old = [_finding("group g", "reaches 3"), _finding("group g", "x", ns="b"), _finding("group h", "y", "medium")]
    new = [_finding("group g", "reaches 4"), _finding("group g", "x", ns="b"), _finding("group k", "z")]
    d = diff_findings(old, new)
    assert [f.object for f in d.new] == ["group k"] and [f.object for f in d.fixed] == ["group h"]
    assert [(a.reason, b.reason) for a, b in d.changed] == [("reaches 3", "reaches 4")]
    assert [f.object for f in d.at_least("high")] == ["group k"]
    rose = diff_findings([_finding("group g", "r", "medium")], [_finding("group g", "r", "high")])
    assert [f.severity for f in rose.at_least("high")] == ["high"] and not rose.new
