"""`diff OLD NEW` through the installed executable: sides from folders, stdin and real Git repositories (the real
`git`, revisions read without touching the work tree), --fail-on exit codes, the JSON contract, the table and the
Markdown a pull-request comment shows (hostile names escaped)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO
from helpers.executable import netsso

SHOP = REPO / "examples" / "shop"
CONTRACTORS_EXEC_SHOP = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: contractors-exec
  namespace: shop
subjects:
  - kind: Group
    name: oidc:contractors
    apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: ClusterRole
  name: pod-exec
  apiGroup: rbac.authorization.k8s.io
"""


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.test", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.test", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo)}  # fmt: skip
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return done.stdout


def pr_change(folder: Path) -> None:
    """The worked example's pull request: contractors may exec into shop's pods."""
    (folder / "rbac" / "contractors-exec-shop.yaml").write_text(CONTRACTORS_EXEC_SHOP)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real repository: commit 1 = examples/shop under cluster/, commit 2 = the pull request."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    shutil.copytree(SHOP, root / "cluster")
    (root / "README.md").write_text("not a manifest\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "shop")
    pr_change(root / "cluster")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "contractors exec into shop")
    return root


def diff_json(*args: str, cwd: Path | None = None, code: int = 0) -> dict[str, Any]:
    p = netsso("diff", *args, "-o", "json", cwd=cwd)
    assert p.returncode == code, p.stderr
    data: dict[str, Any] = json.loads(p.stdout)
    return data


def test_same_folder_no_change_exit_0() -> None:
    p = netsso("diff", str(SHOP), "example:shop", "--fail-on", "any")
    assert p.returncode == 0, p.stderr
    assert "no change in connectivity, permissions, reach, findings" in p.stdout


def test_git_revisions_of_the_repository_you_stand_in(repo: Path) -> None:
    data = diff_json("git:HEAD~1", "git:HEAD", "--fail-on", "risky-permissions,new-reach", cwd=repo / "cluster", code=1)
    assert data["matched"] == ["risky-permissions", "new-reach"]
    assert data["old"]["source"].startswith("git:HEAD~1 (commit ")
    gained = [p for p in data["permissions"]["changes"] if p["change"] == "gained"]
    assert {p["permission"] for p in gained} >= {"create pods/exec"}
    assert all(p["subject"] == {"kind": "Group", "name": "oidc:contractors", "namespace": None} for p in gained)
    assert all(p["namespace"] == "shop" and p["via"].startswith("RoleBinding shop/contractors-exec") for p in gained)
    assert "create pods/exec" in {r for p in gained for r in p["risky"]}
    # the join: exec into shop/api, from which payments is reachable
    texts = [r["text"] for r in data["reach"]["changes"] if r["identity"] == "group oidc:contractors"]
    assert any("pod shop/deployment/api" in t and "payments/deployment/payments" in t for t in texts), texts
    # no network object changed: no flow changed
    assert data["connectivity"]["changes"] == []
    # the same with the current folder as NEW, and git:REV:PATH from the repository root
    assert diff_json("git:HEAD~1", ".", "--only", "permissions", cwd=repo / "cluster", code=0)["permissions"] == {
        **data["permissions"]
    }
    root = diff_json("git:HEAD~1:cluster", "git:HEAD:cluster", "--only", "permissions", cwd=repo)
    assert root["permissions"] == data["permissions"]


def test_git_side_never_touches_the_work_tree(repo: Path) -> None:
    api = repo / "cluster" / "shop" / "api.yaml"
    api.write_text(api.read_text() + "\n# uncommitted edit\n")
    status = git(repo, "status", "--porcelain")
    head = git(repo, "rev-parse", "HEAD")
    p = netsso("diff", "git:HEAD~1", "git:HEAD", "-o", "json", cwd=repo / "cluster")
    assert p.returncode == 0, p.stderr
    assert git(repo, "status", "--porcelain") == status and git(repo, "rev-parse", "HEAD") == head
    assert api.read_text().endswith("# uncommitted edit\n")


@pytest.mark.parametrize(
    ("side", "message"),
    [
        ("git:HEAD:../..", "PATH is outside the repository"),
        ("git:no-such-branch", "unknown revision no-such-branch"),
        ("git:HEAD:nothing-here", "no cluster/nothing-here in HEAD"),
        ("git:", "no revision"),
        ("git:--output=x", "no revision"),
    ],
)
def test_git_side_errors_are_one_line_usage_errors(repo: Path, side: str, message: str) -> None:
    p = netsso("diff", side, ".", cwd=repo / "cluster")
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert p.stderr.splitlines()[0].startswith("error: ") and message in p.stderr
    assert "Traceback" not in p.stderr


def test_git_side_outside_a_repository(tmp_path: Path) -> None:
    p = netsso("diff", "git:HEAD", str(SHOP), cwd=tmp_path)
    assert p.returncode == 2 and "not inside a Git repository" in p.stderr


