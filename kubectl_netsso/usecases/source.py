"""Where a command's facts come from: kube options (a live cluster) or --manifests (a folder, file, stdin or an
``example:`` name), turned into a snapshot, the namespace in scope and the warnings -- the only loader commands use."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import log
from ..errors import EXIT_USAGE, NetssoError

if TYPE_CHECKING:
    from ..cluster.snapshot import Gap, Snapshot
    from ..cluster.target import KubeOptions
    from ..netpol.compile import CompiledSnapshot

# what a live read asks for when a use case does not say: the network objects and the RBAC objects
ALL_PARTS: frozenset[str] = frozenset({"network", "rbac"})
CONTEXT_HINT = "list contexts with: kubectl config get-contexts"


def current_namespace(kube: KubeOptions) -> str:
    """-n, else the kubeconfig context's namespace, else "default" (kubectl's rule), for every command.

    An explicit --context must exist: a flag the user gave is never silently ignored (usage error, exit 2). Without
    one, a kubeconfig that cannot be read does not stop an offline command (a live one fails when it connects).
    """
    from ..cluster.kubeconfig import KubeContext, resolve_context

    ctx: KubeContext | None = None
    if kube.context:
        try:
            ctx = resolve_context(kube.kubeconfig, kube.context)
        except NetssoError as exc:
            raise NetssoError(exc.message, hint=exc.hint or CONTEXT_HINT, exit_code=EXIT_USAGE) from exc
    if kube.namespace:
        return kube.namespace
    if ctx is None:
        try:
            ctx = resolve_context(kube.kubeconfig, None)
        except (NetssoError, OSError) as exc:
            log.debug(f"no kubeconfig namespace ({exc}): using 'default'", at=2)
            return "default"
    return ctx.namespace


def gap_text(gap: Gap) -> str:
    """What the source could not read: verdicts depending on it are unknown; pods it hides are not listed."""
    where = f" in namespace {gap.namespace}" if gap.namespace else ""
    return f"cannot see {gap.resource}{where}: {gap.reason}"


def merge_warnings(*groups: Iterable[str]) -> list[str]:
    """The groups in order, each text once (a compiled snapshot repeats the snapshot's own warnings)."""
    out: list[str] = []
    for group in groups:
        for text in group:
            if text not in out:
                out.append(text)
    return out


def print_warnings(warnings: Iterable[str]) -> None:
    for text in warnings:
        log.warn(text)


@dataclass(frozen=True, slots=True)
class Loaded:
    """A source read once: the snapshot, the default namespace and what the reading could not see."""

    snapshot: Snapshot
    namespace: str  # the default namespace: -n, else the context's, else "default"
    live: bool
    all_namespaces: bool = False  # -A
    namespace_given: bool = False  # -n was on the command line
    cni_warning: str | None = None  # live: the cluster's CNI is not known to enforce NetworkPolicy
    detected_cni: str | None = None  # live: the policy CNI its DaemonSets show ("calico", "cilium"), None if unknown
    own: Snapshot | None = None  # offline with default roles: the manifests alone (what the user wrote)
    source_text: str = ""

    @property
    def gaps(self) -> list[str]:
        return [gap_text(g) for g in self.snapshot.gaps]

    def warnings(self, compiled: Sequence[str] | None = None, *, cni: bool = True) -> list[str]:
        """Every warning of this read, once each: the CNI warning (cni=True), the snapshot's (or the compiled
        policies', which start with the snapshot's), then the gaps."""
        return merge_warnings(
            [self.cni_warning] if cni and self.cni_warning else [],
            compiled if compiled is not None else self.snapshot.warnings,
            self.gaps,
        )

    @property
    def manifests_only(self) -> Snapshot:
        return self.own if self.own is not None else self.snapshot

    def scope(self) -> list[str]:
        """The namespaces reach, audit and report cover: -A (or offline without -n) every namespace the snapshot
        knows -- live also those it could not list and the context's -- else the default namespace."""
        from ..access.footholds import namespaces_in

        if self.all_namespaces or (not self.live and not self.namespace_given):
            scope = namespaces_in(self.snapshot)
            if self.live:
                known = set(scope) | {g.namespace for g in self.snapshot.gaps if g.namespace} | {self.namespace}
                scope = sorted(known)
            return scope
        return [self.namespace]


@dataclass(frozen=True, slots=True)
class Source:
    """Kube options (live) or manifest paths (offline), plus whether offline RBAC gets the default ClusterRoles."""

    kube: KubeOptions
    manifests: tuple[str, ...] = ()
    with_default_roles: bool = False
    cni: str = "auto"  # whose policy semantics (--cni [, --policy-enforcement] as "cilium:always"): netpol.compile
    revision: str | None = None  # "git:REV[:PATH]": the manifests of a Git revision (cluster/gitrev.py), offline

    @property
    def live(self) -> bool:
        return not self.manifests and self.revision is None

    def namespace(self) -> str:
        return current_namespace(self.kube)

    def load(
        self,
        parts: Collection[str] = ALL_PARTS,
        namespaces: Callable[[str], Sequence[str] | None] | None = None,
        *,
        cni: bool = False,
    ) -> Loaded:
        """Read the source once. namespaces(default namespace) -> the namespaces to read live (None: all; default:
        all with -A, else the default one). cni: live, also ask whether the CNI enforces NetworkPolicy."""
        default_ns = self.namespace()  # first: an unknown --context is a usage error, before any loading
        kube = self.kube
        if not self.live:
            own = self._offline()
            snap = own
            if self.with_default_roles:
                from ..cluster.defaults import default_roles_snapshot
                from ..cluster.snapshot import merge_rbac as merge

                snap = merge(own, default_roles_snapshot())
            return Loaded(
                snap, default_ns, live=False, all_namespaces=kube.all_namespaces, namespace_given=bool(kube.namespace),
                own=own, source_text=snap.source or "manifests: " + ", ".join(self.manifests),
            )  # fmt: skip
        return self._live(parts, namespaces, cni, default_ns)

    def _offline(self) -> Snapshot:
        if self.revision is None:
            from ..cluster.manifests import load_snapshot

            return load_snapshot(list(self.manifests))
        from dataclasses import replace

        from ..cluster.gitrev import read_revision
        from ..cluster.manifests import load_blobs

        rev = read_revision(self.revision)
        snap = load_blobs(rev.files, source=f"{self.revision} (commit {rev.commit[:12]})")
        return replace(snap, warnings=(*rev.warnings, *snap.warnings)) if rev.warnings else snap

    def _live(
        self, parts: Collection[str], namespaces: Callable[[str], Sequence[str] | None] | None, cni: bool, default_ns: str
    ) -> Loaded:
        kube = self.kube
        from ..cluster import live

        if namespaces is not None:
            wanted = namespaces(default_ns)
        else:
            wanted = None if kube.all_namespaces else [default_ns]
        snap = live.load_snapshot(kube, list(wanted) if wanted is not None else None, parts=set(parts))
        warning: str | None = None
        detected: str | None = None
        if cni:
            try:
                # one DaemonSet list: the CNI warning and, for --cni auto, which CNI's policy agent runs
                warning, detected = live.LiveClient(kube).cni_check()
            except NetssoError as err:  # the warning is advice: never fail the answer because of it
                log.warn(f"cannot tell whether the CNI enforces NetworkPolicy: {err.message}")
        return Loaded(
            snap, default_ns, live=True, all_namespaces=kube.all_namespaces, namespace_given=bool(kube.namespace),
            cni_warning=warning, detected_cni=detected, source_text=snap.source or "live",
        )  # fmt: skip

    def compile(self, loaded: Loaded, ipblock_pods: str | None = None) -> CompiledSnapshot:
        """The loaded snapshot's policies compiled with the semantics --cni chooses (resolve_cni); says which when
        --cni auto picked a CNI's."""
        from ..netpol.compile import compile_snapshot

        chosen = resolve_cni(self.cni, loaded.snapshot, loaded.detected_cni)
        compiled = compile_snapshot(loaded.snapshot, ipblock_pods=ipblock_pods, cni=chosen)  # type: ignore[arg-type]
        if self.cni.startswith("auto") and compiled.cni != "generic":
            why = "its DaemonSets" if loaded.detected_cni else "the policy objects in the input"
            log.info(f"evaluating with {compiled.cni.capitalize()}'s semantics (--cni auto: {why})")
        return compiled


def resolve_cni(cni: str, snapshot: Snapshot, detected: str | None) -> str:
    """--cni auto: the CNI the cluster's DaemonSets show (live), else the one whose policy objects the input holds;
    with both Calico's and Cilium's objects, "auto" stays (the engine evaluates neither and says why). A ":MODE"
    suffix (--policy-enforcement) is Cilium's only: with another CNI it is a usage error."""
    from ..netpol.compile import CNIS, detect_cni, several_cnis

    name, _, mode = cni.partition(":")
    if name == "auto":
        name = detected if detected is not None and detected in CNIS else detect_cni(snapshot)
        if several_cnis(snapshot) and detected is None:
            name = "auto"
    if mode and name not in ("cilium", "auto"):
        raise NetssoError(
            f"--policy-enforcement {mode} is Cilium's (the semantics chosen are {name})",
            hint="add --cni cilium, or leave --policy-enforcement at its default",
            exit_code=EXIT_USAGE,
        )
    return f"{name}:{mode}" if mode else name


__all__ = [
    "ALL_PARTS", "Loaded", "Source", "current_namespace", "gap_text", "merge_warnings", "print_warnings", "resolve_cni",
]  # fmt: skip
