"""ID-token claims -> cluster identity (kube-apiserver OIDC rules) and the whoami diagnosis."""

from __future__ import annotations

from kubectl_netsso.rbac.claims import ClaimMapping, effective_username_prefix, map_claims
from kubectl_netsso.rbac.diagnose import diagnose

ISS = "https://idp.example"
NOW = 1_800_000_000.0


def claims(**kw):
    base = {"iss": ISS, "sub": "1234", "aud": "netsso", "exp": NOW + 600, "iat": NOW - 60}
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


def test_default_prefix_is_issuer_hash_for_sub() -> None:
    m = map_claims(claims(groups=["dev"]), ClaimMapping())
    assert m.username == "https://idp.example#1234"
    assert m.groups == ("dev",)


def test_no_prefix_for_email_claim() -> None:
    m = map_claims(claims(email="a@x", email_verified=True), ClaimMapping(username_claim="email"))
    assert m.username == "a@x"


def test_email_not_verified_is_rejected() -> None:
    m = map_claims(claims(email="a@x", email_verified=False), ClaimMapping(username_claim="email"))
    assert m.username is None and "not verified" in (m.error or "")


def test_dash_disables_prefix_and_explicit_prefix() -> None:
    assert effective_username_prefix(ClaimMapping(username_prefix="-"), ISS) == ""
    assert effective_username_prefix(ClaimMapping(username_prefix="oidc:"), ISS) == "oidc:"
    assert effective_username_prefix(ClaimMapping(username_claim="email", username_prefix="oidc:"), ISS) == "oidc:"


def test_groups_prefix_and_string_claim() -> None:
    m = map_claims(claims(groups="dev"), ClaimMapping(groups_prefix="oidc:"))
    assert m.groups == ("oidc:dev",)


def test_missing_username_claim() -> None:
    assert map_claims(claims(sub=None), ClaimMapping()).username is None


def test_distributed_groups_claim() -> None:
    c = claims(_claim_names={"groups": "src1"}, _claim_sources={"src1": {"endpoint": "https://graph"}})
    m = map_claims(c, ClaimMapping())
    assert m.distributed_groups and m.groups == ()


def codes(findings) -> list[str]:
    return [f.code for f in findings]


def test_diagnose_clean_except_the_informational_prefix() -> None:
    c = claims(groups=["dev"])
    f = diagnose(c, {"username": "https://idp.example#1234", "groups": ["dev", "system:authenticated"]}, NOW)
    assert [(x.code, x.severity) for x in f] == [("issuer-prefix", "info")]
    assert diagnose(c, {"username": "1234", "groups": ["dev"]}, NOW, ClaimMapping(username_prefix="-")) == []


def test_diagnose_issuer_prefix() -> None:
    f = diagnose(claims(groups=["dev"]), {"username": "https://idp.example#1234", "groups": ["dev"]}, NOW)
    assert codes(f) == ["issuer-prefix"]
    assert "https://idp.example#1234" in f[0].hint


def test_diagnose_no_groups_claim() -> None:
    assert "no-groups-claim" in codes(diagnose(claims(), None, NOW))


def test_diagnose_overage() -> None:
    c = claims(_claim_names={"groups": "src1"}, _claim_sources={"src1": {"endpoint": "https://graph"}})
    got = codes(diagnose(c, None, NOW))
    assert "groups-overage" in got and "no-groups-claim" not in got


def test_diagnose_expired() -> None:
    f = diagnose(claims(exp=NOW - 300, groups=["dev"]), None, NOW)
    assert codes(f) == ["token-expired"] and "5m ago" in f[0].message


def test_diagnose_anonymous() -> None:
    assert codes(diagnose(None, {"username": "system:anonymous", "groups": ["system:unauthenticated"]}, NOW)) == ["anonymous"]


def test_diagnose_groups_not_in_cluster() -> None:
    f = diagnose(claims(groups=["dev", "ops"]), {"username": "alice", "groups": ["system:authenticated"]}, NOW,
                 ClaimMapping(username_prefix="-"))  # fmt: skip
    assert "groups-not-in-cluster" in codes(f)


def test_diagnose_groups_prefix() -> None:
    f = diagnose(claims(groups=["dev"]), {"username": "1234", "groups": ["oidc:dev", "system:authenticated"]}, NOW,
                 ClaimMapping(username_prefix="-"))  # fmt: skip
    assert codes(f) == ["groups-prefix"] and "'oidc:'" in f[0].message


def test_diagnose_username_from_other_claim() -> None:
    f = diagnose(claims(groups=["dev"]), {"username": "someone-else", "groups": ["dev"]}, NOW)
    assert "username-mismatch" in codes(f)
