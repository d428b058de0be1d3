"""Token cache: permissions, atomic writes, corrupt entries, the per-key lock, keyring and none storage."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import time
from pathlib import Path

import pytest
from test_auth_support import fake_jwt

from kubectl_netsso.auth import cache as cache_mod
from kubectl_netsso.auth.cache import LockTimeout, open_cache
from kubectl_netsso.auth.settings import ProviderSettings
from kubectl_netsso.auth.tokens import TokenSet
from kubectl_netsso.errors import NetssoError


def settings(tmp_path: Path, storage: str = "file") -> ProviderSettings:
    return ProviderSettings("https://sso.example.test", "kube", token_cache_dir=str(tmp_path / "cache"),
                            token_cache_storage=storage)


def tokens(exp_in: float = 600) -> TokenSet:
    return TokenSet(fake_jwt({"sub": "alice", "exp": time.time() + exp_in, "iat": time.time()}), "rt-0123456789",
                    "https://sso.example.test", "kube")


def test_round_trip_with_private_permissions(tmp_path: Path) -> None:
    c = open_cache(settings(tmp_path))
    t = tokens()
    c.save(t)
    assert c.load() == t
    assert stat.S_IMODE(os.stat(tmp_path / "cache").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(c.path or "").st_mode) == 0o600
    assert Path(c.path or "").name == c.key + ".json"


def test_loose_existing_dir_is_tightened(tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir(mode=0o755)
    os.chmod(tmp_path / "cache", 0o755)
    open_cache(settings(tmp_path)).save(tokens())
    assert stat.S_IMODE(os.stat(tmp_path / "cache").st_mode) == 0o700


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    c = open_cache(settings(tmp_path))
    first, second = tokens(), tokens(1200)
    c.save(first)
    inode = os.stat(c.path or "").st_ino
    c.save(second)
    assert c.load() == second
    assert os.stat(c.path or "").st_ino != inode  # a new file renamed over the old one, not an in-place rewrite
    assert not [n for n in os.listdir(tmp_path / "cache") if n.startswith(".tmp-")]


def test_failed_write_keeps_old_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    c = open_cache(settings(tmp_path))
    c.save(tokens())
    before = Path(c.path or "").read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_mod.os, "replace", broken_replace)
    with pytest.raises(NetssoError, match="cannot write token cache file"):
        c.save(tokens(999))
    assert Path(c.path or "").read_bytes() == before
    assert not [n for n in os.listdir(tmp_path / "cache") if n.startswith(".tmp-")]


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'{"refresh_token": "x"}', b"\xff\xfe"])
def test_corrupt_entry_is_set_aside_with_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes) -> None:
    c = open_cache(settings(tmp_path))
    c.save(tokens())
    Path(c.path or "").write_bytes(content)
    assert c.load() is None
    assert not os.path.exists(c.path or "")
    assert Path((c.path or "") + ".corrupt").read_bytes() == content
    assert "warning: token cache entry" in capsys.readouterr().err


def test_unwritable_cache_dir_gives_hint(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    s = ProviderSettings("https://sso.example.test", "kube", token_cache_dir=str(blocker / "sub"))
    with pytest.raises(NetssoError) as exc:
        open_cache(s).save(tokens())
    assert "not usable" in exc.value.message and "--token-cache-storage none" in (exc.value.hint or "")


def _hold_lock(path: str, ready: multiprocessing.synchronize.Event, release: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    with cache_mod.file_lock(path, timeout=5):
        ready.set()
        release.wait(10)


def test_lock_excludes_other_processes_and_is_separate_from_data(tmp_path: Path) -> None:
    c = open_cache(settings(tmp_path))
    c.save(tokens())
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_lock, args=(c.lock_path, ready, release))
    proc.start()
    try:
        assert ready.wait(10)
        assert c.lock_path != c.path and c.lock_path.endswith(".lock")
        assert c.load() is not None  # readers are never blocked by the lock
        start = time.monotonic()
        with pytest.raises(LockTimeout), c.lock(timeout=0.3):
            pass
        assert time.monotonic() - start >= 0.25
        release.set()
        proc.join(10)
        with c.lock(timeout=2):
            pass
    finally:
        release.set()
        proc.join(5)
    assert stat.S_IMODE(os.stat(c.lock_path).st_mode) == 0o600


def test_none_storage_keeps_nothing(tmp_path: Path) -> None:
    c = open_cache(settings(tmp_path, "none"))
    c.save(tokens())
    assert c.load() is None and not (tmp_path / "cache").exists()
    with c.lock(timeout=1):
        pass


def test_keyring_without_backend_is_a_clear_error(tmp_path: Path) -> None:
    import keyring
    from keyring.backends import fail

    # keyring's public set_keyring, not its private module global (renamed, it would silently stop the override)
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # what keyring picks when no OS secret store exists
    try:
        with pytest.raises(NetssoError) as exc:
            open_cache(settings(tmp_path, "keyring")).save(tokens())
        assert "keyring storage unavailable" in exc.value.message
        assert "--token-cache-storage file" in (exc.value.hint or "")
    finally:
        keyring.set_keyring(before)


def test_keyring_storage_round_trip_with_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store: dict[tuple[str, str], str] = {}

    class MemoryKeyring:
        def get_password(self, service: str, user: str) -> str | None:
            return store.get((service, user))

        def set_password(self, service: str, user: str, value: str) -> None:
            store[(service, user)] = value

        def delete_password(self, service: str, user: str) -> None:
            del store[(service, user)]

    monkeypatch.setattr(cache_mod, "_keyring", lambda: MemoryKeyring())
    c = open_cache(settings(tmp_path, "keyring"))
    c.save(tokens())
    assert c.load() is not None and c.path is None
    assert not (tmp_path / "cache" / (c.key + ".json")).exists()  # nothing secret on disk
    assert json.loads((tmp_path / "cache" / "keyring-index.json").read_text()) == [c.key]
    assert cache_mod.remove_all(str(tmp_path / "cache")) == 1
    assert store == {}


def test_list_and_remove_all(tmp_path: Path) -> None:
    a = open_cache(settings(tmp_path))
    b = open_cache(ProviderSettings("https://other.test", "kube", token_cache_dir=str(tmp_path / "cache")))
    a.save(tokens())
    b.save(tokens())
    with a.lock(1):
        pass
    assert cache_mod.list_entries(str(tmp_path / "cache")) == sorted([a.key, b.key])
    assert cache_mod.remove_all(str(tmp_path / "cache")) == 2
    assert os.listdir(tmp_path / "cache") == []


def test_waiting_for_the_lock_says_why(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A second process waiting on a pending login is told so once, instead of hanging silently."""
    import threading

    from kubectl_netsso.auth.cache import file_lock

    path = str(tmp_path / "k.lock")
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with file_lock(path, 5):
            held.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(5)
    threading.Timer(1.5, release.set).start()
    with file_lock(path, 10):
        pass
    t.join()
    err = capsys.readouterr().err
    assert err.count("waiting for another kubectl-netsso process") == 1
