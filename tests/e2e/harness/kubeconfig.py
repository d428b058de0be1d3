"""Write a kubeconfig whose user runs ``kubectl-netsso get-token`` (exec credential plugin) against the API double."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml


def write_kubeconfig(path: Path, *, server: str, ca_path: Path | str, issuer: str, client_id: str = "netsso",
                     provider_ca: Path | str | None = None, extra_args: Iterable[str] = (),
                     scopes: Iterable[str] = ("groups", "email"), command: str = "kubectl-netsso",
                     env: Mapping[str, str] | None = None, user: str = "oidc", cluster: str = "test",
                     context: str = "test", namespace: str | None = None, interactive_mode: str = "IfAvailable",
                     api_version: str = "client.authentication.k8s.io/v1", provide_cluster_info: bool = True) -> Path:
    """The kubeconfig ``kubectl netsso setup`` tells users to create; returns path."""
    args = ["get-token", f"--oidc-issuer-url={issuer}", f"--oidc-client-id={client_id}",
            f"--certificate-authority={provider_ca or ca_path}"]
    args += [f"--oidc-extra-scope={s}" for s in scopes]
    args += list(extra_args)
    exec_cfg: dict[str, object] = {
        "apiVersion": api_version,
        "command": command,
        "args": args,
        "interactiveMode": interactive_mode,
        "provideClusterInfo": provide_cluster_info,
        "installHint": "install kubectl-netsso: pip install kubectl-netsso",
    }
    if env:
        exec_cfg["env"] = [{"name": k, "value": v} for k, v in env.items()]
    ctx: dict[str, object] = {"cluster": cluster, "user": user}
    if namespace:
        ctx["namespace"] = namespace
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority": str(ca_path)}}],
        "users": [{"name": user, "user": {"exec": exec_cfg}}],
        "contexts": [{"name": context, "context": ctx}],
        "current-context": context,
        "preferences": {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path
