"""The default ClusterRoles (cluster-admin, admin, edit, view, system:*) and their user-facing default bindings, as a
Snapshot to merge under the user's objects (snapshot.merge_rbac).

A source of cluster facts like manifests.py, so it lives here and the rbac engine stays pure: the only read is of
the package's own data files (importlib.resources), once per process; no cluster or user files.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from .snapshot import Snapshot

DATA_FILE = "kubernetes-bootstrap-cluster-roles.yaml"
BINDINGS_FILE = "default-cluster-role-bindings.yaml"


@lru_cache(maxsize=1)
def default_roles_snapshot() -> Snapshot:
    """ClusterRoles from kubernetes/kubernetes bootstrappolicy testdata/cluster-roles.yaml (see the file's header),
    plus the default bindings that give every authenticated user discovery, self reviews and public info.

    Decoded by the same strict decoder as the user's manifests (one meaning for every source).
    """
    import yaml

    from .decode import snapshot_from_objects

    data = resources.files("kubectl_netsso").joinpath("data")
    docs = [(f"{name} document 1", yaml.safe_load(data.joinpath(name).read_text(encoding="utf-8")))
            for name in (DATA_FILE, BINDINGS_FILE)]  # fmt: skip
    return snapshot_from_objects(docs, source=f"default roles ({DATA_FILE}, {BINDINGS_FILE})")
