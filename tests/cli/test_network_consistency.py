"""Network commands say the same thing the same way (issue 10 item 10, network part), through the installed executable.

- flags a command would ignore are not offered: can-reach -A, policy allow -A/--as/--as-group; can-reach has no
  `-o wide` (it has no columns: --detail gives every pair and the walkthrough);
- `can-reach` without --port asks for SOME port, and the verdict line says so;
- can-reach's fix and `policy allow` come from one generator: the same policy, with the same name, and can-reach
  names the command that prints it.
(Usage errors exiting 2 and one naming of workloads in table and JSON are in tests/cli/test_network.py.)
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import yaml
from helpers import REPO
from helpers.executable import netsso

SHOP = str(REPO / "examples" / "shop")


@pytest.mark.parametrize(
    "args",
    [
        ["can-reach", "frontend/deploy/web", "shop/svc/api", "--port", "80", "-A"],
        ["can-reach", "frontend/deploy/web", "shop/svc/api", "--port", "80", "-o", "wide"],
        ["policy", "allow", "frontend/deploy/web", "shop/svc/api", "--port", "80", "-A"],
        ["policy", "allow", "frontend/deploy/web", "shop/svc/api", "--port", "80", "--as", "alice"],
        ["policy", "allow", "frontend/deploy/web", "shop/svc/api", "--port", "80", "--as-group", "devs"],
    ],
)
def test_flags_a_command_would_ignore_are_not_offered(tmp_path: Path, args: list[str]) -> None:
    p = netsso(*args, "--manifests", SHOP, home=tmp_path)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stderr and ("No such option" in p.stderr or "Invalid value" in p.stderr)


def test_can_reach_detail_shows_every_pair_and_the_walkthrough(tmp_path: Path) -> None:
    short = netsso("can-reach", "frontend/deploy/web", "shop/svc/api", "--port", "80", "--manifests", SHOP, home=tmp_path)
    full = netsso("can-reach", "frontend/deploy/web", "shop/svc/api", "--port", "80", "--manifests", SHOP, "--detail",
                  home=tmp_path)  # fmt: skip
    assert short.returncode == full.returncode == 1
    assert "[NP] Deny" in full.stdout and "[NP]" not in short.stdout


def test_any_port_says_some_port(tmp_path: Path) -> None:
    p = netsso("can-reach", "shop/deploy/api", "payments/deploy/payments", "--manifests", SHOP, home=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == (
        "ALLOWED  shop/deployment/api -> payments/deployment/payments on some port (any port was asked): 8443/TCP"
    )
    p = netsso("can-reach", "frontend/deploy/web", "shop/deploy/api", "--manifests", SHOP, home=tmp_path)
    assert p.returncode == 1
    assert p.stdout.splitlines()[0] == (
        "DENIED  frontend/deployment/web -> shop/deployment/api on some port (any port was asked): no TCP port is allowed"
    )


@pytest.mark.parametrize(
    ("src", "dst", "port"),
    [
        ("frontend/deploy/web", "shop/svc/api", "80"),  # a Service with a named targetPort: port http, not 8080
        ("frontend/deploy/web", "shop/deploy/api", "8080"),
        ("shop/cj/sales-report", "db/svc/postgres", "5432"),  # both sides denied: two policies
        ("shop/deploy/api", "ip:198.51.100.7", "443"),
        ("shop/deploy/api", "ip:198.51.100.0/24", "443"),
        ("ip:198.51.100.7", "shop/deploy/api", "http"),
    ],
)
def test_can_reach_fix_is_what_policy_allow_prints(tmp_path: Path, src: str, dst: str, port: str) -> None:
    p = netsso("can-reach", src, dst, "--port", port, "--manifests", SHOP, "-o", "json", home=tmp_path)
    assert p.returncode == 1, p.stdout + p.stderr
    data = json.loads(p.stdout)
    assert data["fix"], data
    argv = shlex.split(data["fixCommand"])
    assert argv[:4] == ["kubectl", "netsso", "policy", "allow"]
    printed = netsso(*argv[2:], "--manifests", SHOP, home=tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert list(yaml.safe_load_all(printed.stdout)) == data["fix"]
    # every denied pair carries the same policies, and the text output names the command
    assert all(f["fix"] == data["fix"] for f in data["flows"] if f["allowed"] is False and f["fix"])
    text = netsso("can-reach", src, dst, "--port", port, "--manifests", SHOP, home=tmp_path).stdout
    assert f"# {data['fixCommand']} prints the same" in text
