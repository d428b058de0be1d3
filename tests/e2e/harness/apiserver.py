"""A loopback HTTPS kube API server double: OIDC bearer authentication like kube-apiserver, discovery, lists from
plain dicts, configurable 403s, impersonation, and the self-subject review APIs answered by a pluggable authorizer.

Faithful to the documented shapes (Kubernetes API reference: Status, APIResourceList, SelfSubjectReview v1,
SelfSubjectAccessReview v1, SelfSubjectRulesReview v1) so kubectl and the Python client accept the answers.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import requests

# (group, version, plural, kind, namespaced, short names, verbs)
_RW = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
RESOURCES: tuple[tuple[str, str, str, str, bool, tuple[str, ...]], ...] = (
    ("", "v1", "namespaces", "Namespace", False, ("ns",)),
    ("", "v1", "nodes", "Node", False, ("no",)),
    ("", "v1", "pods", "Pod", True, ("po",)),
    ("", "v1", "services", "Service", True, ("svc",)),
    ("", "v1", "endpoints", "Endpoints", True, ("ep",)),
    ("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",)),
    ("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    ("apps", "v1", "deployments", "Deployment", True, ("deploy",)),
    ("apps", "v1", "statefulsets", "StatefulSet", True, ("sts",)),
    ("apps", "v1", "daemonsets", "DaemonSet", True, ("ds",)),
    ("apps", "v1", "replicasets", "ReplicaSet", True, ("rs",)),
    ("batch", "v1", "jobs", "Job", True, ()),
    ("batch", "v1", "cronjobs", "CronJob", True, ("cj",)),
    ("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ("netpol",)),
    ("rbac.authorization.k8s.io", "v1", "roles", "Role", True, ()),
    ("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True, ()),
    ("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False, ()),
    ("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False, ()),
    ("policy.networking.k8s.io", "v1alpha1", "adminnetworkpolicies", "AdminNetworkPolicy", False, ("anp",)),
    ("policy.networking.k8s.io", "v1alpha1", "baselineadminnetworkpolicies", "BaselineAdminNetworkPolicy", False, ("banp",)),
)
ANP_GROUP = "policy.networking.k8s.io"
REVIEW_RESOURCES = {
    ("authentication.k8s.io", "v1"): [("selfsubjectreviews", "SelfSubjectReview")],
    ("authorization.k8s.io", "v1"): [("selfsubjectaccessreviews", "SelfSubjectAccessReview"),
                                     ("selfsubjectrulesreviews", "SelfSubjectRulesReview")],
}


@dataclass(frozen=True)
class UserInfo:
    username: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    denied: bool = False
    evaluation_error: str = ""


@dataclass(frozen=True)
class RulesResult:
    resource_rules: list[dict[str, Any]]
    non_resource_rules: list[dict[str, Any]]
    incomplete: bool = False
    evaluation_error: str = ""


class Authorizer(Protocol):
    def authorize(self, user: UserInfo, attrs: dict[str, Any]) -> Decision: ...

    def rules(self, user: UserInfo, namespace: str) -> RulesResult: ...


class AllowAll:
    """The default authorizer: everything is allowed."""

    def authorize(self, user: UserInfo, attrs: dict[str, Any]) -> Decision:
        return Decision(True, "allowed by the test authorizer")

    def rules(self, user: UserInfo, namespace: str) -> RulesResult:
        return RulesResult([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                           [{"verbs": ["*"], "nonResourceURLs": ["*"]}])


@dataclass
class RequestRecord:
    method: str
    path: str
    query: str
    user: str | None
    groups: tuple[str, ...]
    status: int
    impersonated_by: str | None = None


class AuthError(Exception):
    pass


def status_body(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


def _match_labels(labels: dict[str, str], selector: str) -> bool:
    """Equality/inequality/existence label selectors (`a=b,c!=d,e,!f`)."""
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "==" in term or "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


class FakeAPIServer:
    """See tests/e2e/harness/README.md."""

    def __init__(self, issuer: str, ca_path: Path | str, client_id: str = "netsso", *, tls: tuple[Path, Path],
                 objects: Iterable[dict[str, Any]] = (), username_claim: str = "sub", username_prefix: str | None = None,
                 groups_claim: str = "groups", groups_prefix: str = "", allow_anonymous: bool = False,
                 authorizer: Authorizer | None = None, anp: bool = True, resolve_distributed_claims: bool = True,
                 crds: Iterable[tuple[str, str, str, str, bool]] = ()) -> None:
        self.issuer = issuer
        self.ca_path = Path(ca_path)  # also the CA of our own TLS cert (same test PKI)
        self.client_id = client_id
        self.tls = tls
        self.username_claim = username_claim
        self.username_prefix = username_prefix
        self.groups_claim = groups_claim
        self.groups_prefix = groups_prefix
        self.allow_anonymous = allow_anonymous
        self.authorizer: Authorizer = authorizer or AllowAll()
        self.anp = anp
        # CustomResourceDefinitions served besides the built-ins: (group, version, plural, kind, namespaced), e.g.
        # ("cilium.io", "v2", "ciliumnetworkpolicies", "CiliumNetworkPolicy", True)
        self.crds: tuple[tuple[str, str, str, str, bool, tuple[str, ...]], ...] = tuple((*c, ()) for c in crds)
        self.resolve_distributed_claims = resolve_distributed_claims
        self.objects: list[dict[str, Any]] = []
        self.forbidden: set[tuple[str, str | None]] = set()
        self.requests: list[RequestRecord] = []
        self.tokens_seen: set[str] = set()
        self._fail_auth = 0
        self._lock = threading.Lock()
        self._jwks: Any = None
        self._server: ThreadingHTTPServer | None = None
        self.url = ""
        self.set_objects(objects)

    # -- configuration -----------------------------------------------------------------------------------------
    def set_objects(self, objects: Iterable[dict[str, Any]]) -> None:
        with self._lock:
            self.objects = [dict(o) for o in objects]

    def add_objects(self, objects: Iterable[dict[str, Any]]) -> None:
        with self._lock:
            self.objects.extend(dict(o) for o in objects)

    def set_crds(self, crds: Iterable[tuple[str, str, str, str, bool]]) -> None:
        """Serve these CustomResourceDefinitions (group, version, plural, kind, namespaced) from now on."""
        self.crds = tuple((*c, ()) for c in crds)

    def forbid(self, resource: str, namespace: str | None = None) -> None:
        self.forbidden.add((resource, namespace))

    def fail_auth_next(self, n: int = 1) -> None:
        with self._lock:
            self._fail_auth = n

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def start(self) -> FakeAPIServer:
        handler = type("Handler", (_Handler,), {"api": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(self.tls[0]), str(self.tls[1]))
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        self._server = server
        self.url = f"https://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, name="fake-apiserver", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeAPIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- authentication (kube-apiserver OIDC authenticator rules) ----------------------------------------------
    def _fetch_jwks(self) -> Any:
        from joserfc.jwk import KeySet

        disc = requests.get(self.issuer.rstrip("/") + "/.well-known/openid-configuration", verify=str(self.ca_path),
                            timeout=10).json()
        # kube-apiserver: the discovery document's issuer must equal the configured one
        if disc.get("issuer") != self.issuer:
            raise AuthError("issuer mismatch in discovery")
        jwks = requests.get(disc["jwks_uri"], verify=str(self.ca_path), timeout=10).json()
        return KeySet.import_key_set(jwks)

    def _verify_jwt(self, token: str) -> dict[str, Any]:
        from joserfc import jwt
        from joserfc.errors import JoseError
        from joserfc.jws import extract_compact

        if self._jwks is None:
            self._jwks = self._fetch_jwks()
        try:
            header = extract_compact(token.encode()).protected
        except (JoseError, ValueError) as exc:
            raise AuthError(f"malformed token: {exc}") from None
        if header.get("alg") != "RS256":  # --oidc-signing-algs default RS256
            raise AuthError(f"unsupported alg {header.get('alg')!r}")
        kid = header.get("kid")
        if kid is not None and not any(k.kid == kid for k in self._jwks.keys):
            self._jwks = self._fetch_jwks()  # key rotation: refetch once
        try:
            decoded = jwt.decode(token, self._jwks, algorithms=["RS256"])
        except (JoseError, ValueError) as exc:
            raise AuthError(f"failed to verify signature: {exc}") from None
        return dict(decoded.claims)

    def authenticate(self, token: str) -> UserInfo:
        claims = self._verify_jwt(token)
        now = time.time()
        if claims.get("iss") != self.issuer:
            raise AuthError(f"iss {claims.get('iss')!r} does not match")
        aud = claims.get("aud")
        auds = [aud] if isinstance(aud, str) else list(aud or [])
        if self.client_id not in auds:
            raise AuthError("audience does not match")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp <= now:  # go-oidc: no leeway on exp
            raise AuthError("token is expired")
        nbf = claims.get("nbf")
        if isinstance(nbf, int | float) and nbf > now + 300:  # go-oidc: 5 minutes leeway on nbf
            raise AuthError("token not valid yet")
        if self.username_claim not in claims:
            raise AuthError(f"claim not present: {self.username_claim}")
        username = claims[self.username_claim]
        if not isinstance(username, str):
            raise AuthError("username claim is not a string")
        if self.username_claim == "email" and "email_verified" in claims and claims["email_verified"] is not True:
            raise AuthError("email not verified")
        # --oidc-username-prefix: "If not provided and --oidc-username-claim is not 'email', the value defaults to
        # (issuer URL)#. The value '-' can be used to disable all prefixing." (kube-apiserver reference)
        prefix = self.username_prefix
        if prefix is None:
            prefix = "" if self.username_claim == "email" else self.issuer + "#"
        elif prefix == "-":
            prefix = ""
        groups: list[str] = []
        if self.groups_claim in claims:
            raw = claims[self.groups_claim]
            if isinstance(raw, str):
                groups = [raw]
            elif isinstance(raw, list) and all(isinstance(g, str) for g in raw):
                groups = list(raw)
            else:
                raise AuthError("groups claim is not a string or list of strings")
        elif self.resolve_distributed_claims and self.groups_claim in (claims.get("_claim_names") or {}):
            groups = self._distributed_groups(token, claims)
        return UserInfo(prefix + username, tuple(self.groups_prefix + g for g in groups) + ("system:authenticated",),
                        extra={"authentication.kubernetes.io/credential-id": [f"JTI={claims.get('jti', '')}"]}
                        if claims.get("jti") else {})

    def _distributed_groups(self, token: str, claims: dict[str, Any]) -> list[str]:
        # kube resolves distributed claims by calling the source endpoint with its access_token (or the ID token);
        # the answer must be a JWT from the same issuer. Any failure fails authentication.
        src_name = claims["_claim_names"][self.groups_claim]
        src = (claims.get("_claim_sources") or {}).get(src_name) or {}
        endpoint = src.get("endpoint")
        if not endpoint:
            raise AuthError("distributed claim source has no endpoint")
        resp = requests.get(endpoint, headers={"Authorization": f"Bearer {src.get('access_token') or token}"},
                            verify=str(self.ca_path), timeout=10)
        if resp.status_code != 200:
            raise AuthError(f"could not resolve distributed claim {self.groups_claim}: {resp.status_code}")
        inner = self._verify_jwt(resp.text.strip())
        value = inner.get(self.groups_claim)
        return [value] if isinstance(value, str) else list(value or [])

    # -- helpers for the handler -------------------------------------------------------------------------------
    def resource_for(self, group: str, version: str, plural: str) -> tuple[str, str, str, str, bool, tuple[str, ...]] | None:
        for r in self.resources():
            if r[0] == group and r[1] == version and r[2] == plural:
                return r
        return None

    def resources(self) -> tuple[tuple[str, str, str, str, bool, tuple[str, ...]], ...]:
        """The built-in resources (ANP ones only with anp=True) and the CRDs."""
        return tuple(r for r in RESOURCES if self.anp or r[0] != ANP_GROUP) + self.crds

    def groups(self) -> list[tuple[str, str]]:
        seen: list[tuple[str, str]] = []
        for g, v, *_ in self.resources():
            if g and (g, v) not in seen:
                seen.append((g, v))
        seen.extend(k for k in REVIEW_RESOURCES if k not in seen)
        return seen


def _api_version(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


class _Handler(BaseHTTPRequestHandler):
    api: FakeAPIServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    # -- plumbing --------------------------------------------------------------------------------------------
    def _send(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self._status = code
        self._record()  # before the client can see the answer, so tests can read the log right after a response
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    _user_info: UserInfo | None = None
    _by: str | None = None

    def _record(self) -> None:
        user, impersonated_by = self._user_info, self._by
        parts = urlsplit(self.path)
        with self.api._lock:
            self.api.requests.append(RequestRecord(self.command, parts.path, parts.query, user.username if user else None,
                                                   user.groups if user else (), getattr(self, "_status", 0),
                                                   impersonated_by))

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    # -- authentication + impersonation ----------------------------------------------------------------------
    def _user(self) -> tuple[UserInfo, str | None]:
        api = self.api
        auth = self.headers.get("Authorization")
        if not auth:
            if api.allow_anonymous:
                return UserInfo("system:anonymous", ("system:unauthenticated",)), None
            raise AuthError("no credentials")
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError("not a bearer token")
        with api._lock:
            api.tokens_seen.add(token)
            if api._fail_auth > 0:
                api._fail_auth -= 1
                raise AuthError("forced 401 (fail_auth_next)")
        try:
            user = api.authenticate(token)
        except requests.RequestException as exc:
            # kube-apiserver: an OIDC authenticator that cannot reach the issuer authenticates nobody (401)
            raise AuthError(f"issuer unreachable: {type(exc).__name__}") from None
        as_user = self.headers.get("Impersonate-User")
        as_groups = self.headers.get_all("Impersonate-Group") or []
        if not as_user and not as_groups:
            return user, None
        if not as_user:
            raise PermissionError(("", "impersonate", "users", "", 'requested Impersonate-Group without Impersonate-User'))
        checks = [("users", as_user)] + [("groups", g) for g in as_groups]
        for resource, name in checks:
            d = api.authorizer.authorize(user, {"verb": "impersonate", "group": "", "resource": resource, "name": name,
                                                "nonResource": False})
            if not d.allowed:
                raise PermissionError((resource, "impersonate", resource, name,
                                       f'{resource} "{name}" is forbidden: User "{user.username}" cannot impersonate '
                                       f'resource "{resource}" in API group "" at the cluster scope'))
        groups = tuple(as_groups)
        if as_user != "system:anonymous" and "system:authenticated" not in groups:
            groups = groups + ("system:authenticated",)
        return UserInfo(as_user, groups), user.username

    def _dispatch(self) -> None:
        self._user_info, self._by = None, None
        try:
            user, by = self._user()
        except AuthError:
            self._send(401, status_body(401, "Unauthorized", "Unauthorized"))
            return
        except PermissionError as exc:
            msg = exc.args[0][4]
            self._send(403, status_body(403, "Forbidden", msg))
            return
        self._user_info, self._by = user, by
        try:
            self._route(user)
        except Exception as exc:  # keep the double honest: a bug here is a 500 with the reason, visible in tests
            self._send(500, status_body(500, "InternalError", f"fake apiserver: {type(exc).__name__}: {exc}"))

    # -- routing ---------------------------------------------------------------------------------------------
    def _route(self, user: UserInfo) -> None:
        api = self.api
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query)
        segs = [s for s in path.split("/") if s]
        if path in ("/healthz", "/livez", "/readyz"):
            self._send_text(200, "ok")
            return
        if path == "/version":
            self._send(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0-netsso-test", "gitCommit": "",
                             "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23",
                             "compiler": "gc", "platform": "linux/amd64"})
            return
        if path == "/api":
            self._send(200, {"kind": "APIVersions", "versions": ["v1"],
                             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": api.url[8:]}]})
            return
        if path == "/apis":
            versions: dict[str, list[str]] = {}
            for g, v in api.groups():
                versions.setdefault(g, []).append(v)  # one APIGroup per group, its versions preferred-first
            groups = [{"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                       "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}} for g, vs in versions.items()]
            self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
            return
        if segs[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", segs[2:]
        elif segs[:1] == ["apis"] and len(segs) >= 3:
            group, version, rest = segs[1], segs[2], segs[3:]
        elif segs[:1] == ["apis"] and len(segs) == 2:
            matches = [(g, v) for g, v in api.groups() if g == segs[1]]
            if not matches:
                self._not_found()
                return
            g, v = matches[0]
            self._send(200, {"kind": "APIGroup", "apiVersion": "v1", "name": g,
                             "versions": [{"groupVersion": f"{g}/{v}", "version": v}],
                             "preferredVersion": {"groupVersion": f"{g}/{v}", "version": v}})
            return
        else:
            self._not_found()
            return
        if (group, version) in REVIEW_RESOURCES:
            if not rest:
                self._send(200, self._resource_list(group, version))
                return
            if self.command == "POST" and len(rest) == 1:
                self._review(user, group, version, rest[0])
                return
            self._not_found()
            return
        if not rest:
            if (group, version) not in [(g, v) for g, v, *_ in api.resources()]:
                self._not_found()
                return
            self._send(200, self._resource_list(group, version))
            return
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        plural = rest[0]
        name = rest[1] if len(rest) > 1 else None
        res = api.resource_for(group, version, plural)
        if res is None or len(rest) > 2:
            self._not_found()
            return
        if self.command != "GET":
            self._send(405, status_body(405, "MethodNotAllowed", f"the fake apiserver serves only GET on {plural}"))
            return
        verb = "get" if name else ("watch" if query.get("watch", ["false"])[0] in ("true", "1") else "list")
        self._list_or_get(user, res, namespace, name, verb, query)

    def _send_text(self, code: int, text: str) -> None:
        data = text.encode()
        self._status = code
        self._record()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _not_found(self) -> None:
        self._send(404, status_body(404, "NotFound", "the server could not find the requested resource",
                                    {}))

    def _resource_list(self, group: str, version: str) -> dict[str, Any]:
        resources: list[dict[str, Any]] = []
        if (group, version) in REVIEW_RESOURCES:
            for plural, kind in REVIEW_RESOURCES[(group, version)]:
                resources.append({"name": plural, "singularName": kind.lower(), "namespaced": False, "kind": kind,
                                  "verbs": ["create"]})
        for g, v, plural, kind, namespaced, short in self.api.resources():
            if g == group and v == version:
                entry: dict[str, Any] = {"name": plural, "singularName": kind.lower(), "namespaced": namespaced,
                                         "kind": kind, "verbs": _RW}
                if short:
                    entry["shortNames"] = list(short)
                resources.append(entry)
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": _api_version(group, version),
                "resources": resources}

    def _forbidden(self, user: UserInfo, verb: str, group: str, plural: str, namespace: str | None, name: str | None,
                   reason: str = "") -> None:
        scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        what = f'{plural} "{name}"' if name else plural
        msg = (f'{what} is forbidden: User "{user.username}" cannot {verb} resource "{plural}" in API group "{group}" '
               f"{scope}")
        if reason:
            msg += f": {reason}"
        details: dict[str, Any] = {"kind": plural}
        if name:
            details["name"] = name
        if group:
            details["group"] = group
        self._send(403, status_body(403, "Forbidden", msg, details))

    def _list_or_get(self, user: UserInfo, res: tuple[str, str, str, str, bool, tuple[str, ...]], namespace: str | None,
                     name: str | None, verb: str, query: dict[str, list[str]]) -> None:
        api = self.api
        group, version, plural, kind, namespaced, _ = res
        if namespace is not None and not namespaced:
            self._not_found()
            return
        qualified = f"{plural}.{group}" if group else plural
        if any((name_, namespace) in api.forbidden or (namespace is not None and (name_, "*") in api.forbidden)
               for name_ in (plural, qualified)):
            self._forbidden(user, verb, group, plural, namespace, name)
            return
        attrs = {"verb": verb, "group": group, "version": version, "resource": plural, "subresource": "",
                 "name": name or "", "namespace": namespace or "", "nonResource": False}
        decision = api.authorizer.authorize(user, attrs)
        if not decision.allowed:
            self._forbidden(user, verb, group, plural, namespace, name)
            return
        api_version = _api_version(group, version)
        with api._lock:
            items = [dict(o) for o in api.objects if o.get("kind") == kind
                     and (o.get("apiVersion", api_version).split("/")[0] == api_version.split("/")[0])]
        if namespaced and namespace is not None:
            items = [o for o in items if (o.get("metadata") or {}).get("namespace", "default") == namespace]
        for o in items:
            o.setdefault("apiVersion", api_version)
            o.setdefault("kind", kind)
        if name is not None:
            found = [o for o in items if (o.get("metadata") or {}).get("name") == name]
            if not found:
                self._send(404, status_body(404, "NotFound", f'{plural} "{name}" not found',
                                            {"name": name, "kind": plural, **({"group": group} if group else {})}))
                return
            self._send(200, found[0])
            return
        selector = (query.get("labelSelector") or [""])[0]
        if selector:
            items = [o for o in items if _match_labels((o.get("metadata") or {}).get("labels") or {}, selector)]
        self._send(200, {"kind": f"{kind}List", "apiVersion": api_version, "metadata": {"resourceVersion": "1"},
                         "items": items})

    # -- reviews ---------------------------------------------------------------------------------------------
    def _review(self, user: UserInfo, group: str, version: str, plural: str) -> None:
        api = self.api
        raw = self._body()
        ctype = (self.headers.get("Content-Type") or "").lower()
        if "protobuf" in ctype or raw.startswith(b"k8s\x00"):
            self._send(415, status_body(415, "UnsupportedMediaType",
                                        f'the body of the request was in an unknown format - accepted media types '
                                        f'include: application/json (got "{ctype}")'))
            return
        try:
            body = json.loads(raw or b"{}")  # the Python client sends no Content-Type: parse JSON whatever it says
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            self._send(400, status_body(400, "BadRequest", f"invalid JSON body: {exc}"))
            return
        meta = {"creationTimestamp": None}
        if plural == "selfsubjectreviews":
            info: dict[str, Any] = {"username": user.username, "groups": list(user.groups)}
            if user.uid:
                info["uid"] = user.uid
            if user.extra:
                info["extra"] = user.extra
            self._send(201, {"apiVersion": f"{group}/{version}", "kind": "SelfSubjectReview", "metadata": meta,
                             "status": {"userInfo": info}})
            return
        spec = body.get("spec")
        if not isinstance(spec, dict):
            self._send(400, status_body(400, "BadRequest", f"{plural}: spec is required"))
            return
        if plural == "selfsubjectaccessreviews":
            ra, nra = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
            if (ra is None) == (nra is None):
                self._send(422, status_body(422, "Invalid", 'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: '
                                            "spec.resourceAttributes: Invalid value: exactly one of "
                                            "nonResourceAttributes or resourceAttributes must be specified"))
                return
            attrs = dict(ra, nonResource=False) if isinstance(ra, dict) else dict(nra or {}, nonResource=True)
            d = api.authorizer.authorize(user, attrs)
            status: dict[str, Any] = {"allowed": bool(d.allowed)}
            if d.denied:
                status["denied"] = True
            if d.reason:
                status["reason"] = d.reason
            if d.evaluation_error:
                status["evaluationError"] = d.evaluation_error
            self._send(201, {"apiVersion": f"{group}/{version}", "kind": "SelfSubjectAccessReview", "metadata": meta,
                             "spec": spec, "status": status})
            return
        if plural == "selfsubjectrulesreviews":
            ns = spec.get("namespace") or ""
            rr = api.authorizer.rules(user, ns)
            status = {"resourceRules": rr.resource_rules, "nonResourceRules": rr.non_resource_rules,
                      "incomplete": bool(rr.incomplete)}
            if rr.evaluation_error:
                status["evaluationError"] = rr.evaluation_error
            self._send(201, {"apiVersion": f"{group}/{version}", "kind": "SelfSubjectRulesReview", "metadata": meta,
                             "spec": spec, "status": status})
            return
        self._not_found()
