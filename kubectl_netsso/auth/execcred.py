"""KUBERNETES_EXEC_INFO in, ExecCredential out, and the cached fast path of ``get-token`` (stdlib only).

kubectl runs the credential plugin before every command, so a cache hit must cost little more than starting Python:
``fast_path`` imports only json/base64/os/time and the project's settings and tokens modules.
"""

from __future__ import annotations

import json
import os
import sys
import time

from . import safefs
from .settings import DATA_SUFFIX, ProviderSettings, parse_args
from .tokens import TokenSet

API_V1 = "client.authentication.k8s.io/v1"
API_V1BETA1 = "client.authentication.k8s.io/v1beta1"
API_VERSIONS = (API_V1, API_V1BETA1)
MAX_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z


class ExecInfoError(ValueError):
    """KUBERNETES_EXEC_INFO is present but not a usable ExecCredential (one-line message)."""


class ExecInfo:
    """What kubectl told us: the apiVersion to answer in, whether it may talk to the user, the cluster (optional)."""

    __slots__ = ("api_version", "interactive", "cluster", "present")

    def __init__(self, api_version: str, interactive: bool | None, cluster: dict[str, object] | None, present: bool) -> None:
        self.api_version = api_version
        self.interactive = interactive
        self.cluster = cluster
        self.present = present


def parse_exec_info(raw: str | None) -> ExecInfo:
    """Parse KUBERNETES_EXEC_INFO. Absent or empty -> v1beta1, interactive unknown (client-go docs: the plugin must
    answer in the apiVersion it was called with; old kubectl versions send nothing and expect v1beta1)."""
    if raw is None or not raw.strip():
        return ExecInfo(API_V1BETA1, None, None, False)
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ExecInfoError(f"KUBERNETES_EXEC_INFO is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(data, dict):
        raise ExecInfoError("KUBERNETES_EXEC_INFO is not a JSON object")
    if data.get("kind", "ExecCredential") != "ExecCredential":
        raise ExecInfoError(f"KUBERNETES_EXEC_INFO has kind {data.get('kind')!r}, expected ExecCredential")
    api_version = data.get("apiVersion")
    if api_version not in API_VERSIONS:
        expected = " or ".join(API_VERSIONS)
        raise ExecInfoError(f"KUBERNETES_EXEC_INFO has unsupported apiVersion {api_version!r} (expected {expected})")
    spec = data.get("spec", {})
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise ExecInfoError("KUBERNETES_EXEC_INFO spec is not an object")
    interactive = spec.get("interactive")
    if interactive is not None and not isinstance(interactive, bool):
        raise ExecInfoError("KUBERNETES_EXEC_INFO spec.interactive is not a boolean")
    cluster = spec.get("cluster")
    if cluster is not None and not isinstance(cluster, dict):
        raise ExecInfoError("KUBERNETES_EXEC_INFO spec.cluster is not an object")
    return ExecInfo(api_version, interactive, cluster, True)


def format_timestamp(ts: float) -> str:
    """RFC 3339 in UTC, second precision (what client-go parses for expirationTimestamp). A provider's absurd exp
    (1e20, negative) is clamped to years 1970..9999, which RFC 3339 can write, instead of overflowing gmtime."""
    if not ts == ts:  # NaN
        ts = 0.0
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(min(max(ts, 0.0), MAX_TIMESTAMP))))


def exec_credential(token: str, expires_at: float | None, api_version: str, margin: float) -> str:
    """The ExecCredential JSON for stdout. expirationTimestamp = exp - margin, so client-go asks again (and we refresh)
    before the API server would reject the token."""
    status: dict[str, object] = {"token": token}
    if expires_at is not None:
        status["expirationTimestamp"] = format_timestamp(expires_at - margin)
    return json.dumps({"apiVersion": api_version, "kind": "ExecCredential", "spec": {}, "status": status})


def is_interactive(info: ExecInfo) -> bool:
    """spec.interactive when kubectl sent exec info; otherwise whether stdin is a terminal (a person ran us)."""
    if info.interactive is not None:
        return info.interactive
    if info.present:
        return False
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


def _write_stdout(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def fast_path(args: list[str]) -> int | None:
    """Serve ``get-token`` from a valid file-cache entry without importing click & co.

    Returns 0 after printing the ExecCredential, or None for anything else (miss, expired, keyring/none storage,
    --force-refresh, -h, bad flags, malformed exec info, an untrusted cache dir, an unreadable or hostile entry) so
    that the full click path runs and handles it, including the one-line errors. It runs outside the CLI's error
    handler, so whatever the cache holds it never raises: any surprise falls back to the full path.
    """
    try:
        credential = _cached_credential(args)
    except Exception:
        return None
    if credential is None:
        return None
    try:
        _write_stdout(credential)
    except (OSError, ValueError):
        return 3  # kubectl closed our stdout: nobody is left to read an error
    return 0


def _cached_credential(args: list[str]) -> str | None:
    values, rest = parse_args(args)
    if rest:
        return None  # help, unknown flags, positional args: let click deal with them (same answer hit or miss)
    settings = ProviderSettings.from_values(values, os.environ)
    if settings.token_cache_storage != "file" or settings.force_refresh:
        return None
    info = parse_exec_info(os.environ.get("KUBERNETES_EXEC_INFO"))
    # The same trust rules as the full path (safefs): a cache dir others can write to, or an entry that is a symlink,
    # a FIFO or someone else's file, is left to the full path, which refuses or sets it aside with a message.
    safefs.check_dir(settings.token_cache_dir, tighten=False)
    path = os.path.join(settings.token_cache_dir, settings.cache_key() + DATA_SUFFIX)
    tokens = TokenSet.from_dict(json.loads(safefs.read_private(path)))
    if not tokens.is_valid(settings.expiry_margin):
        return None
    margin = tokens.effective_margin(settings.expiry_margin)
    return exec_credential(tokens.id_token, tokens.expires_at, info.api_version, margin)
