"""kubectl netsso: SSO login, RBAC permissions and NetworkPolicy reachability for kubectl."""

__version__ = "0.1.0"
