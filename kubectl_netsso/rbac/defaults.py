"""The upstream default ClusterRoles (cluster-admin, admin, edit, view, system:*) shipped with the package.

The only read here is of the package's own data file (importlib.resources), cached; no cluster or user files.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from ..cluster.snapshot import Snapshot
from .objects import snapshot_from_objects

DATA_FILE = "kubernetes-bootstrap-cluster-roles.yaml"


@lru_cache(maxsize=1)
def default_roles_snapshot() -> Snapshot:
    """ClusterRoles from kubernetes/kubernetes bootstrappolicy testdata/cluster-roles.yaml (see the file's header)."""
    import yaml

    text = resources.files("kubectl_netsso").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    return snapshot_from_objects([yaml.safe_load(text)], source=f"default roles ({DATA_FILE})")
