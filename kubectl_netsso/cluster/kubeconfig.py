"""kubeconfig: which files (--kubeconfig, KUBECONFIG, ~/.kube/config), kubectl's merge, the context, its exec stanza.

Merge rules follow client-go's ClientConfigLoadingRules (clientcmd/loader.go): "the first file to set a particular
map key wins and map key's value is never changed" and the first file to set current-context wins; files in
KUBECONFIG that do not exist are ignored; an explicit --kubeconfig must exist. Relative paths in a file
(certificate-authority, client-certificate, client-key, tokenFile, an exec command containing a path separator)
are relative to that file (clientcmd ResolveLocalPaths).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import EXIT_ERROR, EXIT_USAGE, NetssoError

__all__ = [
    "ExecConfig",
    "KubeConfig",
    "KubeContext",
    "kubeconfig_paths",
    "load_kubeconfig",
    "resolve_context",
    "is_netsso_exec",
    "effective_namespace",
    "NETSSO_COMMAND",
]

NETSSO_COMMAND = "kubectl-netsso"
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CONTEXT_HINT = "list contexts with: kubectl config get-contexts"


@dataclass(frozen=True, slots=True)
class ExecConfig:
    """A kubeconfig user's ``exec`` stanza (client.authentication.k8s.io credential plugin)."""

    command: str
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)  # the stanza's env entries only (not the process env)
    api_version: str = ""
    interactive_mode: str | None = None
    provide_cluster_info: bool = False
    install_hint: str | None = None

    @property
    def is_netsso(self) -> bool:
        return is_netsso_exec(self)

    @property
    def netsso_args(self) -> tuple[str, ...]:
        """The arguments after ``get-token`` when this is our plugin (for ProviderSettings.from_exec_args)."""
        args = list(self.args)
        if "get-token" in args:
            return tuple(args[args.index("get-token") + 1 :])
        return tuple(args)

    def process_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment the plugin would run with: ``base`` (default os.environ) updated with the stanza's env."""
        env = dict(os.environ if base is None else base)
        env.update(self.env)
        return env


