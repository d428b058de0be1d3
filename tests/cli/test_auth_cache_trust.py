"""Issue 9 item 3 (+ the lock): the token cache trusts only the user's own private directories and files.

Every attack runs through the installed ``kubectl-netsso get-token`` (the fast path and the full path must agree), or
in process where the attack is on one function (discovery cache, lock). The second-local-user attacks with the real
provider are in tests/e2e/test_security_cache_trust.py.
"""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.executable import exe as _exe
from helpers.executable import isolated_env
from helpers.fake_op import FakeOP, fake_jwt

from kubectl_netsso.auth import cache as cache_mod
from kubectl_netsso.auth import discovery
from kubectl_netsso.auth.cache import open_cache
from kubectl_netsso.auth.settings import ProviderSettings
from kubectl_netsso.auth.tokens import TokenSet
from kubectl_netsso.errors import NetssoError

ISSUER = "https://sso.example.test"
ARGS = ["--oidc-issuer-url", ISSUER, "--oidc-client-id", "kube"]
NONINTERACTIVE = json.dumps({"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1",
                             "spec": {"interactive": False}})


def _valid_tokens() -> TokenSet:
    now = int(time.time())
    return TokenSet(fake_jwt({"sub": "alice", "iat": now, "exp": now + 3600}), "rt-0123456789abcdef", ISSUER, "kube")


class Victim:
    """A HOME whose get-token runs through the installed executable (no NETSSO_* from the developer's shell)."""

    def __init__(self, root: Path, cache_dir: Path | None = None) -> None:
        self.home = root / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.cache_dir = cache_dir or self.home / ".kube" / "cache" / "netsso"
        self.env = isolated_env(self.home, KUBERNETES_EXEC_INFO=NONINTERACTIVE, NETSSO_TOKEN_CACHE_DIR=str(self.cache_dir))

    @property
    def settings(self) -> ProviderSettings:
        return ProviderSettings("https://sso.example.test", "kube", token_cache_dir=str(self.cache_dir))

    @property
    def entry(self) -> Path:
        return self.cache_dir / (self.settings.cache_key() + ".json")

    def get_token(self, timeout: float = 20, limit_memory: bool = False) -> subprocess.CompletedProcess[str]:
        def limits() -> None:
            if limit_memory:  # the old code read /dev/zero until MemoryError: keep that from hurting the machine
                resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
        return subprocess.run([_exe(), "get-token", *ARGS], env=self.env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, preexec_fn=limits)


def _one_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    return errors[0]


# -- directories -----------------------------------------------------------------------------------------------

def test_every_directory_the_plugin_creates_is_0700_even_with_umask_000(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    cache_dir = home / ".kube" / "cache" / "netsso"
    old = os.umask(0)
    try:
        open_cache(ProviderSettings(ISSUER, "kube", token_cache_dir=str(cache_dir))).save(_valid_tokens())
    finally:
        os.umask(old)
    for directory in (home / ".kube", home / ".kube" / "cache", cache_dir):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, (directory, oct(directory.stat().st_mode))


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o722])
def test_cache_dir_writable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    victim = Victim(tmp_path)
    open_cache(victim.settings).save(_valid_tokens())
    os.chmod(victim.cache_dir, mode)
    proc = victim.get_token()
    assert proc.returncode == 3 and proc.stdout == "", proc.stdout
    assert "is writable by other users" in _one_error(proc)
    assert f"hint: chmod 700 {victim.cache_dir}" in proc.stderr
    assert stat.S_IMODE(victim.cache_dir.stat().st_mode) == mode  # refused, not silently "fixed"


def test_cache_dir_readable_by_others_is_tightened(tmp_path: Path) -> None:
    victim = Victim(tmp_path)
    open_cache(victim.settings).save(_valid_tokens())
    os.chmod(victim.cache_dir, 0o755)
    open_cache(victim.settings).save(_valid_tokens())
    assert stat.S_IMODE(victim.cache_dir.stat().st_mode) == 0o700


