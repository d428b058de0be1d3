"""Issue 16 item 4: which provider an issuer URL names, and which notes its claims call for."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_netsso.auth.providers import identify, notes


@pytest.mark.parametrize(("url", "kind"), [
    ("https://dev-123.okta.com/oauth2/default", "okta"), ("https://acme.oktapreview.com", "okta"),
    ("https://login.microsoftonline.com/0000-tenant/v2.0", "entra"), ("https://sts.windows.net/tid/", "entra"),
    ("https://accounts.google.com", "google"), ("https://okta.com.evil.example", None),
    ("https://evil.example/login.microsoftonline.com", None), ("https://sso.example.com", None), ("not a url", None),
])
def test_identify(url: str, kind: str | None) -> None:
    assert identify(url) == kind


def test_topics() -> None:
    def topics(url: str, claims: dict, secret: bool = False) -> list[str]:
        return [n.topic for n in notes(url, claims, secret)]

    assert topics("https://accounts.google.com", {"sub": "1"}) == ["client-secret", "no-groups"]
    assert topics("https://accounts.google.com", {"sub": "1"}, secret=True) == ["no-groups"]
    assert topics("https://a.okta.com", {"sub": "1"}) == ["custom-authorization-server"]
    assert topics("https://a.okta.com/oauth2/default", {"sub": "1"}) == ["groups-claim"]
    assert topics("https://a.okta.com/oauth2/default", {"groups": ["x"]}) == []
    assert topics("https://login.microsoftonline.com/t/v2.0", {"_claim_names": {"groups": "src1"}}) == \
        ["groups-overage", "groups-object-ids"]
    assert topics("https://sso.example.com", {"groups": []}) == []


@given(st.text(max_size=40), st.dictionaries(st.sampled_from(["groups", "_claim_names", "sub"]),
                                             st.one_of(st.none(), st.text(max_size=5), st.lists(st.text(max_size=3)),
                                                       st.dictionaries(st.text(max_size=6), st.text(max_size=3)))))
def test_notes_never_crash(url: str, claims: dict) -> None:
    for n in notes(url, claims, False):
        assert n.text and "\n" not in n.text
