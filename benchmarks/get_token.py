"""Benchmark: wall time of a cached `kubectl-netsso get-token` vs. a bare `python -I -c pass`, interleaved.

kubectl runs the credential plugin before every command, so a cache hit should cost little more than starting the
interpreter. Prints both medians and, as the last line, `ratio: X.XX` (target <= 1.5).

Usage: python benchmarks/get_token.py [--runs N]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _plugin() -> str:
    path = os.path.join(sysconfig.get_path("scripts"), "kubectl-netsso")
    if not os.path.exists(path):
        found = shutil.which("kubectl-netsso")
        if not found:
            sys.exit("kubectl-netsso is not installed (pip install -e .)")
        path = found
    return path


def _warm_cache(env: dict[str, str], args: list[str]) -> None:
    """Write a valid cache entry exactly where get-token looks (through the project's own cache code)."""
    from kubectl_netsso.auth.cache import open_cache
    from kubectl_netsso.auth.settings import ProviderSettings
    from kubectl_netsso.auth.tokens import TokenSet

    now = int(time.time())
    claims = {"iss": "https://sso.example.test", "sub": "bench", "aud": "kube", "iat": now, "exp": now + 3600}
    jwt = ".".join([_b64(json.dumps({"alg": "RS256"}).encode()), _b64(json.dumps(claims).encode()), _b64(b"s" * 256)])
    open_cache(ProviderSettings.from_exec_args(args, env)).save(TokenSet(jwt, "bench-refresh-token"))


def _time(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{argv[0]} failed ({proc.returncode}): {proc.stderr.decode()[:300]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NETSSO_") and k != "KUBERNETES_EXEC_INFO"}
        env.update(HOME=home, KUBECACHEDIR=os.path.join(home, "kubecache"))
        env["KUBERNETES_EXEC_INFO"] = json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                                                  "spec": {"interactive": False}})
        args = ["--oidc-issuer-url", "https://sso.example.test", "--oidc-client-id", "kube",
                "--oidc-extra-scope", "groups", "--oidc-extra-scope", "offline_access"]
        _warm_cache(env, args)
        plugin = [_plugin(), "get-token", *args]
        baseline = [sys.executable, "-I", "-c", "pass"]
        for _ in range(3):  # warm the page cache and .pyc files
            _time(plugin, env)
            _time(baseline, env)
        plugin_times, base_times = [], []
        for _ in range(opts.runs):  # interleaved, so machine noise hits both alike
            base_times.append(_time(baseline, env))
            plugin_times.append(_time(plugin, env))
    p, b = statistics.median(plugin_times), statistics.median(base_times)
    print(f"runs: {opts.runs} each, interleaved")
    print(f"python -I -c pass:          median {b * 1000:.1f} ms")
    print(f"kubectl-netsso get-token:   median {p * 1000:.1f} ms (cached, file storage)")
    print(f"ratio: {p / b:.2f}")


if __name__ == "__main__":
    main()
