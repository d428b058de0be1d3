"""`paths --compact` live: the installed kubectl-netsso against the loopback API server double; when one namespace's
NetworkPolicies cannot be listed (403), the flows that depend on them become rules marked unknown (allowed null),
never allowed rules, and the rules still say exactly what the per-pair rows say."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from test_network_live import shop_live, shop_live_objects  # noqa: F401  (the live shop fixture)

from kubectl_netsso.netpol.model import PodPeer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import test_netpol_compact as tc  # noqa: E402  (the expansion that reads only the JSON contract)

pytestmark = pytest.mark.e2e


def live_peers() -> dict[str, PodPeer]:
    out = {}
    for o in shop_live_objects():
        if o["kind"] == "Pod":
            meta = o["metadata"]
            out[f"{meta['namespace']}/{meta['name']}"] = PodPeer(meta["namespace"], meta.get("labels", {}), name=meta["name"])
    return out


def test_compact_live_marks_what_depends_on_a_403_unknown(shop_live: Any, run_netsso: Any) -> None:  # noqa: F811
    p = run_netsso("paths", "-A", "--compact", "-o", "json")
    assert p.returncode == 0, p.stderr
    before = json.loads(p.stdout)["rules"]
    assert before and all(r["allowed"] is True for r in before)
    shop_live.forbid("networkpolicies")
    shop_live.forbid("networkpolicies", namespace="shop")
    p = run_netsso("paths", "-A", "--compact", "-o", "json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert any("cannot see networkpolicies in namespace shop" in w for w in data["warnings"])
    rules = data["rules"]
    unknown = [r for r in rules if r["allowed"] is None]
    assert unknown, rules
    # only flows into or out of shop can be unknown; nothing into shop is claimed allowed
    assert all("shop" in r["from"].get("namespaces", []) or "shop" in r["to"].get("namespaces", []) for r in unknown)
    assert not any(r["allowed"] is True and r["to"].get("namespaces") == ["shop"] for r in rules)
    # the table says which rules are unknown
    p = run_netsso("paths", "-A", "--compact")
    assert "VERDICT" in p.stdout.splitlines()[0] and "UNKNOWN" in p.stdout
    # and the rules say what the rows say, pod by pod, on the port the shop cares about
    rows = json.loads(run_netsso("paths", "-A", "--port", "8443", "--no-external", "-o", "json").stdout)["paths"]
    peers = live_peers()
    for r in rows:
        if r["from"] != r["to"]:
            assert tc.expanded(rules, peers[r["from"]], peers[r["to"]], 8443, "TCP") is r["allowed"], r
