"""Private files and directories for the token cache: trusted directories, no-follow opens, bounded reads (stdlib only).

The cache holds refresh tokens and the provider's endpoints: another local user who can write into it (or swap a
directory for a symlink) can plant a discovery document that sends the refresh token and client secret to their own
server. So every directory the plugin creates is 0700 whatever the umask, a directory is used only when it is the
user's own and writable by nobody else, and files are opened without following symlinks and checked after opening.
Only ``os`` and ``stat``: the get-token fast path uses this module.
"""

from __future__ import annotations

import os
import stat

MAX_FILE_BYTES = 1 << 20  # a token set or a discovery document + JWKS is a few kB; a 1 MiB entry is not ours

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO planted as a cache file must not block open()
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_HAS_UID = hasattr(os, "getuid")  # ownership checks are POSIX only (Windows has per-user profile ACLs)


class UnsafePath(Exception):
    """A cache directory that must not be used (message and hint for the one-line error)."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UnsafeFile(Exception):
    """A cache file that is not the user's own regular file of sane size (the entry is set aside)."""


def _uid() -> int:
    return os.getuid() if _HAS_UID else -1


def _trusted_owner(uid: int) -> bool:
    return not _HAS_UID or uid in (0, _uid())


def make_private_dirs(path: str) -> None:
    """Create path and its missing parents, each 0700 regardless of the umask (mkdir's mode is masked by it)."""
    missing = []
    current = os.path.abspath(path)
    while not os.path.lexists(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            continue  # another process made it at the same moment; check_dir judges it
        os.chmod(directory, 0o700)


def check_dir(path: str, tighten: bool = True) -> None:
    """Refuse a cache directory another user could write to or redirect: it must be a real directory (not a symlink),
    owned by the user and not group/world-writable; each parent must be owned by the user or root and not writable by
    others (unless sticky, like /tmp). A directory of ours that others can only read is tightened to 0700."""
    path = os.path.abspath(path)
    st = os.lstat(path)
    fix = f"chmod 700 {path}, or choose another --token-cache-dir"
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePath(f"token cache dir {path} is a symbolic link",
                         f"replace it with a real directory, or point --token-cache-dir at {os.path.realpath(path)}")
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePath(f"token cache dir {path} is not a directory", "remove it, or choose another --token-cache-dir")
    if _HAS_UID:
        if st.st_uid != _uid():
            raise UnsafePath(f"token cache dir {path} is owned by another user (uid {st.st_uid})",
                             "use a directory of your own with --token-cache-dir")
        if st.st_mode & 0o022:
            raise UnsafePath(f"token cache dir {path} is writable by other users (mode {stat.S_IMODE(st.st_mode):04o})", fix)
        if st.st_mode & 0o077 and tighten:
            os.chmod(path, 0o700)
    _check_parents(path)


def _check_parents(path: str) -> None:
    if not _HAS_UID:
        return
    seen = set()
    # The parents as written (a symlink among them must be the user's or root's) and as resolved (where the files are).
    for start in (os.path.dirname(path), os.path.realpath(os.path.dirname(path))):
        current = start
        while current not in seen:
            seen.add(current)
            try:
                st = os.lstat(current)
            except OSError:
                break
            sticky = bool(st.st_mode & stat.S_ISVTX)
            if not _trusted_owner(st.st_uid):
                raise UnsafePath(f"token cache dir {path} is inside {current}, which is owned by another user (uid {st.st_uid})",
                                 "use a directory of your own with --token-cache-dir")
            if not stat.S_ISLNK(st.st_mode) and not sticky and (
                    st.st_mode & 0o002 or (st.st_mode & 0o020 and st.st_uid == _uid())):
                raise UnsafePath(f"token cache dir {path} is inside {current}, which other users can write to "
                                 f"(mode {stat.S_IMODE(st.st_mode):04o})",
                                 f"chmod go-w {current}, or choose another --token-cache-dir")
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent


def ensure_private_dir(path: str) -> None:
    """make_private_dirs + check_dir."""
    make_private_dirs(path)
    check_dir(path)


def read_private(path: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the user's own regular file at path, read without following a symlink and at most limit bytes.

    FileNotFoundError when absent; UnsafeFile for a symlink, FIFO, device, directory, someone else's file, a file
    others may write, or one larger than limit; other OSErrors as raised.
    """
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC | _NOCTTY | _BINARY)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        if os.path.islink(path):
            raise UnsafeFile("is a symbolic link") from None
        raise
    try:
        _check_file(os.fstat(fd), limit)
        chunks = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise UnsafeFile(f"is larger than {limit} bytes")
        return data
    finally:
        os.close(fd)


def _check_file(st: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeFile("is not a regular file")
    if _HAS_UID and st.st_uid != _uid():
        raise UnsafeFile(f"is owned by another user (uid {st.st_uid})")
    if _HAS_UID and st.st_mode & 0o022:
        raise UnsafeFile(f"is writable by other users (mode {stat.S_IMODE(st.st_mode):04o})")
    if st.st_size > limit:
        raise UnsafeFile(f"is larger than {limit} bytes")


def readable_by_others(path: str) -> bool:
    """True when the group or others may read path (never follows a symlink; read_private has refused those)."""
    return _HAS_UID and bool(os.lstat(path).st_mode & 0o044)


def open_lock_file(path: str) -> int:
    """A read-write descriptor of the lock file (created 0600), never through a symlink; UnsafeFile when path is not
    the user's own regular file."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC | _NOCTTY | _NONBLOCK | _BINARY, 0o600)
    try:
        _check_file(os.fstat(fd), MAX_FILE_BYTES)
        if _HAS_UID:
            os.fchmod(fd, 0o600)
    except BaseException:
        os.close(fd)
        raise
    return fd
