"""Build the krew archive (a deterministic .tar.gz) and optionally write its sha256 into the manifest.

The archive holds the launcher `kubectl-netsso` (executable), its first-run installer install.py, LICENSE, VERSION
and a wheel of the package, so the first run installs the plugin itself without building anything (no build backend
to fetch) and, given a local wheelhouse, fully offline. The wheel is written here rather than by setuptools so that
the archive, and with it the manifest's sha256, is byte-for-byte reproducible from the tree; its files follow
pyproject's package-data globs, and tests/test_krew_manifest.py checks it file for file against a plain `pip install .`.
Nothing is compressed (stored zip entries, stored gzip blocks): compressed bytes depend on the Python version (gzip's
header OS byte is 3 up to 3.12 and 255 from 3.13) and on the zlib build (zlib-ng and other forks deflate differently),
and the manifest's sha256 must come out the same wherever the test runs. The archive is about 0.9 MB.
Usage: python scripts/krew/build_archive.py OUT.tar.gz [--update-manifest]
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import io
import os
import re
import struct
import sys
import tarfile
import tomllib
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "plugin-manifest" / "netsso.yaml"
PACKAGE = "kubectl_netsso"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold: no build time in the archive


class BuildError(Exception):
    pass


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def version() -> str:
    match = re.search(r'__version__ = "([^"]+)"', (ROOT / PACKAGE / "__init__.py").read_text())
    if not match:
        raise BuildError(f"no __version__ in {PACKAGE}/__init__.py")
    return match.group(1)


def package_files() -> list[str]:
    """Paths (relative to the repo) that the wheel holds: every .py of the package plus pyproject's package-data."""
    globs = project()["tool"]["setuptools"]["package-data"][PACKAGE]
    found = []
    # followlinks: kubectl_netsso/examples is a link to the repo's examples/
    for folder, dirs, files in os.walk(ROOT / PACKAGE, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in files:
            rel = (Path(folder) / name).relative_to(ROOT / PACKAGE).as_posix()
            if name.endswith(".py") or any(_glob_match(rel, g) for g in globs):
                found.append(f"{PACKAGE}/{rel}")
    return sorted(found)


def _glob_match(rel: str, pattern: str) -> bool:
    if "**" in pattern:  # "examples/**/*": anything below examples/
        return rel.startswith(pattern.split("**", 1)[0])
    # "data/*.yaml": that folder only, as setuptools reads it
    return os.path.dirname(rel) == os.path.dirname(pattern) and fnmatch.fnmatch(os.path.basename(rel), os.path.basename(pattern))


def _metadata(ver: str) -> str:
    proj = project()["project"]
    lines = ["Metadata-Version: 2.1", f"Name: {proj['name']}", f"Version: {ver}", f"Summary: {proj['description']}",
             f"License: {proj['license']}", f"Requires-Python: {proj['requires-python']}"]
    lines += [f"Requires-Dist: {dep}" for dep in proj["dependencies"]]
    return "\n".join(lines) + "\n"


def _entry_points() -> str:
    scripts = project()["project"]["scripts"]
    return "[console_scripts]\n" + "".join(f"{name} = {target}\n" for name, target in scripts.items())


def build_wheel(ver: str) -> tuple[str, bytes]:
    dist_info = f"{PACKAGE}-{ver}.dist-info"
    entries = [(name, (ROOT / name).read_bytes()) for name in package_files()]
    entries += [
        (f"{dist_info}/METADATA", _metadata(ver).encode()),
        (f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: kubectl-netsso build_archive\nRoot-Is-Purelib: true\n"
                               b"Tag: py3-none-any\n"),
        (f"{dist_info}/entry_points.txt", _entry_points().encode()),
        (f"{dist_info}/LICENSE", (ROOT / "LICENSE").read_bytes()),
    ]
    record = "".join(
        f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}\n"
        for name, data in entries
    ) + f"{dist_info}/RECORD,,\n"
    entries.append((f"{dist_info}/RECORD", record.encode()))
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as whl:
        for name, data in entries:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED
            whl.writestr(info, data)
    return f"{PACKAGE}-{ver}-py3-none-any.whl", raw.getvalue()


def stored_gzip(data: bytes) -> bytes:
    """A gzip member (RFC 1952) holding ``data`` in stored deflate blocks (RFC 1951 BTYPE 00) under a fixed header:
    no name, mtime 0, OS 255 (unknown). The same bytes from any Python and any zlib."""
    out = bytearray(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")
    chunks = [data[i:i + 0xFFFF] for i in range(0, len(data), 0xFFFF)] or [b""]
    for n, chunk in enumerate(chunks):
        out += bytes([n == len(chunks) - 1])  # BFINAL on the last block, BTYPE 00; the rest of the byte is padding
        out += struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF) + chunk
    out += struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return bytes(out)


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def build(out: Path) -> str:
    ver = version()
    wheel_name, wheel = build_wheel(ver)
    files: list[tuple[str, bytes, int]] = [
        ("kubectl-netsso", (ROOT / "scripts" / "krew" / "kubectl-netsso").read_bytes(), 0o755),
        ("install.py", (ROOT / "scripts" / "krew" / "install.py").read_bytes(), 0o644),
        ("LICENSE", (ROOT / "LICENSE").read_bytes(), 0o644),
        ("VERSION", f"v{ver}\n".encode(), 0o644),
        (wheel_name, wheel, 0o644),
    ]
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, mode in sorted(files):
            _add(tar, name, data, mode)
    compressed = stored_gzip(raw.getvalue())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(compressed)
    return hashlib.sha256(compressed).hexdigest()


def main(argv: list[str]) -> int:
    args = [a for a in argv if a != "--update-manifest"]
    if len(args) != 1 or args[0].startswith("-"):
        print("error: usage: python scripts/krew/build_archive.py OUT.tar.gz [--update-manifest]", file=sys.stderr)
        return 2
    out = Path(args[0])
    try:
        digest = build(out)
        print(f"{out}: sha256 {digest}")
        if "--update-manifest" in argv:
            text = MANIFEST.read_text()
            text = re.sub(r"sha256: [0-9a-f]{64}", f"sha256: {digest}", text)
            text = re.sub(r"version: v[0-9.]+", f"version: v{version()}", text)
            release = f"/download/v{version()}/kubectl-netsso-v{version()}.tar.gz"
            text = re.sub(r"/download/v[0-9.]+/kubectl-netsso-v[0-9.]+\.tar\.gz", release, text)
            MANIFEST.write_text(text)
            print(f"updated {MANIFEST.relative_to(ROOT)}")
    except (OSError, BuildError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        where = f"{exc.filename}: " if isinstance(exc, OSError) and exc.filename else ""
        print(f"error: cannot build the krew archive: {where}{detail}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
