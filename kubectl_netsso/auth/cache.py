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
from . import safefs
from .settings import DATA_SUFFIX, ProviderSettings
from .tokens import TokenError, TokenSet

KEYRING_SERVICE = "kubectl-netsso"
_KEYRING_INDEX = "keyring-index.json"
_UNWRITABLE_HINT = "use --token-cache-dir with a writable directory, or --token-cache-storage none"


def ensure_dir(path: str) -> None:
    """Create the cache dir (and missing parents) 0700 whatever the umask, and refuse one that others could write to
    or redirect (safefs.check_dir); a dir of ours that others can only read is tightened to 0700."""
    try:
        safefs.ensure_private_dir(path)
    except safefs.UnsafePath as exc:
        raise NetssoError(exc.message, hint=exc.hint) from None
    except OSError as exc:
        raise NetssoError(f"token cache dir {path} is not usable: {exc.strerror or exc}", hint=_UNWRITABLE_HINT) from None


def check_existing_dir(path: str) -> bool:
    """False when path does not exist yet; NetssoError when it exists but is not safe to read from."""
    try:
        safefs.check_dir(path)
    except FileNotFoundError:
        return False
    except safefs.UnsafePath as exc:
        raise NetssoError(exc.message, hint=exc.hint) from None
    except OSError as exc:
        raise NetssoError(f"token cache dir {path} is not usable: {exc.strerror or exc}", hint=_UNWRITABLE_HINT) from None
    return True


def atomic_write(path: str, data: bytes, *, what: str = "token cache file", hint: str | None = _UNWRITABLE_HINT) -> None:
    """Write data to a 0600 temp file in the same dir, fsync, and rename over path (readers never see half a file).

    what names the file in errors ("token cache file", "kubeconfig"), hint is the error's hint.

    mkstemp creates with O_EXCL and O_NOFOLLOW, and rename replaces a symlink at path rather than writing through it."""
    import tempfile

    directory = os.path.dirname(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".part")  # mkstemp creates it 0600
    except OSError as exc:
        raise NetssoError(f"cannot write to the folder of {what} {path}: {exc.strerror or exc}", hint=hint) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            if hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), 0o600)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise NetssoError(f"cannot write {what} {path}: {exc.strerror or exc}", hint=hint) from None


def set_aside(path: str, why: str) -> None:
    """Move a bad cache file (or a symlink, FIFO, ... in its place) out of the way, so that it is rebuilt."""
    aside = path + ".corrupt"
    try:
        os.replace(path, aside)
        log.warn(f"token cache entry {path} {why}; moved it to {aside}")
    except OSError:
        log.warn(f"token cache entry {path} {why}; ignoring it")


def read_bounded(path: str) -> bytes | None:
    """The bytes of the user's own regular cache file at path (no symlink followed, size bounded); None when absent,
    unreadable or not such a file (then it is set aside)."""
    try:
        return safefs.read_private(path)
    except FileNotFoundError:
        return None
    except safefs.UnsafeFile as exc:
        set_aside(path, str(exc))
        return None
    except OSError as exc:
        set_aside(path, f"is unreadable ({exc.strerror or exc})")
        return None


class LockTimeout(NetssoError):
    pass


def _open_lock(path: str) -> int:
    """The lock file's descriptor; a symlink, FIFO or foreign file in its place is set aside (never followed)."""
    for attempt in (0, 1):
        try:
            return safefs.open_lock_file(path)
        except (safefs.UnsafeFile, OSError) as exc:
            bad = isinstance(exc, safefs.UnsafeFile) or (exc.errno == errno.ELOOP or os.path.islink(path))
            if bad and attempt == 0:
                why = str(exc) if isinstance(exc, safefs.UnsafeFile) else "is a symbolic link"
                set_aside(path, why)
                continue
            detail = str(exc) if isinstance(exc, safefs.UnsafeFile) else (exc.strerror or str(exc))
            raise NetssoError(f"cannot create lock file {path}: {detail}", hint=_UNWRITABLE_HINT) from None
    raise AssertionError("unreachable")


@contextmanager
def file_lock(path: str, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on path (created 0600, never through a symlink) for the block; wait at most timeout s.

    filelock's descriptor lock is the portable primitive (flock on POSIX, LockFileEx on Windows); the descriptor is
    ours, so that the no-follow open and the file checks stay in safefs. Imported here, not at module level: it costs
    ~40 ms and the cached get-token path never locks."""
    from filelock import lock_descriptor, unlock_descriptor

    fd = _open_lock(path)
    locked = False
    try:
        started = time.monotonic()
        deadline = started + timeout
        told = False
        while True:
            try:
                locked = lock_descriptor(fd, blocking=False)
            except OSError as exc:
                raise NetssoError(f"cannot lock {path}: {exc.strerror or exc}", hint=_UNWRITABLE_HINT) from None
            if locked:
                break
            if not told and time.monotonic() - started >= 1.0:
                # A login in another process can hold the lock for minutes: say why we are silent.
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
        if locked:
            try:
                unlock_descriptor(fd)
            except OSError:
                pass  # closing the descriptor releases it anyway
        os.close(fd)


class _FileStorage:
    name = "file"

    def __init__(self, directory: str, key: str) -> None:
        self.path = os.path.join(directory, key + DATA_SUFFIX)

    def read(self) -> TokenSet | None:
        raw = read_bounded(self.path)
        if raw is None:
            return None
        try:
            tokens = TokenSet.from_dict(json.loads(raw))
        except (ValueError, TokenError, RecursionError):
            set_aside(self.path, "is corrupt")
            return None
        _register(tokens)
        return tokens

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
            tokens = TokenSet.from_dict(json.loads(raw))
        except (ValueError, TokenError, RecursionError):
            log.warn("keyring token entry is corrupt; removing it and logging in again")
            self.delete()
            return None
        _register(tokens)
        return tokens

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
    raw = read_bounded(path)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def _register(tokens: TokenSet) -> None:
    """The cached tokens are secrets of this process from now on: redact them in every message (a provider that
    echoes the refresh token in an error must not print it)."""
    log.register_secret(tokens.refresh_token)
    log.register_secret(tokens.id_token)


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
        """The cached token set, or None (missing; a corrupt entry is moved aside with a warning). NetssoError when the
        cache dir exists but others could write to it (its content cannot be trusted)."""
        if self.storage_name == "file" and not check_existing_dir(self.directory):
            return None
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
        if not check_existing_dir(self.directory):
            return {}
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


def remove_key(directory: str, key: str) -> bool:
    """Remove the file entry of one key (data, lock and state files); True when its data file was there."""
    removed = False
    for suffix in (DATA_SUFFIX, ".lock", ".state"):
        try:
            os.unlink(os.path.join(directory, key + suffix))
            removed = removed or suffix == DATA_SUFFIX
        except OSError:
            pass
    return removed


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
