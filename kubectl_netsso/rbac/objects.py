"""Combining RBAC snapshots (the user's objects over the packaged defaults). Pure.

Decoding API objects is not done here: every source (manifests, the live API server, the packaged default roles)
goes through the one strict decoder in kubectl_netsso.cluster.manifests, so a binding means the same whatever its
source (ServiceAccount subjects take the binding's namespace; invalid objects are left out with a warning).
"""

from __future__ import annotations

from dataclasses import replace

from ..cluster.snapshot import Snapshot


def merge(base: Snapshot, extra: Snapshot) -> Snapshot:
    """base plus extra's roles and bindings; objects in base win over same-named ones in extra (the user's folder
    overrides the packaged defaults)."""
    have_roles = {(r.namespace, r.name) for r in base.roles}
    have_bindings = {(b.namespace, b.name) for b in base.bindings}
    return replace(
        base,
        roles=base.roles + tuple(r for r in extra.roles if (r.namespace, r.name) not in have_roles),
        bindings=base.bindings + tuple(b for b in extra.bindings if (b.namespace, b.name) not in have_bindings),
    )
