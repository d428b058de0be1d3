"""Per-test isolated HOME and environment for subprocesses (plugin, kubectl, browsers), plus output recording."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Variables that would make a run depend on the developer's machine (or hide a bug: REQUESTS_CA_BUNDLE overrides a
# requests Session's verify, so the plugin must get its CA from --certificate-authority, not from the environment).
_DROP = ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER", "KUBECONFIG", "KUBECACHEDIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
         "SSL_CERT_FILE", "SSL_CERT_DIR", "PYTHON_KEYRING_BACKEND", "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY",
         "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "NO_PROXY", "no_proxy")

JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")


def scripts_dir() -> str:
    """Where pip put the console scripts (kubectl-netsso) for this interpreter."""
    found = shutil.which("kubectl-netsso")
    if found:
        return str(Path(found).parent)
    return sysconfig.get_path("scripts")


@dataclass
class IsolatedHome:
    path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def cache_dir(self) -> Path:
        return Path(self.env["KUBECACHEDIR"]) / "netsso"

    @property
    def kubeconfig(self) -> Path:
        return self.path / ".kube" / "config"

    @classmethod
    def create(cls, path: Path) -> IsolatedHome:
        path.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in _DROP and not k.startswith("NETSSO_")}
        bindirs = [scripts_dir(), str(Path(sys.executable).parent)]
        # drop other directories with a kubectl-netsso (e.g. pyenv shims): kubectl warns about overshadowed plugins
        rest = [d for d in env.get("PATH", "").split(os.pathsep)
                if d and (d in bindirs or not os.path.exists(os.path.join(d, "kubectl-netsso")))]
        env.update(
            HOME=str(path),
            KUBECACHEDIR=str(path / ".kube" / "cache"),
            KUBECONFIG=str(path / ".kube" / "config"),
            XDG_CONFIG_HOME=str(path / ".config"),
            XDG_DATA_HOME=str(path / ".local" / "share"),
            XDG_CACHE_HOME=str(path / ".cache"),
            NO_COLOR="1",
            PATH=os.pathsep.join(dict.fromkeys(bindirs + rest)),
            PYTHONDONTWRITEBYTECODE="1",
        )
        return cls(path, env)

    def cached_tokens(self) -> set[str]:
        """Every token-like string in the plugin's file cache (for the leak scan)."""
        found: set[str] = set()
        if not self.cache_dir.is_dir():
            return found
        for f in self.cache_dir.rglob("*"):
            if not f.is_file():
                continue
            try:
                text = f.read_text(errors="replace")
            except OSError:
                continue
            found.update(JWT_RE.findall(text))
            try:
                data = json.loads(text)
            except ValueError:
                continue
            found.update(_token_values(data))
        return found


def _token_values(data: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(data, dict):
        for k, v in data.items():
            # discovery metadata (token_endpoint, ...) names URLs, not secrets: a path issuer's is long enough for the
            # half-token check, and the issuer URL itself is printed everywhere
            if isinstance(v, str) and "token" in k.lower() and len(v) >= 16 and not k.endswith(("_endpoint", "_uri")):
                out.add(v)
            else:
                out |= _token_values(v)
    elif isinstance(data, list):
        for v in data:
            out |= _token_values(v)
    return out


@dataclass
class Recorder:
    """Collects the outputs of the suite's login/get-token/kubectl runs for the final token-leak scan."""

    outputs: list[tuple[str, str]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    timings: dict[str, list[float]] = field(default_factory=dict)

    def timing(self, name: str, seconds: float) -> None:
        self.timings.setdefault(name, []).append(seconds)

    def run(self, argv: list[str], *, env: dict[str, str], label: str | None = None, stdout_is_credential: bool = False,
            **kw: Any) -> subprocess.CompletedProcess[str]:
        kw.setdefault("timeout", 60)
        kw.setdefault("stdin", subprocess.DEVNULL if "input" not in kw else None)
        if kw.get("stdin") is None:
            kw.pop("stdin")
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, **kw)
        self.record(label or " ".join(argv[:3]), proc.stdout, proc.stderr, stdout_is_credential)
        return proc

    def record(self, label: str, stdout: str, stderr: str, stdout_is_credential: bool = False) -> None:
        if stdout_is_credential:
            # get-token's stdout is kubectl's credential channel: the token belongs there; harvest it, scan the rest
            try:
                self.tokens.add(json.loads(stdout)["status"]["token"])
            except (ValueError, KeyError, TypeError):
                self.outputs.append((label + " [stdout]", stdout))
        else:
            self.outputs.append((label + " [stdout]", stdout))
        self.outputs.append((label + " [stderr]", stderr))


def find_leaks(outputs: list[tuple[str, str]], tokens: set[str]) -> list[tuple[str, str]]:
    """(label, token prefix) for every known token, half of a long token, or JWT-shaped string found in outputs."""
    secrets = {t for t in tokens if len(t) >= 16}
    leaks: list[tuple[str, str]] = []
    for label, text in outputs:
        for token in secrets:
            if token in text:
                leaks.append((label, token[:12] + "..."))
            elif len(token) >= 32 and token[: len(token) // 2] in text:
                leaks.append((label, token[:8] + "... (partial)"))
        for match in JWT_RE.findall(text):
            leaks.append((label, match[:12] + "... (JWT-shaped)"))
    return leaks