@dataclass(frozen=True, slots=True)
class KubeContext:
    """The selected context with its cluster and user entries (plain dicts, local paths resolved)."""

    name: str
    cluster_name: str
    user_name: str
    namespace: str  # the context's namespace, else "default"
    namespace_from_context: bool
    cluster: Mapping[str, Any]
    user: Mapping[str, Any]
    exec: ExecConfig | None
    files: tuple[str, ...]

    @property
    def server(self) -> str | None:
        server = self.cluster.get("server")
        return server if isinstance(server, str) else None

    @property
    def user_is_netsso(self) -> bool:
        return self.exec is not None and is_netsso_exec(self.exec)

    def client_config(self, user_override: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A one-context kubeconfig dict (for kubernetes.config.new_client_from_config_dict).

        ``user_override`` replaces the user entry (e.g. ``{"token": ...}`` so the client does not exec the plugin).
        """
        user = dict(self.user if user_override is None else user_override)
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": self.cluster_name, "cluster": dict(self.cluster)}],
            "users": [{"name": self.user_name, "user": user}],
            "contexts": [
                {
                    "name": self.name,
                    "context": {"cluster": self.cluster_name, "user": self.user_name, "namespace": self.namespace},
                }
            ],
            "current-context": self.name,
        }


@dataclass(frozen=True, slots=True)
class KubeConfig:
    """The merged kubeconfig: named entries (first file wins) and the current context."""

    files: tuple[str, ...]
    clusters: Mapping[str, Mapping[str, Any]]
    users: Mapping[str, Mapping[str, Any]]
    contexts: Mapping[str, Mapping[str, Any]]
    current_context: str | None

    def context(self, name: str | None = None) -> KubeContext:
        """The named context, else the current one. NetssoError when missing or incomplete."""
        where = ", ".join(self.files) or "kubeconfig"
        ctx_name = name or self.current_context
        if not ctx_name:
            raise NetssoError(
                f"no current context in {where}", hint="pass --context NAME or run: kubectl config use-context NAME"
            )
        if ctx_name not in self.contexts:
            known = ", ".join(sorted(self.contexts)) or "none"
            # --context NAME that names nothing is a usage error; a current-context naming nothing is a broken file
            raise NetssoError(f'context "{ctx_name}" not found in {where} (known: {known})', hint=_CONTEXT_HINT,
                              exit_code=EXIT_USAGE if name else EXIT_ERROR)  # fmt: skip
        ctx = self.contexts[ctx_name]
        cluster_name = ctx.get("cluster") or ""
        user_name = ctx.get("user") or ""
        if cluster_name not in self.clusters:
            raise NetssoError(f'context "{ctx_name}": cluster "{cluster_name}" not found in {where}')
        user: Mapping[str, Any] = self.users.get(user_name, {}) if user_name else {}
        if user_name and user_name not in self.users:
            raise NetssoError(f'context "{ctx_name}": user "{user_name}" not found in {where}')
        namespace = ctx.get("namespace") or ""
        return KubeContext(
            name=ctx_name,
            cluster_name=cluster_name,
            user_name=user_name,
            namespace=namespace or "default",
            namespace_from_context=bool(namespace),
            cluster=self.clusters[cluster_name],
            user=user,
            exec=_exec_config(user.get("exec"), user_name),
            files=self.files,
        )


# ---------------------------------------------------------------------------------------------------------------


def kubeconfig_paths(explicit: str | None = None, env: Mapping[str, str] | None = None) -> tuple[list[str], bool]:
    """(files to read in order, whether missing files are errors): --kubeconfig, else KUBECONFIG, else ~/.kube/config."""
    environ = os.environ if env is None else env
    if explicit:
        return [os.path.expanduser(explicit)], True
    value = environ.get("KUBECONFIG", "")
    if value:
        # clientcmd: the list is joined by the OS path-list separator (':' on Unix, ';' on Windows); empties skipped.
        paths = list(dict.fromkeys(os.path.expanduser(p) for p in value.split(os.pathsep) if p))
        if paths:
            return paths, False
    home = environ.get("HOME") or os.path.expanduser("~")
    return [os.path.join(home, ".kube", "config")], True


def load_kubeconfig(explicit: str | None = None, env: Mapping[str, str] | None = None) -> KubeConfig:
    """Read and merge the kubeconfig files kubectl would use. NetssoError on missing/invalid files."""
    paths, must_exist = kubeconfig_paths(explicit, env)
    clusters: dict[str, Mapping[str, Any]] = {}
    users: dict[str, Mapping[str, Any]] = {}
    contexts: dict[str, Mapping[str, Any]] = {}
    current: str | None = None
    read: list[str] = []
    for path in paths:
        if not os.path.exists(path):
            if must_exist:
                hint = "pass --kubeconfig PATH or set KUBECONFIG" if not explicit else None
                raise NetssoError(f"kubeconfig {path}: no such file", hint=hint)
            continue
        doc = _read(path)
        read.append(path)
        base = os.path.dirname(os.path.abspath(path))
        for section, target, inner in (
            ("clusters", clusters, "cluster"),
            ("users", users, "user"),
            ("contexts", contexts, "context"),
        ):
            for entry in _entries(doc, section, path):
                name, value = entry
                if name in target:
                    continue  # first file to define a name wins
                value = _checked_entry(value, inner, name, path)
                target[name] = _resolve_paths(value, inner, base)
        cur = doc.get("current-context")
        if current is None and isinstance(cur, str) and cur:
            current = cur
    if not read:
        raise NetssoError(
            f"no kubeconfig found (KUBECONFIG={os.pathsep.join(paths)})", hint="check KUBECONFIG or pass --kubeconfig PATH"
        )
    return KubeConfig(files=tuple(read), clusters=clusters, users=users, contexts=contexts, current_context=current)


def resolve_context(
    kubeconfig: str | None = None, context: str | None = None, env: Mapping[str, str] | None = None
) -> KubeContext:
    """load_kubeconfig + context selection in one call (what commands use: ``resolve_context(kube.kubeconfig, kube.context)``)."""
    return load_kubeconfig(kubeconfig, env).context(context)


def effective_namespace(flag: str | None, ctx: KubeContext | None) -> str:
    """-n/--namespace if given, else the context's namespace, else "default" (kubectl's rule)."""
    if flag:
        return flag
    return ctx.namespace if ctx is not None else "default"


def is_netsso_exec(exec_config: ExecConfig | None) -> bool:
    """True when the exec stanza runs this plugin's get-token.

    Forms recognised: ``kubectl-netsso get-token ...`` (any directory, optional .exe), ``kubectl netsso get-token ...``
    and ``python -m kubectl_netsso get-token ...``.
    """
    if exec_config is None:
        return False
    base = os.path.basename(exec_config.command.replace("\\", "/")).lower()
    if base.endswith(".exe"):
        base = base[:-4]
    args = list(exec_config.args)
    if base == NETSSO_COMMAND:
        return args[:1] == ["get-token"]
    if base == "kubectl":
        return args[:2] == ["netsso", "get-token"]
    if base.startswith("python"):
        return args[:3] == ["-m", "kubectl_netsso", "get-token"]
    return False


# ---------------------------------------------------------------------------------------------------------------


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read()
    except OSError as exc:
        raise NetssoError(f"kubeconfig {path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise NetssoError(f"kubeconfig {path}: not UTF-8 text") from exc
    try:
        doc = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark is not None else ""
        raise NetssoError(f"kubeconfig {path}{at}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from exc
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise NetssoError(f"kubeconfig {path}: must be a mapping (apiVersion: v1, kind: Config)")
    return doc


def _entries(doc: Mapping[str, Any], section: str, path: str) -> list[tuple[str, Any]]:
    items = doc.get(section)
    if items is None:
        return []
    if not isinstance(items, list):
        raise NetssoError(f"kubeconfig {path}: {section} must be a list")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise NetssoError(f"kubeconfig {path}: {section}[{i}] must be a mapping with a name")
        out.append((item["name"], item.get(section[:-1])))
    return out


def _checked_entry(value: Any, inner: str, name: str, path: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise NetssoError(f'kubeconfig {path}: {inner} "{name}" must be a mapping')
    return value


def _resolve_paths(value: dict[str, Any], inner: str, base: str) -> dict[str, Any]:
    keys = {"cluster": ("certificate-authority",), "user": ("client-certificate", "client-key", "tokenFile")}.get(inner, ())
    if not keys and inner != "user":
        return value
    out = copy.deepcopy(value)
    for key in keys:
        val = out.get(key)
        if isinstance(val, str) and val and not os.path.isabs(val):
            out[key] = os.path.normpath(os.path.join(base, os.path.expanduser(val)))
    exec_ = out.get("exec") if inner == "user" else None
    if isinstance(exec_, dict):
        cmd = exec_.get("command")
        # clientcmd: an exec command "containing a path separator" is resolved relative to the kubeconfig file.
        if isinstance(cmd, str) and os.sep in cmd and not os.path.isabs(cmd):
            exec_["command"] = os.path.normpath(os.path.join(base, cmd))
    return out


def _exec_config(value: Any, user_name: str) -> ExecConfig | None:
    if value is None:
        return None
    where = f'user "{user_name}" exec'
    if not isinstance(value, dict):
        raise NetssoError(f"kubeconfig: {where} must be a mapping")
    command = value.get("command")
    if not isinstance(command, str) or not command:
        raise NetssoError(f"kubeconfig: {where}: command is required")
    args = value.get("args") or []
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise NetssoError(f"kubeconfig: {where}: args must be a list of strings")
    env: dict[str, str] = {}
    for i, item in enumerate(value.get("env") or []):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise NetssoError(f"kubeconfig: {where}: env[{i}] must be a mapping with name and value")
        val = item.get("value")
        env[item["name"]] = "" if val is None else str(val)
    mode = value.get("interactiveMode")
    hint = value.get("installHint")
    return ExecConfig(
        command=command,
        args=tuple(args),
        env=env,
        api_version=str(value.get("apiVersion") or ""),
        interactive_mode=mode if isinstance(mode, str) else None,
        provide_cluster_info=bool(value.get("provideClusterInfo")),
        install_hint=hint if isinstance(hint, str) else None,
    )