def test_symlinked_cache_dir_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir(mode=0o700)
    victim = Victim(tmp_path, cache_dir=tmp_path / "link")
    os.symlink(real, victim.cache_dir)
    (real / (victim.settings.cache_key() + ".json")).write_text(json.dumps(_valid_tokens().to_dict()))
    os.chmod(real / (victim.settings.cache_key() + ".json"), 0o600)
    proc = victim.get_token()
    assert proc.returncode == 3 and proc.stdout == ""
    assert "is a symbolic link" in _one_error(proc)


def test_cache_dir_inside_a_world_writable_parent_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)  # not sticky: anyone may rename our directory away and put theirs in its place
    victim = Victim(tmp_path, cache_dir=shared / "cache")
    proc = victim.get_token()
    assert proc.returncode == 3
    assert f"inside {shared}, which other users can write to" in _one_error(proc)
    assert not (shared / "cache").exists() or not any((shared / "cache").iterdir())


def test_sticky_world_writable_parent_is_fine(tmp_path: Path) -> None:
    shared = tmp_path / "tmp-like"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    settings = ProviderSettings(ISSUER, "kube", token_cache_dir=str(shared / "mine"))
    tokens = _valid_tokens()
    open_cache(settings).save(tokens)
    assert open_cache(settings).load() == tokens


# -- files -----------------------------------------------------------------------------------------------------

def _expect_set_aside(victim: Victim, proc: subprocess.CompletedProcess[str], why: str) -> None:
    assert proc.returncode == 3, (proc.returncode, proc.stderr)
    assert "login required" in _one_error(proc)
    assert f"warning: token cache entry {victim.entry} {why}" in proc.stderr
    assert os.path.lexists(str(victim.entry) + ".corrupt") and not os.path.lexists(victim.entry)


def test_fifo_as_cache_file_does_not_hang(tmp_path: Path) -> None:
    victim = Victim(tmp_path)
    open_cache(victim.settings).save(_valid_tokens())
    victim.entry.unlink()
    os.mkfifo(victim.entry, 0o600)
    started = time.monotonic()
    proc = victim.get_token(timeout=20)
    assert time.monotonic() - started < 15
    _expect_set_aside(victim, proc, "is not a regular file")


def test_cache_file_linked_to_dev_zero_is_set_aside(tmp_path: Path) -> None:
    victim = Victim(tmp_path)
    open_cache(victim.settings).save(_valid_tokens())
    victim.entry.unlink()
    os.symlink("/dev/zero", victim.entry)
    proc = victim.get_token(timeout=60, limit_memory=True)
    _expect_set_aside(victim, proc, "is a symbolic link")
    assert os.path.exists("/dev/zero") and stat.S_ISCHR(os.stat("/dev/zero").st_mode)


def test_cache_file_symlink_to_a_valid_entry_is_not_followed(tmp_path: Path) -> None:
    victim = Victim(tmp_path)
    open_cache(victim.settings).save(_valid_tokens())
    planted = tmp_path / "planted.json"
    os.replace(victim.entry, planted)
    os.symlink(planted, victim.entry)
    proc = victim.get_token()
    assert proc.stdout == ""  # the fast path did not serve the token behind the link
    _expect_set_aside(victim, proc, "is a symbolic link")
    assert planted.exists()  # the link was moved aside, its target left alone


def test_oversized_cache_file_is_set_aside(tmp_path: Path) -> None:
    victim = Victim(tmp_path)
    open_cache(victim.settings).save(_valid_tokens())
    data = json.dumps({**_valid_tokens().to_dict(), "pad": "x" * (2 << 20)})
    victim.entry.write_text(data)
    proc = victim.get_token()
    _expect_set_aside(victim, proc, "is larger than")


@pytest.mark.parametrize("content", [b"\xff\xfe", b"[" * 100000, b'{"id_token": "a.b.c"}', b"null", b'{"id_token": 7}'])
def test_corrupt_entries_never_traceback_in_get_token(tmp_path: Path, content: bytes) -> None:
    victim = Victim(tmp_path)
    open_cache(victim.settings).save(_valid_tokens())
    victim.entry.write_bytes(content)
    proc = victim.get_token()
    assert proc.returncode == 3 and "Traceback" not in proc.stderr, proc.stderr
    assert "login required" in _one_error(proc)


