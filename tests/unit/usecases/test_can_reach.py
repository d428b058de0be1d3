"""usecases/can_reach.py on the shipped shop example, called as a function (the CLI tests lock the rendering)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from kubectl_netsso.cluster.target import KubeOptions
from kubectl_netsso.errors import EXIT_NO, EXIT_USAGE, NetssoError
from kubectl_netsso.usecases import can_reach
from kubectl_netsso.usecases.source import Source

NO_KUBECONFIG = os.path.join(os.path.dirname(__file__), "no-such-kubeconfig")
SHOP = Source(KubeOptions(NO_KUBECONFIG, None, None, False, None, ()), ("example:shop",))


def test_a_service_destination_is_its_backends_on_the_target_port() -> None:
    result = can_reach.run(can_reach.CanReachInput("frontend/deploy/web", "shop/svc/api", "80"), SHOP)
    assert result.allowed is False and result.exit_code == EXIT_NO
    svc = result.answer.service
    assert svc is not None and (svc["port"], svc["targetPort"]) == (80, "http")
    assert {p.port for p in result.pairs} == {8080}  # the named targetPort, resolved on each backing pod
    # denied by ingress: the fix is a policy on the destination, and the command that prints it
    assert result.fix and result.fix[0]["metadata"]["namespace"] == "shop"
    assert result.fix_command is not None and result.fix_command.startswith("kubectl netsso policy allow")
    data = result.to_dict()
    assert data["status"] == "DENIED" and data["from"] == "frontend/deployment/web" and data["to"] == "shop/svc/api"


def test_the_result_is_the_json_the_executable_prints() -> None:
    args = ["can-reach", "frontend/deploy/web", "payments/deploy/payments", "--port", "8443", "-o", "json",
            "--manifests", "example:shop"]  # fmt: skip
    exe = shutil.which("kubectl-netsso")
    argv = [exe] if exe else [sys.executable, "-m", "kubectl_netsso"]
    env = {**os.environ, "KUBECONFIG": NO_KUBECONFIG, "NO_COLOR": "1"}
    shown = json.loads(subprocess.run([*argv, *args], capture_output=True, text=True, env=env, timeout=60).stdout)
    result = can_reach.run(can_reach.CanReachInput("frontend/deploy/web", "payments/deploy/payments", "8443"), SHOP)
    assert json.loads(json.dumps(result.to_dict())) == shown


@pytest.mark.parametrize(
    ("inp", "needle"),
    [
        (can_reach.CanReachInput(None, None), "give exactly one source"),
        (can_reach.CanReachInput("web", None), "missing TO"),
        (can_reach.CanReachInput("web", "api", from_selector="app=x"), "give exactly one source"),
        (can_reach.CanReachInput("ip:10.0.0.1", "ip:10.0.0.2"), "both FROM and TO are outside the cluster"),
        (can_reach.CanReachInput("frontend/deploy/web", "shop/svc/api", "81"), "has no port 81/TCP"),
    ],
)
def test_usage_errors(inp: can_reach.CanReachInput, needle: str) -> None:
    with pytest.raises(NetssoError) as info:
        can_reach.run(inp, SHOP)
    assert info.value.exit_code == EXIT_USAGE and needle in info.value.message


def test_a_selector_source_stands_for_a_pod_that_does_not_exist_yet() -> None:
    inp = can_reach.CanReachInput("shop/svc/api", None, "80", from_selector="app=web", from_namespace="frontend")
    result = can_reach.run(inp, SHOP)  # the one positional is TO
    assert result.source.kind == "selector" and result.destination.ref == "shop/svc/api"
    assert result.fix_command is None  # no `policy allow` line for a hypothetical pod
