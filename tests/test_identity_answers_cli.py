"""Identity answers you can trust (issue 10): unknown resource types, subresource rows, whoami wording, prefixed-group
near misses, and the identity commands' flags. Through the installed kubectl-netsso executable, offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHOP = str(REPO / "examples" / "shop")
EXE = shutil.which("kubectl-netsso") or str(Path(sys.executable).parent / "kubectl-netsso")


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("NETSSO_")}
    e.update(HOME=str(tmp_path), KUBECONFIG=str(tmp_path / "no-kubeconfig"), NO_COLOR="1")
    return e


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60)


def offline(*args: str) -> list[str]:
    return [*args, "--manifests", SHOP, "--with-default-roles"]


UNKNOWN = ("warning: the server doesn't have a resource type 'foobar' (offline: not a built-in type, and no RBAC rule "
           "in the manifests names it); checked as written")  # fmt: skip


# ---------------------------------------------------------------------------------------------- item 3: resource types


def test_can_i_unknown_resource_type_warns_like_kubectl_and_answers(env: dict[str, str]) -> None:
    p = run(env, *offline("can-i", "watch", "foobar", "-n", "shop", "--as", "a", "--as-group", "oidc:shop-devs"))
    assert p.returncode == 1, p.stderr
    assert p.stdout.splitlines()[:2] == ["no", "  request: watch foobar in namespace shop"]
    assert p.stderr.splitlines() == [UNKNOWN]
    j = json.loads(run(env, *offline("can-i", "watch", "foobar", "-n", "shop", "--as", "a", "-o", "json")).stdout)
    assert j["request"]["resourceAttributes"] == {"verb": "watch", "group": "", "resource": "foobar", "namespace": "shop"}


def test_can_i_a_rule_may_name_any_string(env: dict[str, str], tmp_path: Path) -> None:
    rbac = tmp_path / "rbac.yaml"
    rbac.write_text(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: odd}\n"
        "rules: [{apiGroups: [''], resources: [foobar], verbs: [watch]}]\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: odd}\n"
        "subjects: [{kind: User, name: a, apiGroup: rbac.authorization.k8s.io}]\n"
        "roleRef: {kind: ClusterRole, name: odd, apiGroup: rbac.authorization.k8s.io}\n"
    )
    p = run(env, "can-i", "watch", "foobar", "--manifests", str(rbac), "--as", "a")
    assert p.returncode == 0 and p.stdout.startswith("yes") and "ClusterRoleBinding odd" in p.stdout
    assert p.stderr == ""  # the manifests name it: not unknown
    unbound = run(env, "can-i", "watch", "foobars", "--manifests", str(rbac), "--as", "a")
    assert unbound.returncode == 1 and "doesn't have a resource type 'foobars'" in unbound.stderr


@pytest.mark.parametrize(("given", "plural"), [("pod", "pods"), ("Deployment", "deployments.apps")])
def test_can_i_singular_and_kind_forms_map_to_the_plural_with_a_warning(env: dict[str, str], given: str, plural: str) -> None:
    p = run(env, *offline("can-i", "create", given, "-n", "shop", "--as", "a", "--as-group", "oidc:shop-devs"))
    assert p.returncode == 0 and p.stdout.splitlines()[1] == f"  request: create {plural} in namespace shop"
    assert p.stderr == f"warning: resource type {given!r} checked as {plural!r} (RBAC rules name the plural)\n"


def test_permissions_accepts_subresources(env: dict[str, str]) -> None:
    p = run(env, *offline("perms", "-n", "frontend", "--as", "c", "--as-group", "oidc:contractors", "--resource", "pods/exec",
                          "--resource", "deployments.apps/scale", "-o", "json"))  # fmt: skip
    assert p.returncode == 0, p.stderr
    rows = {r["name"]: r for r in json.loads(p.stdout)["rows"]}
    assert set(rows) == {"pods/exec", "deployments.apps/scale"}
    assert rows["pods/exec"]["subresource"] == "exec" and rows["pods/exec"]["risky"] == ["exec"]
    assert all(rows["pods/exec"]["verbs"].values())  # the contractor role: verbs ["*"] on pods/exec
    assert not any(rows["deployments.apps/scale"]["verbs"].values())
    table = run(env, *offline("perms", "-n", "frontend", "--as", "c", "--as-group", "oidc:contractors",
                              "--resource", "pods/exec"))  # fmt: skip
    assert table.returncode == 0 and table.stdout.splitlines()[2].split()[:2] == ["pods/exec", "✔"]
    bad = run(env, *offline("perms", "-n", "frontend", "--as", "c", "--resource", "pods/exec/x"))
    assert bad.returncode == 2 and bad.stderr.startswith("error: invalid resource 'pods/exec/x'")
