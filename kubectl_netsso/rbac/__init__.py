"""RBAC semantics, pure: rules.py matches one PolicyRule against one request; authorize.py resolves an identity's
bindings and roles (with ClusterRole aggregation) to a decision that names the grant; claims.py maps ID-token claims
to the username and groups the API server would see; resources.py resolves TYPE[.GROUP] offline; matrix.py builds the
permissions view; diagnose.py explains SSO identity mismatches for whoami.
"""
