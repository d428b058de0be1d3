"""Token cache per provider settings: file (default), OS keyring or none; a lock file per key; atomic writes.

Layout under the cache dir (0700): ``<key>.json`` (0600) the token set, ``<key>.lock`` the lock file held through
refresh and login (a separate file, not the data file: locking the data file broke Windows, int128/kubelogin#1144),
``<key>.state`` the last browser login attempt (throttles non-interactive logins). Stdlib only; keyring is imported
lazily, only for ``--token-cache-storage keyring``.
"""

from __future__ import annotations

import errno
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .. import log
from ..errors import NetssoError
from .settings import DATA_SUFFIX, ProviderSettings
from .tokens import TokenError, TokenSet

KEYRING_SERVICE = "kubectl-netsso"
_KEYRING_INDEX = "keyring-index.json"
_UNWRITABLE_HINT = "use --token-cache-dir with a writable directory, or --token-cache-storage none"


def ensure_dir(path: str) -> None:
    """Create the cache dir with mode 0700 (and tighten it if we own it and it is looser)."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path)
        if st.st_uid == os.getuid() and st.st_mode & 0o077:
            os.chmod(path, 0o700)
    except OSError as exc:
        raise NetssoError(f"token cache dir {path} is not usable: {exc.strerror or exc}", hint=_UNWRITABLE_HINT) from None


def atomic_write(path: str, data: bytes) -> None:
    """Write data to a 0600 temp file in the same dir, fsync, and rename over path (readers never see half a file)."""
    import tempfile

    directory = os.path.dirname(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".part")  # mkstemp creates it 0600
    except OSError as exc:
        raise NetssoError(f"cannot write to token cache dir {directory}: {exc.strerror or exc}", hint=_UNWRITABLE_HINT) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise NetssoError(f"cannot write token cache file {path}: {exc.strerror or exc}", hint=_UNWRITABLE_HINT) from None


class LockTimeout(NetssoError):
    pass


@contextmanager
def file_lock(path: str, timeout: float) -> Iterator[None]:
    """Hold an exclusive flock on path (created 0600) for the block; wait at most timeout seconds."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise NetssoError(f"cannot create lock file {path}: {exc.strerror or exc}", hint=_UNWRITABLE_HINT) from None
    try:
        started = time.monotonic()
        deadline = started + timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                if not told and time.monotonic() - started >= 1.0:
                    # A login in another process can hold the lock for minutes: say why we are silent.
                    from .. import log

                    log.info("waiting for another kubectl-netsso process that is logging in or refreshing for this provider...")
                    told = True
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        "another kubectl-netsso process is still logging in or refreshing for this provider",
                        hint="finish that login, or try again in a moment",
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock


class _FileStorage:
    name = "file"

    def __init__(self, directory: str, key: str) -> None:
        self.path = os.path.join(directory, key + DATA_SUFFIX)

    def read(self) -> TokenSet | None:
        try:
            with open(self.path, "rb") as fh:
                raw = fh.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._set_aside(f"unreadable ({exc.strerror or exc})")
            return None
        try:
            return TokenSet.from_dict(json.loads(raw))
        except (ValueError, TokenError):
            self._set_aside("corrupt")
            return None

    def _set_aside(self, why: str) -> None:
        aside = self.path + ".corrupt"
        try:
            os.replace(self.path, aside)
            log.warn(f"token cache entry {self.path} is {why}; moved it to {aside} and will log in again")
        except OSError:
            log.warn(f"token cache entry {self.path} is {why}; ignoring it")

    def write(self, tokens: TokenSet) -> None:
        atomic_write(self.path, json.dumps(tokens.to_dict(), separators=(",", ":")).encode("utf-8"))

    def delete(self) -> bool:
        try:
            os.unlink(self.path)
            return True
        except FileNotFoundError:
            return False


def _keyring() -> Any:
    """Import keyring and make sure a real backend exists; else a clear error with a hint."""
    hint = "start a Secret Service (e.g. gnome-keyring) in your session, or use --token-cache-storage file"
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:  # pragma: no cover - keyring is a dependency
        raise NetssoError("keyring storage needs the 'keyring' package", hint="pip install keyring") from None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        raise NetssoError("keyring storage unavailable: no OS secret store backend found", hint=hint)
    return keyring


class _KeyringStorage:
    name = "keyring"

    def __init__(self, directory: str, key: str) -> None:
        self.directory = directory
        self.key = key

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except NetssoError:
            raise
        except Exception as exc:  # keyring raises many types (InitError, KeyringLocked, dbus errors)
            raise NetssoError(
                f"keyring storage unavailable: {what} failed: {type(exc).__name__}",
                hint="unlock or start your OS secret store, or use --token-cache-storage file",
            ) from None

    def read(self) -> TokenSet | None:
        kr = _keyring()
        raw = self._call("reading the token", kr.get_password, KEYRING_SERVICE, self.key)
        if raw is None:
            return None
        try:
            return TokenSet.from_dict(json.loads(raw))
        except (ValueError, TokenError):
            log.warn("keyring token entry is corrupt; removing it and logging in again")
            self.delete()
            return None

    def write(self, tokens: TokenSet) -> None:
        kr = _keyring()
        self._call("storing the token", kr.set_password, KEYRING_SERVICE, self.key, json.dumps(tokens.to_dict()))
        _update_keyring_index(self.directory, add=self.key)

    def delete(self) -> bool:
        kr = _keyring()
        removed = True
        try:
            kr.delete_password(KEYRING_SERVICE, self.key)
        except Exception:  # PasswordDeleteError when absent
            removed = False
        _update_keyring_index(self.directory, remove=self.key)
        return removed


