"""The default ClusterRoles (cluster-admin, admin, edit, view, system:*) and their user-facing default bindings.

The only read here is of the package's own data file (importlib.resources), cached; no cluster or user files.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from ..cluster.snapshot import Snapshot
from .objects import snapshot_from_objects

DATA_FILE = "kubernetes-bootstrap-cluster-roles.yaml"
BINDINGS_FILE = "default-cluster-role-bindings.yaml"


@lru_cache(maxsize=1)
def default_roles_snapshot() -> Snapshot:
    """ClusterRoles from kubernetes/kubernetes bootstrappolicy testdata/cluster-roles.yaml (see the file's header),
    plus the default bindings that give every authenticated user discovery, self reviews and public info."""
    import yaml

    data = resources.files("kubectl_netsso").joinpath("data")
    objects = [yaml.safe_load(data.joinpath(name).read_text(encoding="utf-8")) for name in (DATA_FILE, BINDINGS_FILE)]
    return snapshot_from_objects(objects, source=f"default roles ({DATA_FILE}, {BINDINGS_FILE})")