def test_new_flow_external_egress_and_fail_on(tmp_path: Path) -> None:
    new = tmp_path / "new"
    shutil.copytree(SHOP, new)
    (new / "shop" / "egress-partner.yaml").write_text("""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-to-partner, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: 198.51.100.0/24}}]
      ports: [{port: 443}]
""")
    data = diff_json(str(SHOP), str(new), "--fail-on", "external-egress", "--fail-on", "removed-flows", code=1)
    assert data["matched"] == ["external-egress"]
    changes = data["connectivity"]["changes"]
    assert [(c["change"], c["from"], c["to"], c["portsAddedText"]) for c in changes] == [
        ("added", ["shop/deployment/api"], ["ip: 198.51.100.0/24"], "TCP 443")
    ]
    assert changes[0]["causes"] == ["NP shop/api-to-partner (added)"] and changes[0]["external"] == "egress"
    assert data["connectivity"]["policies"] == [{"policy": "NP shop/api-to-partner", "change": "added"}]
    # reversed: a removed flow, explained with what NEW (here the old folder) says
    back = diff_json(str(new), str(SHOP), "--fail-on", "removed-flows", "--only", "connectivity", code=1)
    (gone,) = back["connectivity"]["changes"]
    assert gone["change"] == "removed" and gone["explanation"].startswith("on 443/TCP: egress: ")
    # only the connectivity section: a category of another section cannot match and is a usage error
    p = netsso("diff", str(SHOP), str(new), "--only", "connectivity", "--fail-on", "risky-permissions")
    assert p.returncode == 2 and "--fail-on risky-permissions needs the permissions section" in p.stderr


def test_fail_on_finding_severity_and_usage_errors(tmp_path: Path) -> None:
    new = tmp_path / "new"
    shutil.copytree(SHOP, new)
    pr_change(new)
    # the pull request adds no audit finding; fixing api-ingress adds a high one (contractors' pods in frontend)
    assert netsso("diff", str(SHOP), str(new), "--fail-on", "finding-severity=info").returncode == 0
    fixed = tmp_path / "fixed"
    shutil.copytree(SHOP, fixed)
    text = (fixed / "shop" / "networkpolicies.yaml").read_text().replace("team: frontend", "team: web")
    (fixed / "shop" / "networkpolicies.yaml").write_text(text)
    assert netsso("diff", str(SHOP), str(fixed), "--fail-on", "finding-severity=high").returncode == 1
    assert netsso("diff", str(SHOP), str(fixed), "--fail-on", "finding-severity=critical").returncode == 0
    assert netsso("diff", str(fixed), str(SHOP), "--fail-on", "new-findings").returncode == 1  # peer-matches-nothing
    for bad, text in [("--fail-on=nope", "unknown category 'nope'"), ("--fail-on=finding-severity=huge", "unknown severity"),
                      ("--only=nope", "unknown section 'nope'")]:  # fmt: skip
        p = netsso("diff", str(SHOP), str(new), bad)
        assert p.returncode == 2 and text in p.stderr and p.stderr.startswith("error: ")
    p = netsso("diff", "-", "-")
    assert p.returncode == 2 and "only one side can be '-'" in p.stderr
    p = netsso("diff", str(SHOP), str(tmp_path / "missing"))
    assert p.returncode == 3 and "no such file or directory" in p.stderr
    # the hint names what a side may be (there is no --manifests option to speak of here)
    assert p.stderr.splitlines()[1] == ("hint: a side is a folder, a file, '-' (stdin), example:NAME, git:REV[:PATH] "
                                        "or live[:CONTEXT]")


def test_stdin_side_and_warnings_name_their_side(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(SHOP, bad)
    (bad / "broken.yaml").write_text(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: x}\n"
        "roleRef: {kind: Role, name: r, apiGroup: rbac.authorization.k8s.io}\nsubjects: []\n"
    )
    text = "\n---\n".join(p.read_text() for p in sorted(SHOP.rglob("*.yaml")))
    p = netsso("diff", "-", str(bad), "-o", "json", input=text)
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["old"]["source"].startswith("manifests: -")
    assert any("roleRef.kind must be ClusterRole" in w for w in data["new"]["warnings"]) and not data["old"]["warnings"]
    assert any(line.startswith(f"warning: NEW ({bad}): ") for line in p.stderr.splitlines()), p.stderr


def test_markdown_escapes_hostile_names(tmp_path: Path) -> None:
    new = tmp_path / "new"
    shutil.copytree(SHOP, new)
    (new / "rbac" / "hostile.yaml").write_text(CONTRACTORS_EXEC_SHOP.replace("oidc:contractors", "x|<img src=x onerror=alert(1)>[a](http://e)"))
    p = netsso("diff", str(SHOP), str(new), "-o", "markdown")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "x\\|\\<img src=x onerror=alert(1)\\>\\[a\\](http://e)" in out
    tables: list[list[int]] = [[]]
    for line in out.splitlines():
        if line in ("<details>", "</details>") or (line.startswith("<summary>") and line.endswith("</summary>")):
            continue
        assert not re.search(r"(?<!\\)[<>\[\]]", line), line  # nothing could open a tag or a link
        if line.startswith("|"):
            tables[-1].append(len(re.split(r"(?<!\\)\|", line)))
        elif tables[-1]:
            tables.append([])
    # every row of a table has as many cells as its header: a name cannot end a cell
    assert len(tables) >= 3 and all(len(set(t)) == 1 for t in tables if t)


