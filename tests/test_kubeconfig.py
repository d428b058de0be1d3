# ruff: noqa: E501  (test tables: one object per line reads better)
"""cluster/kubeconfig.py: file selection, kubectl's first-wins merge, contexts, namespace, the exec stanza."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_netsso.cli.options import KubeOptions
from kubectl_netsso.cluster.kubeconfig import (
    ExecConfig,
    effective_namespace,
    is_netsso_exec,
    kubeconfig_paths,
    load_kubeconfig,
    resolve_context,
)
from kubectl_netsso.errors import NetssoError
from kubectl_netsso.usecases.source import current_namespace


def _config(
    clusters: dict[str, dict[str, Any]] | None = None,
    users: dict[str, dict[str, Any]] | None = None,
    contexts: dict[str, dict[str, Any]] | None = None,
    current: str | None = None,
) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": k, "cluster": v} for k, v in (clusters or {}).items()],
        "users": [{"name": k, "user": v} for k, v in (users or {}).items()],
        "contexts": [{"name": k, "context": v} for k, v in (contexts or {}).items()],
    }
    if current is not None:
        cfg["current-context"] = current
    return cfg


def _write(path: Path, cfg: dict[str, Any]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


NETSSO_EXEC = {
    "apiVersion": "client.authentication.k8s.io/v1",
    "command": "kubectl-netsso",
    "args": ["get-token", "--oidc-issuer-url=https://issuer.example", "--oidc-client-id=kube"],
    "env": [{"name": "NETSSO_TOKEN_CACHE_DIR", "value": "/tmp/x"}, {"name": "EMPTY", "value": None}],
    "interactiveMode": "IfAvailable",
    "provideClusterInfo": True,
    "installHint": "pip install kubectl-netsso",
}


@pytest.fixture
def single(tmp_path: Path) -> str:
    return _write(
        tmp_path / "config",
        _config(
            clusters={"prod": {"server": "https://prod:6443", "certificate-authority": "ca/prod.pem"}},
            users={
                "sso": {"exec": NETSSO_EXEC},
                "admin": {"client-certificate": "certs/admin.crt", "client-key": "/abs/admin.key"},
            },
            contexts={
                "prod": {"cluster": "prod", "user": "sso", "namespace": "shop"},
                "admin": {"cluster": "prod", "user": "admin"},
            },
            current="prod",
        ),
    )


def test_current_context_namespace_and_exec(single: str, tmp_path: Path) -> None:
    ctx = resolve_context(single)
    assert (ctx.name, ctx.cluster_name, ctx.user_name, ctx.namespace, ctx.namespace_from_context) == (
        "prod",
        "prod",
        "sso",
        "shop",
        True,
    )
    assert ctx.server == "https://prod:6443"
    # relative paths are relative to the kubeconfig file (clientcmd ResolveLocalPaths)
    assert ctx.cluster["certificate-authority"] == str(tmp_path / "ca" / "prod.pem")
    assert ctx.exec == ExecConfig(
        command="kubectl-netsso",
        args=("get-token", "--oidc-issuer-url=https://issuer.example", "--oidc-client-id=kube"),
        env={"NETSSO_TOKEN_CACHE_DIR": "/tmp/x", "EMPTY": ""},
        api_version="client.authentication.k8s.io/v1",
        interactive_mode="IfAvailable",
        provide_cluster_info=True,
        install_hint="pip install kubectl-netsso",
    )
    assert ctx.user_is_netsso and ctx.exec.is_netsso
    assert ctx.exec.netsso_args == ("--oidc-issuer-url=https://issuer.example", "--oidc-client-id=kube")
    env = ctx.exec.process_env({"PATH": "/bin", "NETSSO_TOKEN_CACHE_DIR": "/old"})
    assert env == {"PATH": "/bin", "NETSSO_TOKEN_CACHE_DIR": "/tmp/x", "EMPTY": ""}


def test_explicit_context_and_default_namespace(single: str, tmp_path: Path) -> None:
    ctx = resolve_context(single, "admin")
    assert (ctx.name, ctx.namespace, ctx.namespace_from_context, ctx.exec, ctx.user_is_netsso) == (
        "admin",
        "default",
        False,
        None,
        False,
    )
    assert ctx.user["client-certificate"] == str(tmp_path / "certs" / "admin.crt")
    assert ctx.user["client-key"] == "/abs/admin.key"
    assert effective_namespace(None, ctx) == "default"
    assert effective_namespace("other", ctx) == "other"
    assert effective_namespace(None, None) == "default"


def test_current_namespace_helper(single: str) -> None:
    assert current_namespace(KubeOptions(single, None, None, False, None, ())) == "shop"
    assert current_namespace(KubeOptions(single, "admin", None, False, None, ())) == "default"
    assert current_namespace(KubeOptions(single, None, "x", False, None, ())) == "x"


def test_kubeconfig_env_merge_first_wins(tmp_path: Path) -> None:
    a = _write(
        tmp_path / "a" / "config",
        _config(
            clusters={"c1": {"server": "https://a-c1"}},
            users={"u1": {"token": "a"}},
            contexts={"ctx1": {"cluster": "c1", "user": "u1", "namespace": "from-a"}},
            current="ctx1",
        ),
    )
    b = _write(
        tmp_path / "b" / "config",
        _config(
            clusters={"c1": {"server": "https://b-c1"}, "c2": {"server": "https://b-c2", "certificate-authority": "ca.pem"}},
            users={"u1": {"token": "b"}, "u2": {"token": "b2"}},
            contexts={"ctx1": {"cluster": "c2", "user": "u2"}, "ctx2": {"cluster": "c2", "user": "u1"}},
            current="ctx2",
        ),
    )
    missing = str(tmp_path / "missing")
    env = {"KUBECONFIG": os.pathsep.join([missing, a, "", b]), "HOME": str(tmp_path)}
    cfg = load_kubeconfig(None, env)
    assert cfg.files == (a, b)  # missing files in KUBECONFIG are ignored
    assert cfg.current_context == "ctx1"  # the first file to set current-context wins
    assert cfg.clusters["c1"]["server"] == "https://a-c1"  # first file to define a name wins
    assert cfg.users["u1"] == {"token": "a"}
    assert cfg.contexts["ctx1"]["namespace"] == "from-a"
    ctx2 = cfg.context("ctx2")
    assert (ctx2.server, ctx2.user["token"]) == ("https://b-c2", "a")  # names resolve across files
    assert ctx2.cluster["certificate-authority"] == str(tmp_path / "b" / "ca.pem")  # relative to b


def test_file_selection(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "KUBECONFIG": "/x/one" + os.pathsep + "/x/two"}
    assert kubeconfig_paths("/explicit/config", env) == (["/explicit/config"], True)
    assert kubeconfig_paths(None, env) == (["/x/one", "/x/two"], False)
    assert kubeconfig_paths(None, {"HOME": str(tmp_path)}) == ([str(tmp_path / ".kube" / "config")], True)
    assert kubeconfig_paths(None, {"HOME": str(tmp_path), "KUBECONFIG": ""}) == ([str(tmp_path / ".kube" / "config")], True)


def test_home_default(tmp_path: Path) -> None:
    _write(tmp_path / ".kube" / "config", _config(clusters={"c": {"server": "s"}}, contexts={"x": {"cluster": "c"}}, current="x"))
    assert load_kubeconfig(None, {"HOME": str(tmp_path)}).context().name == "x"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("explicit-missing", "kubeconfig {tmp}/nope: no such file"),
        ("home-missing", "kubeconfig {tmp}/.kube/config: no such file"),
        ("env-all-missing", "no kubeconfig found (KUBECONFIG={tmp}/a)"),
        ("no-current", "no current context in {tmp}/config"),
        ("unknown-context", 'context "nope" not found in {tmp}/config (known: only)'),
        ("missing-cluster", 'context "only": cluster "ghost" not found in {tmp}/config'),
        ("missing-user", 'context "only": user "ghost" not found in {tmp}/config'),
        ("bad-yaml", "kubeconfig {tmp}/config line 2: invalid YAML"),
        ("not-a-mapping", "kubeconfig {tmp}/config: must be a mapping"),
        ("bad-exec", 'kubeconfig: user "u" exec: args must be a list of strings'),
    ],
)
def test_errors(tmp_path: Path, setup: str, message: str) -> None:
    env = {"HOME": str(tmp_path)}
    explicit: str | None = str(tmp_path / "config")
    context: str | None = None
    good = _config(
        clusters={"c": {"server": "s"}}, users={"u": {}}, contexts={"only": {"cluster": "c", "user": "u"}}, current="only"
    )
    if setup == "explicit-missing":
        explicit = str(tmp_path / "nope")
    elif setup == "home-missing":
        explicit = None
    elif setup == "env-all-missing":
        explicit, env["KUBECONFIG"] = None, str(tmp_path / "a")
    elif setup == "no-current":
        _write(tmp_path / "config", {**good, "current-context": ""})
    elif setup == "unknown-context":
        _write(tmp_path / "config", good)
        context = "nope"
    elif setup == "missing-cluster":
        _write(
            tmp_path / "config",
            _config(clusters={}, users={"u": {}}, contexts={"only": {"cluster": "ghost", "user": "u"}}, current="only"),
        )
    elif setup == "missing-user":
        _write(
            tmp_path / "config", _config(clusters={"c": {}}, contexts={"only": {"cluster": "c", "user": "ghost"}}, current="only")
        )
    elif setup == "bad-yaml":
        (tmp_path / "config").write_text("clusters: [\n")
    elif setup == "not-a-mapping":
        (tmp_path / "config").write_text("- a\n- b\n")
    elif setup == "bad-exec":
        _write(tmp_path / "config", {**good, "users": [{"name": "u", "user": {"exec": {"command": "x", "args": "get-token"}}}]})
    with pytest.raises(NetssoError) as err:
        resolve_context(explicit, context, env)
    assert err.value.message.startswith(message.format(tmp=tmp_path))
    assert "\n" not in err.value.message


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        ("kubectl-netsso", ["get-token", "--oidc-issuer-url=x"], True),
        ("/usr/local/bin/kubectl-netsso", ["get-token"], True),
        ("C:\\tools\\kubectl-netsso.exe", ["get-token"], True),
        ("kubectl", ["netsso", "get-token", "--oidc-client-id=y"], True),
        ("/usr/bin/python3", ["-m", "kubectl_netsso", "get-token"], True),
        ("kubectl-netsso", ["login"], False),
        ("kubectl-netsso", [], False),
        ("kubectl", ["oidc-login", "get-token"], False),
        ("kubelogin", ["get-token"], False),
        ("kubectl-netsso-other", ["get-token"], False),
        ("aws", ["eks", "get-token"], False),
    ],
)
def test_is_netsso_exec(command: str, args: list[str], expected: bool) -> None:
    assert is_netsso_exec(ExecConfig(command=command, args=tuple(args))) is expected
    assert is_netsso_exec(None) is False


def test_netsso_args_via_kubectl() -> None:
    ex = ExecConfig(command="kubectl", args=("netsso", "get-token", "--oidc-issuer-url=x"))
    assert ex.netsso_args == ("--oidc-issuer-url=x",)


def test_exec_command_with_separator_is_relative_to_the_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "k" / "config",
        _config(
            clusters={"c": {"server": "s"}},
            users={
                "u": {"exec": {"command": "./bin/kubectl-netsso", "args": ["get-token"]}},
                "v": {"exec": {"command": "kubectl-netsso"}},
            },
            contexts={"a": {"cluster": "c", "user": "u"}, "b": {"cluster": "c", "user": "v"}},
            current="a",
        ),
    )
    exec_a = resolve_context(path).exec
    assert exec_a is not None and exec_a.command == str(tmp_path / "k" / "bin" / "kubectl-netsso")
    exec_b = resolve_context(path, "b").exec
    assert exec_b is not None and exec_b.command == "kubectl-netsso"  # looked up on PATH, untouched


def test_client_config_round_trip(single: str) -> None:
    ctx = resolve_context(single)
    cfg = ctx.client_config({"token": "t"})
    assert cfg["current-context"] == "prod"
    assert cfg["users"] == [{"name": "sso", "user": {"token": "t"}}]
    assert cfg["contexts"][0]["context"] == {"cluster": "prod", "user": "sso", "namespace": "shop"}
    assert cfg["clusters"][0]["cluster"]["server"] == "https://prod:6443"
    assert ctx.client_config()["users"][0]["user"]["exec"]["command"] == "kubectl-netsso"


# -- property: the merge is kubectl's first-wins union -----------------------------------------------------------------

_names = st.sampled_from(["a", "b", "c", "d"])
_file = st.fixed_dictionaries(
    {
        "clusters": st.lists(_names, unique=True, max_size=4),
        "users": st.lists(_names, unique=True, max_size=4),
        "contexts": st.lists(_names, unique=True, max_size=4),
        "current": st.none() | st.just("") | _names,
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_file, min_size=1, max_size=4))
def test_merge_is_first_wins(tmp_path: Path, files: list[dict[str, Any]]) -> None:
    paths = []
    for i, f in enumerate(files):
        cfg = _config(
            clusters={n: {"server": f"https://f{i}-{n}"} for n in f["clusters"]},
            users={n: {"token": f"f{i}-{n}"} for n in f["users"]},
            contexts={n: {"cluster": n, "user": n, "namespace": f"f{i}"} for n in f["contexts"]},
            current=f["current"],
        )
        paths.append(_write(tmp_path / f"merge-{len(files)}-{i}" / "config", cfg))
    merged = load_kubeconfig(None, {"HOME": str(tmp_path), "KUBECONFIG": os.pathsep.join(paths)})

    def first(section: str, name: str) -> int:
        return next(i for i, f in enumerate(files) if name in f[section])

    for name in {n for f in files for n in f["clusters"]}:
        assert merged.clusters[name]["server"] == f"https://f{first('clusters', name)}-{name}"
    for name in {n for f in files for n in f["users"]}:
        assert merged.users[name]["token"] == f"f{first('users', name)}-{name}"
    for name in {n for f in files for n in f["contexts"]}:
        assert merged.contexts[name]["namespace"] == f"f{first('contexts', name)}"
    assert set(merged.clusters) == {n for f in files for n in f["clusters"]}
    assert merged.current_context == next((f["current"] for f in files if f["current"]), None)
