"""Shell completion through the real kubectl: `kubectl __complete netsso ...` runs kubectl_complete-netsso."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHOP = str(REPO / "examples" / "shop")
DEFAULT, NO_FILE_COMP, FILTER_DIRS = 0, 4, 16


@pytest.fixture
def complete(run_kubectl):
    def run(*words: str) -> tuple[list[str], int]:
        r = run_kubectl("__complete", "netsso", *words)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert lines and lines[-1].startswith(":"), r.stdout
        assert "Traceback" not in r.stdout + r.stderr
        return lines[:-1], int(lines[-1][1:])

    return run


@pytest.mark.parametrize(
    "words",
    [("paths", "--manifests", ""), ("whoami", "--kubeconfig", ""), ("report", "--html", ""), ("audit", "--expect", "x"),
     ("login", "--certificate-authority", ""), ("get-token", "--certificate-authority", "ca"), ("setup", "--kubeconfig", ""),
     ("policy", "allow-dns", "--kubeconfig", "")],
)
def test_path_options_let_the_shell_complete_file_names(complete, words) -> None:
    assert complete(*words) == ([], DEFAULT)


def test_the_token_cache_dir_completes_directories(complete) -> None:
    assert complete("login", "--token-cache-dir", "") == ([], FILTER_DIRS)


def test_shipped_examples_complete_after_the_prefix(complete) -> None:
    shipped = ["example:calico-shop", "example:cilium-starwars", "example:shop", "example:shop-expect.yaml"]
    assert complete("paths", "--manifests", "example:") == (shipped, NO_FILE_COMP)
    assert complete("audit", "--expect", "example:") == (["example:shop-expect.yaml"], NO_FILE_COMP)


def test_audit_checks_complete(complete) -> None:
    from kubectl_netsso.access.audit import CHECKS

    assert complete("audit", "--only", "") == (list(CHECKS), NO_FILE_COMP)
    assert complete("audit", "--skip", "no-default") == (["no-default-deny-ingress", "no-default-deny-egress"], NO_FILE_COMP)


def test_can_i_completes_verbs_then_resource_types(complete) -> None:
    verbs, directive = complete("can-i", "")
    assert {"get", "list", "create", "delete", "impersonate"} <= set(verbs) and directive == NO_FILE_COMP
    assert complete("can-i", "create", "dep") == (["deployments.apps"], NO_FILE_COMP)
    types, _ = complete("can-i", "get", "")
    assert {"pods", "secrets", "networkpolicies.networking.k8s.io", "cronjobs.batch"} <= set(types)
    assert complete("can-i", "get", "pods", "") == ([], NO_FILE_COMP)


def test_can_reach_completes_endpoints_from_the_manifests(complete) -> None:
    assert complete("can-reach", "--manifests", SHOP, "frontend/") == (["frontend/deploy/web"], NO_FILE_COMP)
    targets, _ = complete("can-reach", "--manifests", SHOP, "frontend/deploy/web", "shop/")
    assert targets == ["shop/cronjob/sales-report", "shop/deploy/api", "shop/svc/api"]
    sources, _ = complete("can-reach", "--manifests", "example:shop", "")
    assert "db/sts/postgres" in sources and not any("/svc/" in s for s in sources)  # a Service is never a source
    assert complete("can-reach", "fr") == ([], NO_FILE_COMP)  # nothing to read: nothing guessed


def test_a_broken_manifests_folder_completes_nothing_quietly(complete, tmp_path) -> None:
    (tmp_path / "bad.yaml").write_text("kind: Pod\nmetadata: [\n")
    assert complete("can-reach", "--manifests", str(tmp_path), "") == ([], NO_FILE_COMP)
