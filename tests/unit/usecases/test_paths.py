"""usecases/paths.py on the shipped shop example, called as a function; the streamed JSON is checked against the
run's own per-pair lookups (the CLI tests lock the tables and the documented JSON)."""

from __future__ import annotations

import io
import json
import os

import pytest

from kubectl_netsso.cluster.target import KubeOptions
from kubectl_netsso.errors import EXIT_USAGE, NetssoError
from kubectl_netsso.output import render
from kubectl_netsso.usecases import paths
from kubectl_netsso.usecases.source import Source

NO_KUBECONFIG = os.path.join(os.path.dirname(__file__), "no-such-kubeconfig")


def shop(namespace: str | None = None, all_namespaces: bool = False) -> Source:
    return Source(KubeOptions(NO_KUBECONFIG, None, namespace, all_namespaces, None, ()), ("example:shop",))


def per_pair(inp: paths.PathsInput, source: Source) -> paths.PathsRun:
    result = paths.run(inp, source)
    assert isinstance(result, paths.PathsRun)
    return result


def test_a_service_with_a_port_is_its_backends_on_the_target_port() -> None:
    run = per_pair(paths.PathsInput(to_text="shop/svc/api", port_text="80"), shop("shop"))
    assert {d.ref for d in run.destinations} == {"shop/deployment/api"}
    [(key, _idx, block)] = run.blocks
    assert (key.port, key.protocol) == ("http", "TCP")  # the Service port's targetPort, as written
    assert block.resolved_port(0, key.port, key.protocol) == 8080
    rows = list(run.rows())
    assert rows and all(block.allowed(s_i, j) is False for s_i, j, _k, block in rows)  # api-ingress denies them all


def test_the_streamed_json_is_the_runs_verdicts() -> None:
    run = per_pair(paths.PathsInput(external=False), shop(all_namespaces=True))  # every declared port
    out = io.StringIO()
    render(run, "json", kind="paths", out=out)
    doc = json.loads(out.getvalue())
    expected = {
        (run.sources[s_i].ref, block.destinations[j].ref, key.port): block.allowed(s_i, j)
        for s_i, j, key, block in run.rows()
        if run.sources[s_i] is not block.destinations[j]  # a pod to itself is always allowed
    }
    shown = {(r["from"], r["to"], r["port"]): r["allowed"] for r in doc["paths"] if r["from"] != r["to"]}
    assert shown == expected and len(doc["paths"]) == len(list(run.rows()))
    assert any(v is True for v in expected.values()) and any(v is False for v in expected.values())


def test_n_scope_keeps_flows_into_and_out_of_the_namespace() -> None:
    run = per_pair(paths.PathsInput(port_text="8080"), shop("shop"))
    for s_i, j, _key, block in run.rows():
        assert "shop" in (run.sources[s_i].namespace, block.destinations[j].namespace)
    assert run.scope_ns == "shop" and run.size_warning is None


def test_compact_is_grouped_rules_with_the_warnings() -> None:
    result = paths.run(paths.PathsInput(compact=True), shop("shop"))
    assert isinstance(result, paths.CompactPaths)
    data = result.to_dict()
    assert data["rules"] and data["warnings"] == []
    assert any(r["to"]["namespaces"] == ["kube-system"] for r in data["rules"])  # DNS egress from shop


def test_a_misspelt_named_port_is_a_warning() -> None:
    run = per_pair(paths.PathsInput(port_text="htpp"), shop("shop"))
    assert any("named port htpp" in w for w in run.warnings)


@pytest.mark.parametrize(
    ("inp", "needle"),
    [
        (paths.PathsInput(from_text="ip:10.0.0.1"), "--from must be in the cluster"),
        (paths.PathsInput(to_text="ip:10.0.0.0/8"), "--to must be in the cluster"),
        (paths.PathsInput(port_text="0"), "must be 1-65535"),
    ],
)
def test_usage_errors(inp: paths.PathsInput, needle: str) -> None:
    with pytest.raises(NetssoError) as info:
        paths.run(inp, shop("shop"))
    assert info.value.exit_code == EXIT_USAGE and needle in info.value.message


def test_an_unknown_namespace_is_an_error() -> None:
    with pytest.raises(NetssoError, match="namespace nope not found"):
        paths.run(paths.PathsInput(), shop("nope"))
