"""Shared option bundles: kube (kubeconfig, context, namespace, impersonation), output, manifests.

The kube bundle builds a cluster.target.KubeOptions (re-exported here for callers that build one by hand).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..cluster.target import KubeOptions
from . import completion

F = TypeVar("F", bound=Callable[..., Any])


NAMESPACE_HELP = "Namespace (default: the context's, else 'default')."
# reach, audit and report: without -n, offline covers the whole folder (their -n help must say so)
SCOPE_NAMESPACE_HELP = (
    "Namespace in scope (default: offline every namespace of the manifests; live the context's, else 'default')."
)


def kube_options_for(
    *, namespace: bool = True, all_namespaces: bool = True, impersonation: bool = True, namespace_help: str = NAMESPACE_HELP
) -> Callable[[F], F]:
    """The kube option bundle with only the flags a command uses (a flag it would ignore is not offered)."""

    def decorate(func: F) -> F:
        opts = [
            click.option(
                "--kubeconfig",
                metavar="PATH",
                type=click.Path(),
                help="Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config).",
            ),
            click.option("--context", metavar="NAME", help="The kubeconfig context to use."),
        ]
        if namespace:
            opts.append(click.option("-n", "--namespace", metavar="NS", help=namespace_help))
        if all_namespaces:
            opts.append(click.option("-A", "--all-namespaces", is_flag=True, help="All namespaces."))
        if impersonation:
            opts += [
                click.option(
                    "--as", "as_user", metavar="USER", help="Act as this user (impersonation live; the identity offline)."
                ),
                click.option("--as-group", "as_groups", metavar="GROUP", multiple=True, help="Act as this group (repeatable)."),
            ]

        def wrapper(**kwargs: Any) -> Any:
            kube = KubeOptions(
                kubeconfig=kwargs.pop("kubeconfig"),
                context=kwargs.pop("context"),
                namespace=kwargs.pop("namespace", None),
                all_namespaces=kwargs.pop("all_namespaces", False),
                as_user=kwargs.pop("as_user", None),
                as_groups=tuple(kwargs.pop("as_groups", ())),
                command=_command_path(),
            )
            return func(kube=kube, **kwargs)

        wrapper.__name__ = func.__name__
        wrapper.__doc__ = func.__doc__
        result: Any = wrapper
        for opt in reversed(opts):
            result = opt(result)
        return result

    return decorate


# --kubeconfig, --context, -n/--namespace, -A/--all-namespaces, --as, --as-group (kubectl's meanings); the command
# receives one ``kube: KubeOptions`` argument.
kube_options = kube_options_for()


def _command_path() -> str:
    ctx = click.get_current_context(silent=True)
    return ctx.command_path if ctx is not None else ""


class _FormatChoice(click.Choice):
    """A click.Choice that also accepts old names of formats (not shown in help or errors) and gives the new one."""

    def __init__(self, choices: tuple[str, ...], aliases: dict[str, str]) -> None:
        super().__init__(choices)
        self.aliases = aliases

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return super().convert(self.aliases.get(value, value), param, ctx)


def output_option(
    *choices: str, default: str = "table", aliases: dict[str, str] | None = None, help: str = "Output format."
) -> Callable[[F], F]:
    """-o/--output with the given formats (table, wide, json, yaml, plus command-specific ones); aliases: hidden old
    names scripts may still pass (e.g. login's "text" for "table")."""
    formats = choices or ("table", "wide", "json", "yaml")
    return click.option(
        "-o",
        "--output",
        "output",
        type=_FormatChoice(formats, aliases or {}),
        default=default,
        show_default=True,
        help=help,
    )


def manifests_option(func: F) -> F:
    """--manifests PATH: work offline on a file, a folder (recursive) or '-' (stdin) of YAML/JSON manifests."""
    return click.option(
        "--manifests",
        "manifests",
        metavar="PATH",
        multiple=True,
        type=click.Path(),
        shell_complete=completion.manifests,
        help="Work offline on manifests: a file, a folder (recursive), '-' for stdin, or example:shop (shipped). Repeatable.",
    )(func)


CNI_CHOICES = ("auto", "calico", "cilium", "generic")
CNI_HELP = (
    "Whose policy semantics decide: calico (tiers; Kubernetes NetworkPolicies in its default tier), cilium (Cilium's "
    "policies and Kubernetes NetworkPolicies together; deny rules win), generic (Kubernetes NetworkPolicy and "
    "AdminNetworkPolicy only), or auto: live, the CNI's DaemonSets; offline, the CNI whose policy objects the input "
    "holds. Objects of another CNI are not evaluated: the verdicts they could change are UNKNOWN."
)
ENFORCEMENT_HELP = (
    "Cilium's policy enforcement mode (its agent's --enable-policy): default (a pod no policy selects is open), always "
    "(every pod is default-deny), never (no policy is enforced). Only with Cilium's semantics."
)


def cni_option(func: F) -> F:
    """--cni auto|calico|cilium|generic and --policy-enforcement default|always|never, handed to the command as one
    ``cni`` string ("cilium:always"; netpol.compile reads it)."""

    @functools.wraps(func)
    def wrapper(*args: Any, policy_enforcement: str = "default", **kwargs: Any) -> Any:
        if policy_enforcement != "default":
            kwargs["cni"] = f"{kwargs['cni']}:{policy_enforcement}"
        return func(*args, **kwargs)

    wrapper = click.option(
        "--policy-enforcement",
        type=click.Choice(("default", "always", "never")),
        default="default",
        show_default=True,
        help=ENFORCEMENT_HELP,
    )(wrapper)
    return click.option("--cni", "cni", type=click.Choice(CNI_CHOICES), default="auto", show_default=True, help=CNI_HELP)(
        wrapper
    )  # type: ignore[return-value]
