"""Shared option bundles: kube (kubeconfig, context, namespace, impersonation), output, manifests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from . import completion

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class KubeOptions:
    kubeconfig: str | None
    context: str | None
    namespace: str | None
    all_namespaces: bool
    as_user: str | None
    as_groups: tuple[str, ...]


def kube_options(func: F) -> F:
    """--kubeconfig, --context, -n/--namespace, -A/--all-namespaces, --as, --as-group (kubectl's meanings).

    The command receives one ``kube: KubeOptions`` argument.
    """
    opts = [
        click.option("--kubeconfig", metavar="PATH", type=click.Path(),
                     help="Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config)."),
        click.option("--context", metavar="NAME", help="The kubeconfig context to use."),
        click.option("-n", "--namespace", metavar="NS", help="Namespace (default: the context's, else 'default')."),
        click.option("-A", "--all-namespaces", is_flag=True, help="All namespaces."),
        click.option("--as", "as_user", metavar="USER", help="Act as this user (impersonation live; the identity offline)."),
        click.option("--as-group", "as_groups", metavar="GROUP", multiple=True, help="Act as this group (repeatable)."),
    ]

    def wrapper(**kwargs: Any) -> Any:
        kube = KubeOptions(
            kubeconfig=kwargs.pop("kubeconfig"),
            context=kwargs.pop("context"),
            namespace=kwargs.pop("namespace"),
            all_namespaces=kwargs.pop("all_namespaces"),
            as_user=kwargs.pop("as_user"),
            as_groups=tuple(kwargs.pop("as_groups")),
        )
        return func(kube=kube, **kwargs)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    result: Any = wrapper
    for opt in reversed(opts):
        result = opt(result)
    return result


def output_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    """-o/--output with the given formats (table, wide, json, yaml, plus command-specific ones)."""
    formats = choices or ("table", "wide", "json", "yaml")
    return click.option(
        "-o",
        "--output",
        "output",
        type=click.Choice(formats),
        default=default,
        show_default=True,
        help="Output format.",
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
