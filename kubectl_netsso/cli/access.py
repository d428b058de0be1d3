"""Identity x network commands: reach, audit, report, policy. Parse -> call the access engine -> render; no logic."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from ..errors import EXIT_ERROR, NetssoError
from .options import KubeOptions, kube_options, manifests_option, output_option  # noqa: F401

if TYPE_CHECKING:
    from ..cluster.snapshot import Snapshot
    from ..netpol.endpoints import Endpoint


# --- shared helpers ----------------------------------------------------------------------------------------------


def load_snapshot(kube: KubeOptions, manifests: Sequence[str], parts: set[str] | None = None) -> Snapshot:
    """The snapshot from --manifests (offline) or the live cluster (namespaces per -n/-A)."""
    parts = parts or {"network", "rbac"}
    if manifests:
        from ..cluster.manifests import load_snapshot as load_manifests

        return load_manifests(list(manifests))
    live: Any = importlib.import_module("kubectl_netsso.cluster.live")
    namespaces: list[str] | None = None
    if not kube.all_namespaces:
        namespaces = [current_namespace(kube)]
    return live.load_snapshot(kube, namespaces, parts=parts)


def current_namespace(kube: KubeOptions) -> str:
    """-n, else the kubeconfig context's namespace, else "default" (kubectl's rule)."""
    if kube.namespace:
        return kube.namespace
    try:
        kubeconfig: Any = importlib.import_module("kubectl_netsso.cluster.kubeconfig")
        ns = kubeconfig.current_namespace(kube)
        if ns:
            return str(ns)
    except (ImportError, AttributeError, NetssoError, OSError):
        pass
    return "default"


def _usage(message: str, hint: str | None = None) -> NetssoError:
    return NetssoError(message, hint=hint, exit_code=EXIT_ERROR)


# --- policy ------------------------------------------------------------------------------------------------------


@click.group("policy")
def policy() -> None:
    """Print ready-to-apply NetworkPolicy YAML: deny everything first, then open only the flows you need.

    \b
    kubectl netsso policy default-deny -n shop --allow-dns | kubectl apply -f -
    kubectl netsso policy allow frontend/deploy/web shop/svc/api --port 80 --manifests examples/shop
    """


@policy.command("default-deny")
@click.option("-n", "--namespace", metavar="NS", help="Namespace of the policies (default: the context's, else 'default').")
@click.option("--allow-dns", is_flag=True,
              help="Also allow egress to the cluster DNS (kube-system k8s-app=kube-dns, 53/UDP+TCP).")
@click.option("--context", metavar="NAME", hidden=True)
@click.option("--kubeconfig", metavar="PATH", hidden=True)
def default_deny_cmd(namespace: str | None, allow_dns: bool, context: str | None, kubeconfig: str | None) -> None:
    """Deny all ingress and egress for every pod of a namespace."""
    from ..netpol import generate

    kube = KubeOptions(
        kubeconfig=kubeconfig, context=context, namespace=namespace, all_namespaces=False, as_user=None, as_groups=()
    )
    ns = current_namespace(kube)
    click.echo(generate.to_yaml(generate.default_deny(ns, allow_dns=allow_dns)), nl=False)


@policy.command("allow")
@click.argument("source", metavar="FROM")
@click.argument("destination", metavar="TO")
@click.option("--port", "port_text", metavar="PORT", help="Port number or name (the Service port when TO is a Service).")
@click.option("--protocol", type=click.Choice(["TCP", "UDP", "SCTP"], case_sensitive=False), default="TCP", show_default=True)
@click.option("--side", type=click.Choice(["both", "ingress", "egress"]), default="both", show_default=True,
              help="Which policies to print: the destination's ingress, the source's egress, or both.")
@manifests_option
@kube_options
def allow_cmd(
    kube: KubeOptions,
    manifests: tuple[str, ...],
    source: str,
    destination: str,
    port_text: str | None,
    protocol: str,
    side: str,
) -> None:
    """Minimal NetworkPolicies that allow FROM -> TO on one port (endpoint syntax as in can-reach).

    FROM/TO: NAME, TYPE/NAME, NS/NAME, NS/TYPE/NAME (TYPE: pod, deploy, sts, ds, job, cronjob, svc) or ip:ADDRESS.
    A Service as TO stands for its backing pods on the Service port's targetPort.
    """
    from ..netpol import endpoints, generate

    port = endpoints.parse_port(port_text)
    protocol = protocol.upper()
    snap = load_snapshot(kube, manifests, parts={"network"})
    ns = current_namespace(kube)
    src = endpoints.resolve_endpoint(snap, source, ns, role="source")
    dst = endpoints.resolve_endpoint(snap, destination, ns, role="destination")
    if src.is_external and dst.is_external:
        raise _usage(
            "both FROM and TO are outside the cluster: no NetworkPolicy applies",
            hint="one end must be a pod, workload or Service",
        )
    dst_port: int | str | None = port
    if dst.service is not None:
        sp = endpoints.service_port(dst.service, port, protocol)
        # Policies see the pod port after the Service DNAT: the targetPort (a name is resolved on each pod by the API).
        dst_port = sp.target_port if not (isinstance(sp.target_port, str) and sp.target_port.isdigit()) else int(sp.target_port)
        protocol = sp.protocol.upper()
    sides = ("ingress", "egress") if side == "both" else (side,)
    objs = generate.allow_flow(
        src.namespace,
        selector_labels(snap, src),
        dst.namespace,
        selector_labels(snap, dst),
        dst_port,
        protocol,
        src_external_cidr=src.ip if src.is_external else None,
        sides=sides,
        dst_external_cidr=dst.ip if dst.is_external else None,
    )
    if not objs:
        raise _usage(f"no policy to print for --side {side} with {src.ref} -> {dst.ref}")
    click.echo(generate.to_yaml(objs), nl=False)


# Labels that identify an app, in the order kubectl/helm conventions use them; hashes are per-revision noise.
_PREFERRED_KEYS = ("app.kubernetes.io/name", "app", "k8s-app", "name", "app.kubernetes.io/instance", "component")
_NOISE_KEYS = ("pod-template-hash", "controller-revision-hash", "statefulset.kubernetes.io/pod-name",
               "batch.kubernetes.io/controller-uid", "controller-uid", "job-name", "batch.kubernetes.io/job-name")


def selector_labels(snapshot: Snapshot, endpoint: Endpoint) -> dict[str, str] | None:
    """The smallest label set that selects exactly the endpoint's pods in its namespace (for a generated policy).

    Services use their selector; hypothetical pods their labels; workloads the labels all their pods share,
    reduced to one identifying label when one is unique in the namespace.
    """
    if endpoint.is_external:
        return None
    if endpoint.service is not None and endpoint.service.selector:
        return dict(endpoint.service.selector)
    pods = endpoint.workloads
    if not pods:
        return {}
    common: dict[str, str] = {k: v for k, v in pods[0].labels.items() if k not in _NOISE_KEYS}
    for w in pods[1:]:
        common = {k: v for k, v in common.items() if w.labels.get(k) == v}
    if endpoint.kind == "selector" or not common:
        return common
    mine = {id(w) for w in pods}
    others = [w for w in snapshot.workloads if w.namespace == endpoint.namespace and id(w) not in mine]
    keys = [k for k in _PREFERRED_KEYS if k in common] + sorted(k for k in common if k not in _PREFERRED_KEYS)
    for key in keys:
        if not any(o.labels.get(key) == common[key] for o in others):
            return {key: common[key]}
    return common


def _labels_text(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "(all pods)"
