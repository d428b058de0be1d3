"""A Snapshot from a live API server: list (paginated, per namespace when cluster-wide is forbidden), then decode.

LiveClient is the one HTTP client (the only class importing ``kubernetes``, lazily); the review and discovery
requests it also answers are in reviews.py.
Long because: connecting, listing with its gaps and the live-only mapping (pod owners, the CNI check) are the one job
of reading a live cluster, sharing one error handling.

Requests go through the ``kubernetes`` client's ApiClient (TLS, client certificates, tokens, exec plugins from the
kubeconfig) but responses are read as plain JSON: the same object shapes the manifests loader checks, and no
pydantic model validation of fields the engines never use. When the kubeconfig user is this plugin
(``kubectl-netsso get-token``), the bearer token comes in-process from ``kubectl_netsso.auth.credentials`` instead
of the client running us as a second process.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .. import log
from ..errors import EXIT_USAGE, NetssoError
from . import policykinds
from .decode import SnapshotBuilder
from .kubeconfig import KubeContext, effective_namespace, resolve_context
from .reviews import APIStatusError, Reviews, as_object
from .snapshot import Gap, Snapshot, Workload

if TYPE_CHECKING:  # the kubernetes client is imported on the first request
    from kubernetes.client import ApiClient

    from .target import KubeOptions

__all__ = [
    "PARTS",
    "LiveClient",
    "load_snapshot",
    "cni_from_daemonsets",
    "cni_warning_from_daemonsets",
]

PARTS = frozenset({"network", "rbac"})
_TIMEOUT = (10.0, 60.0)  # (connect, read) seconds
_PAGE = 500  # kubectl's chunk size



# resource -> (API path prefix, kind, apiVersion, namespaced)
_RESOURCES: dict[str, tuple[str, str, str, bool]] = {
    "namespaces": ("/api/v1", "Namespace", "v1", False),
    "nodes": ("/api/v1", "Node", "v1", False),
    "pods": ("/api/v1", "Pod", "v1", True),
    "services": ("/api/v1", "Service", "v1", True),
    "serviceaccounts": ("/api/v1", "ServiceAccount", "v1", True),
    "replicasets": ("/apis/apps/v1", "ReplicaSet", "apps/v1", True),
    "daemonsets": ("/apis/apps/v1", "DaemonSet", "apps/v1", True),
    "jobs": ("/apis/batch/v1", "Job", "batch/v1", True),
    "networkpolicies": ("/apis/networking.k8s.io/v1", "NetworkPolicy", "networking.k8s.io/v1", True),
    "adminnetworkpolicies": (
        "/apis/policy.networking.k8s.io/v1alpha1",
        "AdminNetworkPolicy",
        "policy.networking.k8s.io/v1alpha1",
        False,
    ),
    "baselineadminnetworkpolicies": (
        "/apis/policy.networking.k8s.io/v1alpha1",
        "BaselineAdminNetworkPolicy",
        "policy.networking.k8s.io/v1alpha1",
        False,
    ),
    "roles": ("/apis/rbac.authorization.k8s.io/v1", "Role", "rbac.authorization.k8s.io/v1", True),
    "rolebindings": ("/apis/rbac.authorization.k8s.io/v1", "RoleBinding", "rbac.authorization.k8s.io/v1", True),
    "clusterroles": ("/apis/rbac.authorization.k8s.io/v1", "ClusterRole", "rbac.authorization.k8s.io/v1", False),
    "clusterrolebindings": (
        "/apis/rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        "rbac.authorization.k8s.io/v1",
        False,
    ),
}


class LiveClient(Reviews):
    """One API server connection for the kubeconfig context in ``kube``, impersonating --as/--as-group.

    Nothing is contacted until the first request. ``interactive`` (default: stdin is a terminal) is passed to the
    in-process token helper when the kubeconfig user is this plugin.
    """

    def __init__(self, kube: KubeOptions, interactive: bool | None = None, timeout: tuple[float, float] = _TIMEOUT) -> None:
        self.kube = kube
        self.context: KubeContext = resolve_context(kube.kubeconfig, kube.context)
        self.namespace = effective_namespace(kube.namespace, self.context)
        self.interactive = _stdin_is_tty() if interactive is None else interactive
        self.timeout = timeout
        if kube.as_groups and not kube.as_user:
            raise NetssoError("--as-group needs --as (impersonating groups without a user is not allowed)", exit_code=EXIT_USAGE)
        self._api: ApiClient | None = None
        self._namespaces_complete = False  # whether the last snapshot could list all namespaces
        # resources found by discovery (policy CRDs): "plural.group" -> (API path prefix, kind, apiVersion, namespaced)
        self._discovered: dict[str, tuple[str, str, str, bool]] = {}

    # -- connection ----------------------------------------------------------------------------------------------
    @property
    def server(self) -> str:
        return self.context.server or "(no server)"

    @property
    def api(self) -> ApiClient:
        if self._api is None:
            self._api = self._build_api()
        return self._api

    def _build_api(self) -> ApiClient:
        from kubernetes import config as kconfig
        from kubernetes.client import ApiClient, Configuration

        ctx = self.context
        if not ctx.server:
            raise NetssoError(f'context "{ctx.name}": cluster "{ctx.cluster_name}" has no server')
        user_override = None
        if ctx.user_is_netsso:
            token = _netsso_token(ctx, self.interactive, self.kube.command or None)
            log.register_secret(token)
            user_override = {k: v for k, v in ctx.user.items() if k not in ("exec", "auth-provider", "token", "tokenFile")}
            user_override["token"] = token
        configuration = Configuration()
        try:
            kconfig.load_kube_config_from_dict(
                ctx.client_config(user_override),
                context=ctx.name,
                client_configuration=configuration,
                persist_config=False,
            )
        except (kconfig.ConfigException, OSError, ValueError) as exc:
            raise NetssoError(f'kubeconfig context "{ctx.name}": {log.redact(str(exc))}') from exc
        # urllib3's default is 3 retries: with the 10 s connect timeout an unreachable server would take 40 s to report.
        configuration.retries = 1
        if not configuration.verify_ssl:
            # insecure-skip-tls-verify: the user chose it in the kubeconfig; kubectl does not warn per request either.
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            log.debug(f'context "{ctx.name}": TLS verification is off (insecure-skip-tls-verify)')
        return ApiClient(configuration)

    def request(self, method: str, path: str, query: Sequence[tuple[str, Any]] = (), body: Any = None) -> Any:
        """One API request; returns the parsed JSON. 401/TLS/unreachable -> NetssoError; other statuses -> APIStatusError."""
        from kubernetes.client.exceptions import ApiException
        from urllib3 import HTTPHeaderDict
        from urllib3.exceptions import HTTPError

        api = self.api
        headers: dict[str, str] = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        method, url, hdrs, body, _ = api.param_serialize(
            method=method,
            resource_path=path,
            query_params=list(query) or None,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        all_headers = HTTPHeaderDict(hdrs)
        if self.kube.as_user:
            # Impersonation: "Impersonate-User" and one "Impersonate-Group" header per group (User impersonation docs).
            all_headers["Impersonate-User"] = self.kube.as_user
            for group in self.kube.as_groups:
                all_headers.add("Impersonate-Group", group)
        log.debug(f"{method} {url}", at=2)
        try:
            resp = api.rest_client.request(method, url, headers=all_headers, body=body, _request_timeout=self.timeout)
            data = resp.read()
        except ApiException as exc:  # the client wraps TLS errors as status 0
            raise self._connection_error(str(exc.reason or exc)) from exc
        except HTTPError as exc:
            raise self._connection_error(str(getattr(exc, "reason", None) or exc)) from exc
        except OSError as exc:
            raise self._connection_error(str(exc)) from exc
        status = resp.status
        log.debug(f"{method} {path} -> {status}", at=2)
        if 200 <= status < 300:
            try:
                return json.loads(data or b"null")
            except ValueError as exc:
                raise NetssoError(f"{method} {path}: the API server sent a response that is not JSON") from exc
        message = _status_message(data) or (resp.reason or "")
        if status == 401:
            hint = "run: kubectl netsso login" if self.context.user_is_netsso else "check the credentials of your kubeconfig user"
            raise NetssoError(f"{self.server}: 401 Unauthorized: the API server did not accept the credentials", hint=hint)
        raise APIStatusError(status, message or f"HTTP {status}")

    def _connection_error(self, detail: str) -> NetssoError:
        detail = log.redact(detail.strip().splitlines()[-1] if detail.strip() else detail)
        errno = re.search(r"\[Errno -?\d+\] ([^)'\"\]]+)", detail)
        if errno:  # "HTTPSConnection(host=..., port=1): Failed to establish ... [Errno 111] Connection refused"
            detail = errno.group(1).strip().lower()
        elif "timed out" in detail.lower():
            detail = "timed out"
        lowered = detail.lower()
        if "certificate" in lowered or "ssl" in lowered or "tls" in lowered:
            return NetssoError(
                f"{self.server}: TLS error: {detail}",
                hint="check certificate-authority / certificate-authority-data of the cluster in your kubeconfig",
            )
        return NetssoError(
            f"{self.server}: API server unreachable: {detail}",
            hint=f'check the server of context "{self.context.name}", your network or VPN',
        )

    # -- CNI check -------------------------------------------------------------------------------------------------
    def cni_warning(self) -> str | None:
        """A warning when the cluster's CNI is known not to enforce NetworkPolicy, else None (also when unknown).

        Looks at DaemonSets cluster-wide (flannel's manifest uses namespace kube-flannel), else in kube-system.
        """
        items = self._daemonsets()
        return None if items is None else cni_warning_from_daemonsets(items)

    def cni_check(self) -> tuple[str | None, str | None]:
        """(the warning of cni_warning, the policy CNI: "calico" / "cilium" / None) from one DaemonSet list."""
        items = self._daemonsets()
        if items is None:
            return None, None
        return cni_warning_from_daemonsets(items), cni_from_daemonsets(items)

    def _daemonsets(self) -> list[dict[str, Any]] | None:
        try:
            return self._list("daemonsets", None)
        except APIStatusError:
            try:
                return self._list("daemonsets", "kube-system")
            except APIStatusError as exc:
                log.debug(f"CNI check skipped: cannot list daemonsets ({exc.status} {exc.message})")
                return None

    # -- lists ---------------------------------------------------------------------------------------------------
    def _list(self, resource: str, namespace: str | None) -> list[dict[str, Any]]:
        """All items of a list (paginated); namespace None = cluster-wide. APIStatusError on 403/404/...."""
        discovered: dict[str, tuple[str, str, str, bool]] = getattr(self, "_discovered", {})
        prefix, kind, api_version, namespaced = discovered.get(resource) or _RESOURCES[resource]
        plural = resource.split(".", 1)[0]
        path = f"{prefix}/namespaces/{namespace}/{plural}" if namespace and namespaced else f"{prefix}/{plural}"
        items: list[dict[str, Any]] = []
        token = ""
        while True:
            query: list[tuple[str, Any]] = [("limit", _PAGE)]
            if token:
                query.append(("continue", token))
            obj = as_object(self.request("GET", path, query=query))
            for item in obj.get("items") or []:
                if isinstance(item, dict):
                    # List items from the API carry no kind/apiVersion; the loader needs them.
                    item.setdefault("apiVersion", api_version)
                    item.setdefault("kind", kind)
                    items.append(item)
            token = str(as_object(obj.get("metadata")).get("continue") or "")
            if not token:
                return items

    def _collect(
        self, resource: str, namespaces: Sequence[str] | None, known: Sequence[str], gaps: list[Gap]
    ) -> list[dict[str, Any]]:
        """Items of a namespaced resource in scope: cluster-wide list first, then per namespace when forbidden."""
        try:
            items = self._list(resource, None)
        except APIStatusError as exc:
            if exc.status == 404:
                return []
            if exc.status != 403:
                raise NetssoError(f"{self.server}: listing {resource} failed: {exc.status} {exc.message}") from exc
            log.debug(f"cluster-wide list of {resource} forbidden; listing per namespace")
        else:
            if namespaces is None:
                return items
            wanted = set(namespaces)
            return [i for i in items if as_object(i.get("metadata")).get("namespace") in wanted]
        targets = list(namespaces if namespaces is not None else known)

        def one(ns: str) -> tuple[str, list[dict[str, Any]] | APIStatusError]:
            try:
                return ns, self._list(resource, ns)
            except APIStatusError as exc:
                return ns, exc

        out: list[dict[str, Any]] = []
        with ThreadPoolExecutor(max_workers=min(8, max(1, len(targets)))) as pool:
            for ns, result in pool.map(one, targets):
                if isinstance(result, list):
                    out.extend(result)
                elif result.status == 403:
                    gaps.append(Gap(resource=resource, namespace=ns, reason=_reason(result)))
                elif result.status != 404:
                    raise NetssoError(f"{self.server}: listing {resource} in {ns} failed: {result.status} {result.message}")
        if namespaces is None and not self._namespaces_complete:
            # Neither a cluster-wide list nor the namespace list: other namespaces may hold more of this resource.
            gaps.append(
                Gap(
                    resource=resource,
                    namespace=None,
                    reason=f"forbidden cluster-wide, and namespaces cannot be listed: only {', '.join(targets)} read",
                )
            )
        return out

    def _cluster_scoped(self, resource: str, gaps: list[Gap]) -> list[dict[str, Any]]:
        try:
            return self._list(resource, None)
        except APIStatusError as exc:
            if exc.status not in (403, 404):
                raise NetssoError(f"{self.server}: listing {resource} failed: {exc.status} {exc.message}") from exc
            gaps.append(Gap(resource=resource, namespace=None, reason=_reason(exc)))
            return []

    def _nodes(self, gaps: list[Gap]) -> list[dict[str, Any]]:
        """Node objects; 403 is a gap (the node rule then knows only the pods' hostIPs), 404 means none served."""
        try:
            return self._list("nodes", None)
        except APIStatusError as exc:
            if exc.status == 404:
                return []
            if exc.status != 403:
                raise NetssoError(f"{self.server}: listing nodes failed: {exc.status} {exc.message}") from exc
            gaps.append(Gap(resource="nodes", namespace=None, reason=_reason(exc)))
            return []

    def _namespaces(self, namespaces: Sequence[str] | None, gaps: list[Gap]) -> list[dict[str, Any]]:
        try:
            items = self._list("namespaces", None)
            self._namespaces_complete = True
            return items
        except APIStatusError as exc:
            if exc.status != 403:
                raise NetssoError(f"{self.server}: listing namespaces failed: {exc.status} {exc.message}") from exc
            gaps.append(Gap(resource="namespaces", namespace=None, reason=_reason(exc)))
        found = []
        for ns in namespaces if namespaces is not None else [self.namespace]:
            try:
                obj = as_object(self.request("GET", f"/api/v1/namespaces/{ns}"))
                obj.setdefault("apiVersion", "v1")
                obj.setdefault("kind", "Namespace")
                found.append(obj)
            except APIStatusError as exc:
                if exc.status != 404:  # 404: no such namespace, nothing to miss
                    gaps.append(Gap(resource="namespaces", namespace=ns, reason=_reason(exc)))
        return found

    # -- the snapshot ----------------------------------------------------------------------------------------------
    def snapshot(self, namespaces: Sequence[str] | None = None, parts: Collection[str] = PARTS) -> Snapshot:
        """See load_snapshot."""
        unknown = set(parts) - PARTS
        if unknown:
            raise ValueError(f"unknown snapshot parts: {sorted(unknown)}")
        gaps: list[Gap] = []
        self._namespaces_complete = False
        _ = self.api  # build the client (and get the token) once, before any threads
        ns_items = self._namespaces(namespaces, gaps)
        known = [str(as_object(n.get("metadata")).get("name")) for n in ns_items if as_object(n.get("metadata")).get("name")]
        if namespaces is None and not known:
            known = [self.namespace]
        objects: list[tuple[str, dict[str, Any]]] = [("live namespaces", n) for n in ns_items]
        owners: dict[tuple[str, str, str], str] = {}
        if "network" in parts:
            pods = [p for p in self._collect("pods", namespaces, known, gaps) if _pod_is_live(p)]
            objects += [("live pods", p) for p in pods]
            objects += [("live services", s) for s in self._collect("services", namespaces, known, gaps)]
            objects += [("live networkpolicies", p) for p in self._collect("networkpolicies", namespaces, known, gaps)]
            # node addresses: a pod and its own node always talk; a 403 is a gap (pods' hostIPs still say much)
            objects += [("live nodes", n) for n in self._nodes(gaps)]
            if self._anp_available(gaps):
                for resource in ("adminnetworkpolicies", "baselineadminnetworkpolicies"):
                    objects += [(f"live {resource}", p) for p in self._cluster_scoped(resource, gaps)]
            # every other policy-like kind the cluster serves (CNIs' CRDs, Istio's, newer versions): never ignored
            policy_keys = self._policy_resources(gaps)
            for key, namespaced in policy_keys:
                items = self._collect(key, namespaces, known, gaps) if namespaced else self._cluster_scoped(key, gaps)
                objects += [(f"live {key}", p) for p in items]
            if any("projectcalico.org" in key for key, _ in policy_keys):
                # Calico selects pods by their service account's labels (serviceAccountSelector)
                objects += [("live serviceaccounts", o) for o in self._collect("serviceaccounts", namespaces, known, gaps)]
            for child, (resource, parent) in _GRANDPARENTS.items():
                if any(_controller(p)[0] == child for p in pods):
                    owners.update(self._parent_owners(resource, parent, namespaces, known))
        if "rbac" in parts:
            for resource in ("roles", "rolebindings"):
                objects += [(f"live {resource}", o) for o in self._collect(resource, namespaces, known, gaps)]
            for resource in ("clusterroles", "clusterrolebindings"):
                objects += [(f"live {resource}", o) for o in self._cluster_scoped(resource, gaps)]
        return _snapshot_from_live(objects, owners, gaps, source=f"live: context {self.context.name}")

    def _policy_resources(self, gaps: list[Gap]) -> list[tuple[str, bool]]:
        """("plural.group", namespaced) of every served policy-like kind besides NetworkPolicy/ANP/BANP, found by
        discovery of the API groups that may hold them; each is read at a version this tool decodes when the group
        serves one, else at its preferred version (and then left unevaluated: fail closed)."""
        try:
            groups = self._api_groups()
        except APIStatusError as exc:
            gaps.append(Gap(resource=policykinds.DISCOVERY, namespace=None, reason=f"API discovery failed: {_reason(exc)}"))
            return []
        found: list[tuple[str, bool]] = []
        self._discovered = getattr(self, "_discovered", {})
        for name, group in groups.items():
            if not policykinds.may_hold_policies(name):
                continue
            versions = [str(as_object(v).get("version")) for v in group.get("versions") or [] if as_object(v).get("version")]
            preferred = as_object(group.get("preferredVersion")).get("version") or (versions[0] if versions else None)
            if preferred in versions:
                versions.remove(preferred)
            kinds: dict[str, tuple[str, str, bool]] = {}  # kind -> (version, plural, namespaced)
            for version in ([preferred] if preferred else []) + versions:
                try:
                    listing = as_object(self.request("GET", f"/apis/{name}/{version}"))
                except APIStatusError as exc:
                    gaps.append(Gap(resource=f"{name}/{version}", namespace=None, reason=f"API discovery failed: {_reason(exc)}"))
                    continue
                for r in (as_object(x) for x in listing.get("resources") or []):
                    plural, kind = str(r.get("name") or ""), str(r.get("kind") or "")
                    pk = policykinds.lookup(name, kind)
                    if not plural or "/" in plural or pk is None or pk.engine == "k8s":
                        continue
                    if kind not in kinds or version in pk.versions:
                        kinds[kind] = (version, plural, bool(r.get("namespaced")))
            for kind, (version, plural, namespaced) in kinds.items():
                key = f"{plural}.{name}"
                self._discovered[key] = (f"/apis/{name}/{version}", kind, f"{name}/{version}", namespaced)
                found.append((key, namespaced))
        if any(k.endswith(".projectcalico.org") and not k.endswith(".crd.projectcalico.org") for k, _ in found):
            # Calico's API server serves projectcalico.org/v3 from what it stores as crd.projectcalico.org/v1: the
            # same objects twice; read them once, in the API clients are meant to use.
            found = [(k, ns) for k, ns in found if not k.endswith(".crd.projectcalico.org")]
        return found

    def _anp_available(self, gaps: list[Gap]) -> bool:
        try:
            return self.has_admin_network_policies()
        except APIStatusError as exc:
            for resource in ("adminnetworkpolicies", "baselineadminnetworkpolicies"):
                gaps.append(Gap(resource=resource, namespace=None, reason=f"API discovery failed: {_reason(exc)}"))
            return False

    def _parent_owners(
        self, resource: str, parent: str, namespaces: Sequence[str] | None, known: Sequence[str]
    ) -> dict[tuple[str, str, str], str]:
        """(kind, namespace, name) -> "PARENT/NAME" for ReplicaSets (Jobs) controlled by a Deployment (CronJob)."""
        scratch: list[Gap] = []  # not being able to list them only loses the grouping by the higher owner
        kind = _RESOURCES[resource][1]
        owners = {}
        for obj in self._collect(resource, namespaces, known, scratch):
            meta = as_object(obj.get("metadata"))
            owner_kind, owner_name = _controller(obj)
            if owner_kind == parent and owner_name:
                owners[(kind, str(meta.get("namespace")), str(meta.get("name")))] = f"{parent}/{owner_name}"
        if scratch:
            log.debug(f"{resource} not listable in {len(scratch)} namespace(s): their pods are grouped by {kind} there")
        return owners


def load_snapshot(
    kube: KubeOptions,
    namespaces: Sequence[str] | None = None,
    parts: Collection[str] = PARTS,
    client: LiveClient | None = None,
) -> Snapshot:
    """A Snapshot of the live cluster of the kubeconfig context in ``kube``.

    ``namespaces``: None = all namespaces, else only objects of these namespaces (Namespaces themselves are always
    listed cluster-wide when allowed, for namespaceSelectors). ``parts``: "network" = Pods (Succeeded/Failed pods
    left out: they hold no IP), Services, NetworkPolicies, Nodes (for their addresses), AdminNetworkPolicies and
    BaselineAdminNetworkPolicies when
    policy.networking.k8s.io/v1alpha1 is served; "rbac" = Roles, RoleBindings, ClusterRoles, ClusterRoleBindings.

    A list the user may not read (403) becomes a ``Gap(resource, namespace, reason)`` (cluster-wide list tried first,
    then each namespace), never an error. Pods carry ``owner``: "Deployment/NAME" through their ReplicaSet when
    ReplicaSets are listable (else "ReplicaSet/NAME"), "CronJob/NAME" through their Job when Jobs are listable (else
    "Job/NAME"), or the controller itself ("StatefulSet/NAME", "DaemonSet/NAME", ...).
    401, TLS errors and an unreachable server raise NetssoError.
    """
    return (client or LiveClient(kube)).snapshot(namespaces, parts)


# ---------------------------------------------------------------------------------------------------------------
# Mapping API objects to the snapshot (pure, testable on recorded dicts)


def _snapshot_from_live(
    objects: Iterable[tuple[str, dict[str, Any]]],
    owners: Mapping[tuple[str, str, str], str],
    gaps: Sequence[Gap],
    source: str,
) -> Snapshot:
    """The manifests loader's checks and records, applied to API objects; plus pod owners. Bad objects are skipped
    with a warning (the builder's live mode)."""
    builder = SnapshotBuilder(live=True)
    pod_owner: dict[tuple[str, str], str] = {}
    for where, obj in objects:
        meta = as_object(obj.get("metadata"))
        builder.add_document(where, obj)
        if obj.get("kind") == "Pod":
            kind, name = _controller(obj)
            if kind:
                owner = owners.get((kind, str(meta.get("namespace")), name), f"{kind}/{name}")
                pod_owner[(str(meta.get("namespace")), str(meta.get("name")))] = owner
    snap = builder.build(source)
    workloads = tuple(_with_owner(w, pod_owner) for w in snap.workloads)
    return replace(snap, workloads=workloads, gaps=tuple(gaps))


# A pod's controller -> (the resource to list it, the kind that controls it in turn): pods are grouped by the workload
# people name (Deployment api, CronJob nightly), not by the generated ReplicaSet api-7d9 or Job nightly-28912345.
_GRANDPARENTS = {"ReplicaSet": ("replicasets", "Deployment"), "Job": ("jobs", "CronJob")}


def _with_owner(w: Workload, owners: Mapping[tuple[str, str], str]) -> Workload:
    owner = owners.get((w.namespace, w.name)) if w.kind == "Pod" else None
    return replace(w, owner=owner, source="live")


def _controller(obj: Mapping[str, Any]) -> tuple[str, str]:
    """(kind, name) of the controlling ownerReference (controller: true), else of the first one, else ("", "")."""
    refs = [r for r in (as_object(x) for x in as_object(obj.get("metadata")).get("ownerReferences") or []) if r.get("kind")]
    if not refs:
        return "", ""
    ref = next((r for r in refs if r.get("controller")), refs[0])
    return str(ref.get("kind")), str(ref.get("name") or "")


def _pod_is_live(pod: Mapping[str, Any]) -> bool:
    # "Succeeded"/"Failed": all containers terminated; the pod has released its IP and receives no traffic.
    return as_object(pod.get("status")).get("phase") not in ("Succeeded", "Failed")


# CNI detection: a small table, matched against DaemonSet names, container names and images.
# Known not to enforce NetworkPolicy by itself: flannel ("Flannel is focused on networking. For network policy,
# other projects such as Calico can be used", flannel README).
_NON_ENFORCING = ("flannel",)
# Agents that do enforce NetworkPolicy; canal = flannel + calico's policy agent, so flannel next to one is fine.
_ENFORCING = (
    "calico",
    "cilium",
    "weave",
    "kube-router",
    "antrea",
    "canal",
    "kube-network-policies",
    "azure-npm",
    "ovnkube",
    "network-policy-agent",  # aws-network-policy-agent
)


def _daemonset_words(ds: Mapping[str, Any]) -> str:
    meta = as_object(ds.get("metadata"))
    spec = as_object(as_object(as_object(ds.get("spec")).get("template")).get("spec"))
    words = [str(meta.get("name") or "")]
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or []:
            c = as_object(c)
            words += [str(c.get("name") or ""), str(c.get("image") or "")]
    return " ".join(words).lower()


def cni_from_daemonsets(daemonsets: Iterable[Mapping[str, Any]]) -> str | None:
    """Which CNI's policy agent runs: "calico" (calico-node; canal is flannel plus Calico's policy agent) or "cilium";
    None when neither, or both (e.g. Cilium chained on another CNI: pass --cni)."""
    found = set()
    for ds in daemonsets:
        text = _daemonset_words(ds)
        if "calico" in text or "canal" in text:
            found.add("calico")
        if "cilium" in text:
            found.add("cilium")
    return found.pop() if len(found) == 1 else None


def cni_warning_from_daemonsets(daemonsets: Iterable[Mapping[str, Any]]) -> str | None:
    """The warning for a list of DaemonSet objects (pure; see LiveClient.cni_warning)."""
    found_non: list[str] = []
    found_enf: list[str] = []
    for ds in daemonsets:
        meta = as_object(ds.get("metadata"))
        ref = f"{meta.get('namespace', '?')}/{meta.get('name', '?')}"
        spec = as_object(as_object(as_object(ds.get("spec")).get("template")).get("spec"))
        words = [str(meta.get("name") or "")]
        for key in ("containers", "initContainers"):
            for c in spec.get(key) or []:
                c = as_object(c)
                words += [str(c.get("name") or ""), str(c.get("image") or "")]
        text = " ".join(words).lower()
        if any(token in text for token in _ENFORCING):
            found_enf.append(ref)
        elif any(token in text for token in _NON_ENFORCING):
            found_non.append(ref)
    if found_non and not found_enf:
        return (
            f"the cluster's CNI looks like flannel (DaemonSet {', '.join(found_non)}) with no NetworkPolicy agent "
            "(calico, cilium, weave, kube-router, antrea, ...): NetworkPolicies are probably NOT enforced"
        )
    return None


# ---------------------------------------------------------------------------------------------------------------
# small helpers


def _netsso_token(ctx: KubeContext, interactive: bool, caller: str | None = None) -> str:
    """The ID token from this plugin's own cache/refresh/login (kubectl_netsso.auth), without a second process."""
    from ..auth.credentials import get_token
    from ..auth.settings import ProviderSettings, SettingsError

    assert ctx.exec is not None
    try:
        settings = ProviderSettings.from_exec_args(list(ctx.exec.netsso_args), ctx.exec.process_env())
    except SettingsError as exc:
        raise NetssoError(f'kubeconfig user "{ctx.user_name}": kubectl-netsso get-token arguments: {exc}') from exc
    # caller: the hint for a login that needs a terminal names the command the user ran, not kubectl
    tokens = get_token(settings, interactive=interactive, caller=caller)
    return str(tokens.id_token)


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


def _status_message(data: bytes | None) -> str:
    try:
        obj = json.loads(data or b"")
    except ValueError:
        return ""
    return str(as_object(obj).get("message") or "")


def _reason(exc: APIStatusError) -> str:
    label = {403: "forbidden", 404: "not found"}.get(exc.status, f"HTTP {exc.status}")
    return f"{label}: {exc.message}" if exc.message else label