# -- the lock --------------------------------------------------------------------------------------------------

def test_lock_symlink_is_never_followed(tmp_path: Path) -> None:
    c = open_cache(ProviderSettings(ISSUER, "kube", token_cache_dir=str(tmp_path / "cache")))
    c.save(_valid_tokens())
    target = tmp_path / "created-through-the-link"
    precious = tmp_path / "precious"
    precious.write_text("keep me")
    for link_to in (target, precious):
        os.symlink(link_to, c.lock_path)
        with c.lock(timeout=2):
            pass
        assert not os.path.islink(c.lock_path) and stat.S_ISREG(os.lstat(c.lock_path).st_mode)
        assert stat.S_IMODE(os.lstat(c.lock_path).st_mode) == 0o600
        os.unlink(c.lock_path)
        os.unlink(c.lock_path + ".corrupt")
    assert not target.exists()
    assert precious.read_text() == "keep me"


def test_lock_file_is_0600_under_umask_000(tmp_path: Path) -> None:
    c = open_cache(ProviderSettings(ISSUER, "kube", token_cache_dir=str(tmp_path / "cache")))
    old = os.umask(0)
    try:
        with c.lock(timeout=2):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(c.lock_path).st_mode) == 0o600


def test_lock_uses_filelock_and_the_fast_path_does_not_import_it(tmp_path: Path) -> None:
    """The portable lock primitive is filelock's; importing it costs ~40 ms, so only refresh/login may pay that."""
    probe = ("import sys\nfrom kubectl_netsso.auth.cache import open_cache\n"
             "from kubectl_netsso.auth.settings import ProviderSettings\n"
             f"c = open_cache(ProviderSettings({ISSUER!r}, 'kube', token_cache_dir={str(tmp_path / 'c')!r}))\n"
             "print('filelock' in sys.modules)\nwith c.lock(2):\n    print('filelock' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30).stdout.split()
    assert out == ["False", "True"]


# -- discovery cache -------------------------------------------------------------------------------------------

def _planted_discovery(settings: ProviderSettings, op: FakeOP, fetched_at: float) -> dict[str, Any]:
    config = dict(op.config(), token_endpoint="http://127.0.0.1:9/planted-token")
    path = discovery._cache_file(settings)
    assert path is not None
    cache_mod.ensure_dir(os.path.dirname(path))
    cache_mod.atomic_write(path, json.dumps({"fetched_at": fetched_at, "config": config, "jwks": None}).encode())
    return config


def test_discovery_cached_with_a_future_timestamp_is_not_trusted(tmp_path: Path) -> None:
    with FakeOP() as op:
        settings = ProviderSettings(op.issuer, "netsso", token_cache_dir=str(tmp_path / "cache"))
        _planted_discovery(settings, op, time.time() + 10 * 365 * 86400)
        assert discovery.discover(settings).token_endpoint == op.issuer + "/token"
        _planted_discovery(settings, op, time.time() - 5)  # a fresh entry is still used (no regression)
        assert discovery.discover(settings).token_endpoint == "http://127.0.0.1:9/planted-token"


def test_discovery_cache_file_from_a_symlink_is_not_read(tmp_path: Path) -> None:
    with FakeOP() as op:
        settings = ProviderSettings(op.issuer, "netsso", token_cache_dir=str(tmp_path / "cache"))
        _planted_discovery(settings, op, time.time())
        path = discovery._cache_file(settings)
        assert path is not None
        planted = tmp_path / "planted.json"
        os.replace(path, planted)
        os.symlink(planted, path)
        assert discovery.discover(settings).token_endpoint == op.issuer + "/token"


def test_unsafe_cache_dir_is_an_error_for_login_too(tmp_path: Path) -> None:
    settings = ProviderSettings(ISSUER, "kube", token_cache_dir=str(tmp_path / "cache"))
    open_cache(settings).save(_valid_tokens())
    os.chmod(tmp_path / "cache", 0o777)
    with pytest.raises(NetssoError, match="writable by other users") as exc:
        open_cache(settings).load()
    assert "chmod 700" in (exc.value.hint or "")
