"""Which cluster a command talks to and as whom: the kube flags as a plain record (no click, no kubernetes)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KubeOptions:
    """--kubeconfig, --context, -n, -A, --as, --as-group with kubectl's meanings; built by cli/options.py and read by
    cluster/ and usecases/, which must not import the CLI layer."""

    kubeconfig: str | None
    context: str | None
    namespace: str | None
    all_namespaces: bool
    as_user: str | None
    as_groups: tuple[str, ...]
    command: str = ""  # the command the user ran ("kubectl netsso whoami"), for messages about it


__all__ = ["KubeOptions"]