class _NoStorage:
    name = "none"

    def read(self) -> TokenSet | None:
        return None

    def write(self, tokens: TokenSet) -> None:
        return None

    def delete(self) -> bool:
        return False


def _read_json(path: str) -> Any:
    try:
        with open(path, "rb") as fh:
            return json.loads(fh.read())
    except (OSError, ValueError):
        return None


def _update_keyring_index(directory: str, add: str | None = None, remove: str | None = None) -> None:
    """Keyring backends cannot list items; keep the (non-secret) keys we stored so ``logout --all`` finds them."""
    try:
        ensure_dir(directory)
        path = os.path.join(directory, _KEYRING_INDEX)
        keys = set(_read_json(path) or [])
        if add:
            keys.add(add)
        if remove:
            keys.discard(remove)
        atomic_write(path, json.dumps(sorted(keys)).encode())
    except NetssoError:
        pass


class TokenCache:
    """The cache entry for one ProviderSettings: ``load()``, ``save()``, ``delete()``, ``lock()``, login state."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.key = settings.cache_key()
        self.directory = settings.token_cache_dir
        self.storage_name = settings.token_cache_storage
        self.lock_path = os.path.join(self.directory, self.key + ".lock")
        self.state_path = os.path.join(self.directory, self.key + ".state")
        self._storage: _FileStorage | _KeyringStorage | _NoStorage
        if self.storage_name == "file":
            self._storage = _FileStorage(self.directory, self.key)
        elif self.storage_name == "keyring":
            self._storage = _KeyringStorage(self.directory, self.key)
        else:
            self._storage = _NoStorage()

    @property
    def path(self) -> str | None:
        """The data file (file storage only)."""
        return self._storage.path if isinstance(self._storage, _FileStorage) else None

    def describe(self) -> str:
        """Which entry, for messages: the file path or the keyring item (never the content)."""
        if isinstance(self._storage, _FileStorage):
            return self._storage.path
        if isinstance(self._storage, _KeyringStorage):
            return f"keyring service {KEYRING_SERVICE!r}, item {self.key}"
        return "no storage (--token-cache-storage none)"

    def load(self) -> TokenSet | None:
        """The cached token set, or None (missing; a corrupt entry is moved aside with a warning)."""
        return self._storage.read()

    def save(self, tokens: TokenSet) -> None:
        if self.storage_name == "none":
            return
        ensure_dir(self.directory)
        self._storage.write(tokens)

    def delete(self) -> bool:
        removed = self._storage.delete()
        for extra in (self.state_path,):
            try:
                os.unlink(extra)
            except OSError:
                pass
        return removed

    @contextmanager
    def lock(self, timeout: float) -> Iterator[None]:
        """Serialise refresh and login for this key across processes (no-op for storage none)."""
        if self.storage_name == "none":
            yield
            return
        ensure_dir(self.directory)
        with file_lock(self.lock_path, timeout):
            yield

    # -- browser login throttle for non-interactive callers ------------------------------------------------------

    def read_login_state(self) -> dict[str, Any]:
        data = _read_json(self.state_path)
        return data if isinstance(data, dict) else {}

    def write_login_state(self, outcome: str, at: float | None = None) -> None:
        if self.storage_name == "none":
            return
        ensure_dir(self.directory)
        state = {"outcome": outcome, "at": time.time() if at is None else at}
        atomic_write(self.state_path, json.dumps(state).encode())


def open_cache(settings: ProviderSettings) -> TokenCache:
    """The cache entry for these settings (storage chosen by settings.token_cache_storage)."""
    return TokenCache(settings)


def load_cached(settings: ProviderSettings) -> TokenSet | None:
    """Public helper: the cached token set for settings, or None. Does not check expiry (see TokenSet.is_valid)."""
    return TokenCache(settings).load()


def list_entries(directory: str) -> list[str]:
    """Keys with any file in directory (data, lock or state) plus keys in the keyring index."""
    keys: set[str] = set()
    try:
        names = os.listdir(directory)
    except OSError:
        names = []
    for name in names:
        base = name.split(".", 1)[0]
        if len(base) == 64 and all(c in "0123456789abcdef" for c in base):
            keys.add(base)
    keys.update(k for k in (_read_json(os.path.join(directory, _KEYRING_INDEX)) or []) if isinstance(k, str))
    return sorted(keys)


def read_file_entry(directory: str, key: str) -> TokenSet | None:
    """The token set of a file entry by key (for ``logout --all``), or None."""
    data = _read_json(os.path.join(directory, key + DATA_SUFFIX))
    try:
        return TokenSet.from_dict(data)
    except TokenError:
        return None


def remove_all(directory: str) -> int:
    """Remove every entry in directory (files and keyring items listed in the index); return how many keys."""
    keys = list_entries(directory)
    index = _read_json(os.path.join(directory, _KEYRING_INDEX)) or []
    if index:
        try:
            kr = _keyring()
            for key in index:
                try:
                    kr.delete_password(KEYRING_SERVICE, key)
                except Exception:
                    pass
        except NetssoError as err:
            log.warn(f"could not remove keyring items: {err.message}")
    for name in os.listdir(directory) if os.path.isdir(directory) else []:
        base = name.split(".", 1)[0]
        if base in keys or name == _KEYRING_INDEX or name.startswith(".tmp-"):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass
    return len(keys)
