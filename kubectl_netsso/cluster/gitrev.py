"""Manifests of a Git revision of the repository you stand in (``git:REV`` or ``git:REV:PATH``), read with the real
``git`` (rev-parse, ls-tree, cat-file --batch): never the work tree or the index, so nothing is checked out or
changed. Sizes are bounded; a PATH outside the repository is an error."""

from __future__ import annotations

import os
import posixpath
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from .. import log
from ..errors import EXIT_USAGE, NetssoError
from .manifests import MANIFEST_SUFFIXES

MAX_FILES = 20_000
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
TIMEOUT_S = 120
HINT = "give git:REV or git:REV:PATH (PATH relative to the current directory, inside the repository)"


@dataclass(frozen=True, slots=True)
class Revision:
    """What was read: the files (named ``git:REV:path``), the commit and the path in the repository."""

    files: tuple[tuple[str, bytes], ...]
    commit: str
    path: str
    warnings: tuple[str, ...] = ()


def parse(text: str) -> tuple[str, str]:
    """``git:REV[:PATH]`` -> (REV, PATH); PATH "" = the current directory."""
    body = text[len("git:") :] if text.startswith("git:") else text
    rev, _, path = body.partition(":")
    if not rev or rev.startswith("-"):
        raise NetssoError(f"{text}: no revision", hint=HINT, exit_code=EXIT_USAGE)
    return rev, path


def _git(args: Sequence[str], cwd: str | None, data: bytes | None = None) -> bytes:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        done = subprocess.run(  # noqa: S603 - a fixed program, arguments as a list
            ["git", *args], cwd=cwd, input=data, capture_output=True, timeout=TIMEOUT_S, env=env, check=False
        )
    except FileNotFoundError as exc:
        raise NetssoError("git is not installed", hint="install git, or give a folder of manifests") from exc
    except subprocess.TimeoutExpired as exc:
        raise NetssoError(f"git {args[0]} took more than {TIMEOUT_S} s") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise NetssoError(f"git {args[0]}: {message[-1] if message else f'exit code {done.returncode}'}")
    return done.stdout


def read_revision(text: str, cwd: str | None = None) -> Revision:
    """The manifest files (*.yaml, *.yml, *.json; hidden files and folders skipped, as in a folder) of REV under
    PATH, relative to the current directory like a folder argument."""
    rev, path = parse(text)
    try:
        prefix = _git(["rev-parse", "--show-prefix"], cwd).decode().strip()
    except NetssoError as exc:
        raise NetssoError(f"{text}: not inside a Git repository", hint=HINT, exit_code=EXIT_USAGE) from exc
    try:
        commit = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"], cwd).decode().strip()
    except NetssoError as exc:
        raise NetssoError(f"{text}: unknown revision {rev}", hint="check the name with: git log --oneline -1 REV",
                          exit_code=EXIT_USAGE) from exc  # fmt: skip
    if os.path.isabs(path) or "\\" in path:
        raise NetssoError(f"{text}: PATH must be relative to the current directory", hint=HINT, exit_code=EXIT_USAGE)
    rel = posixpath.normpath(posixpath.join(prefix, path)) if (prefix or path) else "."
    if rel == ".." or rel.startswith("../"):
        raise NetssoError(f"{text}: PATH is outside the repository", hint=HINT, exit_code=EXIT_USAGE)
    args = ["ls-tree", "-r", "-z", "--long", "--full-tree", commit]
    if rel != ".":
        args += ["--", rel]
    listing = _git(args, cwd)
    entries = [e for e in listing.split(b"\0") if e]
    if not entries:
        raise NetssoError(f"{text}: no {rel} in {rev}", hint=HINT, exit_code=EXIT_USAGE)
    wanted: list[tuple[str, str, int]] = []
    warnings: list[str] = []
    total = 0
    for entry in entries:
        meta, _, raw_name = entry.partition(b"\t")
        mode, kind, oid, size_text = meta.decode().split()
        name = raw_name.decode("utf-8", "surrogateescape")
        inner = name[len(rel) + 1 :] if rel != "." and name.startswith(rel + "/") else posixpath.basename(name)
        parts = inner.split("/") if rel != "." else name.split("/")
        if any(p.startswith(".") for p in parts) or not name.lower().endswith(MANIFEST_SUFFIXES):
            continue
        if kind != "blob" or mode == "120000":
            warnings.append(f"git:{rev}:{name}: skipped ({'a symbolic link' if mode == '120000' else 'a submodule'})")
            continue
        size = int(size_text) if size_text.isdigit() else 0
        if size > MAX_FILE_BYTES:
            raise NetssoError(f"git:{rev}:{name}: {size:,} bytes, more than {MAX_FILE_BYTES:,}")
        total += size
        wanted.append((name, oid, size))
    if len(wanted) > MAX_FILES or total > MAX_TOTAL_BYTES:
        raise NetssoError(f"{text}: {len(wanted):,} files, {total:,} bytes: more than {MAX_FILES:,} files or "
                          f"{MAX_TOTAL_BYTES:,} bytes", hint="give a narrower git:REV:PATH")  # fmt: skip
    if not wanted:
        warnings.append(f"{text}: no *.yaml, *.yml or *.json files found")
    blob = _git(["cat-file", "--batch"], cwd, "".join(f"{oid}\n" for _n, oid, _s in wanted).encode()) if wanted else b""
    files: list[tuple[str, bytes]] = []
    pos = 0
    for name, oid, size in wanted:
        header_end = blob.index(b"\n", pos)
        header = blob[pos:header_end].decode().split()
        if len(header) != 3 or header[0] != oid:
            raise NetssoError(f"git cat-file: unexpected answer for {name}")
        start = header_end + 1
        files.append((f"git:{rev}:{name}", blob[start : start + size]))
        pos = start + size + 1
    log.debug(f"{text}: {len(files)} files, {total:,} bytes from commit {commit[:12]}")
    return Revision(tuple(files), commit, rel, tuple(warnings))


__all__ = ["MAX_FILES", "MAX_FILE_BYTES", "MAX_TOTAL_BYTES", "Revision", "parse", "read_revision"]
