"""Issue 16 item 4: setup's provider notes, each against the real test provider behaving that way: an Entra-style groups
overage, no groups claim (Google, Okta's org server), and a path issuer (Okta's custom authorization server form)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from harness.netsso import browser_args, provider_args
from harness.provider import OIDCProvider, ProviderStartError
from harness.require import unavailable

pytestmark = pytest.mark.e2e


def _notes(stdout: str) -> str:
    return stdout.split("## notes for ", 1)[1].split("\n## ", 1)[0] if "## notes for " in stdout else ""


def test_entra_overage_and_object_ids(provider, home, browser_command, run_netsso):
    browser_command.set(login="overage-carol")
    r = run_netsso("setup", *provider_args(provider, *browser_args(browser_command)), "--provider-kind", "entra",
                   timeout=90)
    assert r.returncode == 0, r.stderr
    notes = _notes(r.stdout)
    assert notes.startswith("Microsoft Entra ID\n"), r.stdout
    assert "groups overage (_claim_names)" in notes and "object IDs (GUIDs)" in notes


def test_an_overage_is_told_whatever_the_provider(provider, home, browser_command, run_netsso):
    browser_command.set(login="overage-dan")
    r = run_netsso("setup", *provider_args(provider, *browser_args(browser_command)), timeout=90)
    assert r.returncode == 0, r.stderr
    assert "groups overage (_claim_names)" in _notes(r.stdout) and "GUIDs" not in r.stdout


def test_google_without_groups_and_without_a_secret(provider, home, browser_command, run_netsso):
    browser_command.set(login="nogroups-erin")
    r = run_netsso("setup", *provider_args(provider, *browser_args(browser_command)), "--provider-kind", "google",
                   timeout=90)
    assert r.returncode == 0, r.stderr
    notes = _notes(r.stdout)
    assert notes.startswith("Google\n") and "requires even with PKCE" in notes and "bind each user by email" in notes


def test_okta_org_server_without_groups(provider, home, browser_command, run_netsso):
    browser_command.set(login="nogroups-frank")
    r = run_netsso("setup", *provider_args(provider, *browser_args(browser_command)), "--provider-kind", "okta",
                   timeout=90)
    assert r.returncode == 0, r.stderr
    assert "use a custom authorization server" in _notes(r.stdout)


@pytest.fixture(scope="module")
def path_provider(pki, tmp_path_factory) -> Iterator[OIDCProvider]:
    try:
        op = OIDCProvider(pki, tmp_path_factory.mktemp("oidc-path"), env={"NETSSO_OP_ISSUER_PATH": "/oauth2/default"}).start()
    except ProviderStartError as exc:
        unavailable(f"OpenID Provider unavailable: {exc}")
    yield op
    op.stop()


def test_okta_custom_authorization_server_path_issuer(path_provider, home, browser_command, run_netsso):
    assert path_provider.issuer.endswith("/oauth2/default")
    browser_command.set(login="nogroups-gina")
    r = run_netsso("setup", *provider_args(path_provider, *browser_args(browser_command)), "--provider-kind", "okta",
                   timeout=90)
    assert r.returncode == 0, r.stderr
    assert f"--oidc-issuer-url={path_provider.issuer}" in r.stdout  # the path issuer, verbatim, for the API server
    notes = _notes(r.stdout)
    assert "add a groups claim" in notes and "org authorization server" not in notes
    # with groups, a custom authorization server needs no note
    browser_command.set(login="alice+dev")
    r = run_netsso("setup", *provider_args(path_provider, *browser_args(browser_command)), "--provider-kind", "okta",
                   timeout=90)
    assert r.returncode == 0, r.stderr
    assert _notes(r.stdout) == ""
