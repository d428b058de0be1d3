"""usecases/source.py: the one current-namespace rule, the one loader, the warnings every command prints."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kubectl_netsso.cluster.snapshot import Gap
from kubectl_netsso.cluster.target import KubeOptions
from kubectl_netsso.errors import EXIT_USAGE, NetssoError
from kubectl_netsso.usecases.source import Loaded, Source, current_namespace, gap_text, merge_warnings

KUBECONFIG = """apiVersion: v1
kind: Config
current-context: c
clusters: [{name: x, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: not-a-real-token}}]
contexts:
- {name: c, context: {cluster: x, user: u, namespace: frontend}}
- {name: bare, context: {cluster: x, user: u}}
"""


def kube(kubeconfig: str | None, context: str | None = None, namespace: str | None = None, all_ns: bool = False) -> KubeOptions:
    return KubeOptions(kubeconfig, context, namespace, all_ns, None, ())


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "config"
    path.write_text(KUBECONFIG)
    return str(path)


def test_namespace_flag_then_context_then_default(config: str, tmp_path: Path) -> None:
    assert current_namespace(kube(config, namespace="x")) == "x"
    assert current_namespace(kube(config)) == "frontend"
    assert current_namespace(kube(config, context="bare")) == "default"
    # a kubeconfig that cannot be read does not stop an offline command
    assert current_namespace(kube(str(tmp_path / "missing"))) == "default"
    (tmp_path / "broken").write_text("{not yaml: [")
    assert current_namespace(kube(str(tmp_path / "broken"))) == "default"


@pytest.mark.parametrize("namespace", [None, "x"])
def test_an_unknown_context_is_a_usage_error_even_with_n(config: str, namespace: str | None) -> None:
    with pytest.raises(NetssoError) as info:
        current_namespace(kube(config, context="nope", namespace=namespace))
    assert info.value.exit_code == EXIT_USAGE
    assert "nope" in info.value.message and info.value.hint
    assert info.value.__cause__ is not None  # the kubeconfig's own error stays attached (shown at -vvv)


def test_offline_load_of_an_example(config: str) -> None:
    loaded = Source(kube(config), ("example:shop",)).load()
    assert not loaded.live and loaded.namespace == "frontend" and loaded.cni_warning is None
    assert loaded.source_text.startswith("manifests:")
    names = {w.namespace for w in loaded.snapshot.workloads}
    assert {"frontend", "shop", "payments"} <= names
    # offline without -n: every namespace of the manifests is in scope; with -n only that one
    assert set(loaded.scope()) >= names
    assert Source(kube(config, namespace="shop"), ("example:shop",)).load().scope() == ["shop"]
    assert Source(kube(config, namespace="shop", all_ns=True), ("example:shop",)).load().scope() == loaded.scope()


def test_default_roles_are_added_but_the_manifests_alone_stay_known(config: str) -> None:
    plain = Source(kube(config), ("example:shop",)).load({"rbac"})
    with_defaults = Source(kube(config), ("example:shop",), with_default_roles=True).load({"rbac"})
    assert plain.manifests_only is plain.snapshot
    assert with_defaults.manifests_only.roles == plain.snapshot.roles
    assert {r.name for r in with_defaults.snapshot.roles} >= {"admin", "edit", "view"}
    assert not {"admin", "edit", "view"} & {r.name for r in plain.snapshot.roles if not r.namespace}


def test_warnings_are_the_cni_warning_the_snapshots_and_the_gaps_once_each(config: str) -> None:
    loaded = Source(kube(config), ("example:shop",)).load()
    gaps = (Gap("networkpolicies", "shop", "forbidden"), Gap("nodes", None, "forbidden"))
    snap = replace(loaded.snapshot, warnings=("w1", "w2"), gaps=gaps)
    live = Loaded(snap, "shop", live=True, cni_warning="flannel does not enforce NetworkPolicy")
    assert live.warnings() == [
        "flannel does not enforce NetworkPolicy",
        "w1",
        "w2",
        "cannot see networkpolicies in namespace shop: forbidden",
        "cannot see nodes: forbidden",
    ]
    # compiled warnings start with the snapshot's: nothing is said twice
    assert live.warnings(["w1", "w2", "w3"], cni=False) == [
        "w1", "w2", "w3", gap_text(gaps[0]), gap_text(gaps[1]),
    ]  # fmt: skip
    assert merge_warnings(["a", "b"], ["b", "a", "c"]) == ["a", "b", "c"]


def test_live_scope_keeps_what_could_not_be_listed(config: str) -> None:
    loaded = Source(kube(config), ("example:shop",)).load()
    snap = replace(loaded.snapshot, gaps=(Gap("pods", "hidden", "forbidden"),))
    scope = Loaded(snap, "ctx-ns", live=True, all_namespaces=True).scope()
    assert "hidden" in scope and "ctx-ns" in scope and scope == sorted(scope)
    assert Loaded(snap, "ctx-ns", live=True).scope() == ["ctx-ns"]  # live without -A: the context's namespace