def test_markdown_collapses_long_sections(tmp_path: Path) -> None:
    new = tmp_path / "new"
    shutil.copytree(SHOP, new)
    for path in (new / "shop").glob("networkpolicies.yaml"):
        path.unlink()  # shop loses every policy: many flows open
    p = netsso("diff", str(SHOP), str(new), "-o", "markdown", "--fail-on", "new-flows")
    assert p.returncode == 1, p.stderr
    assert "<details>\n<summary>Connectivity: " in p.stdout and "</details>" in p.stdout
    assert p.stdout.count("| new |") + p.stdout.count("| opened |") > 10
    assert p.stdout.startswith("### kubectl netsso diff\n")
    # a short section stays open
    assert "**Permissions: 0 gained (0 risky), 0 lost**" in p.stdout


def test_table_groups_by_kind_of_change(tmp_path: Path) -> None:
    new = tmp_path / "new"
    shutil.copytree(SHOP, new)
    text = (new / "shop" / "networkpolicies.yaml").read_text().replace("team: frontend", "team: web")
    (new / "shop" / "networkpolicies.yaml").write_text(text)
    p = netsso("diff", str(SHOP), str(new))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert "CONNECTIVITY: 1 new flow, 0 removed, 0 with changed ports (pod pairs)" in lines
    row = next(line for line in lines if line.startswith("new "))
    assert row.split() == ["new", "frontend:", "*", "shop:", "app=api", "TCP", "8080", "NP", "shop/api-ingress", "(changed)"]
    assert "FINDINGS: 1 new, 1 fixed, 0 changed" in lines
    # reach: one row per foothold whose reach changed, with every identity holding it
    assert "REACH: 3 footholds of 2 identities reach differently" in lines
    row = next(line for line in lines if "pod frontend/deployment/web" in line)
    assert row.startswith("group oidc:contractors, group oidc:shop-devs  changed")
    assert row.rstrip().endswith("shop/deployment/api http=8080/TCP")
    wide = netsso("diff", str(SHOP), str(new), "-o", "wide").stdout.splitlines()
    assert "group oidc:contractors can still exec, port-forward on pod frontend/deployment/web, from which "\
           "shop/deployment/api http=8080/TCP becomes reachable" in wide  # fmt: skip
    assert any(line.split()[:4] == ["CHANGE", "FROM", "TO", "BEFORE"] for line in wide)


def test_json_contract(tmp_path: Path) -> None:
    data = diff_json(str(SHOP), str(SHOP))
    assert set(data) == {"old", "new", "sections", "connectivity", "permissions", "reach", "findings", "notes", "failOn",
                         "matched", "changed"}  # fmt: skip
    assert set(data["old"]) == {"side", "source", "live", "counts", "warnings"}
    assert set(data["connectivity"]) == {"summary", "policies", "changes", "groups"}
    assert data["changed"] is False and data["matched"] == []
    yaml_out = netsso("diff", str(SHOP), str(SHOP), "-o", "yaml")
    assert yaml_out.returncode == 0 and "connectivity:" in yaml_out.stdout


def test_as_group_focuses_permissions_and_reach(tmp_path: Path) -> None:
    new = tmp_path / "new"
    shutil.copytree(SHOP, new)
    pr_change(new)
    data = diff_json(str(SHOP), str(new), "--as-group", "oidc:shop-devs")
    assert data["permissions"]["changes"] == [] and data["reach"]["changes"] == []
    data = diff_json(str(SHOP), str(new), "--as-group", "oidc:contractors", "--only", "reach,permissions")
    assert data["sections"] == ["permissions", "reach"]
    assert data["reach"]["changes"] and data["permissions"]["changes"]


def test_table_escapes_terminal_control_in_names(tmp_path: Path) -> None:
    new = tmp_path / "new"
    shutil.copytree(SHOP, new)
    (new / "rbac" / "hostile.yaml").write_text(CONTRACTORS_EXEC_SHOP.replace("oidc:contractors", '"evil\\x1b[2J\\x07"'))
    for fmt in ("table", "wide", "markdown"):
        p = netsso("diff", str(SHOP), str(new), "-o", fmt, "--only", "permissions")
        assert p.returncode == 0, p.stderr
        assert "\x1b" not in p.stdout and "\x07" not in p.stdout
        assert "evil\\u001b" in p.stdout.replace("\\\\", "\\")  # shown, escaped


def test_live_side_needs_a_context_name() -> None:
    p = netsso("diff", "live:", str(SHOP))
    assert p.returncode == 2 and "live: without a context" in p.stderr
