"""Build the krew archive (a deterministic .tar.gz) and optionally write its sha256 into the manifest.

The archive holds the launcher `kubectl-netsso` (executable), LICENSE, VERSION and the package source under src/.
Usage: python scripts/krew/build_archive.py OUT.tar.gz [--update-manifest]
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "plugin-manifest" / "netsso.yaml"
SOURCE_FILES = ["pyproject.toml", "README.md", "LICENSE"]


def version() -> str:
    text = (ROOT / "kubectl_netsso" / "__init__.py").read_text()
    match = re.search(r'__version__ = "([^"]+)"', text)
    assert match, "no __version__"
    return match.group(1)


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def build(out: Path) -> str:
    files: list[tuple[str, bytes, int]] = [
        ("kubectl-netsso", (ROOT / "scripts" / "krew" / "kubectl-netsso").read_bytes(), 0o755),
        ("LICENSE", (ROOT / "LICENSE").read_bytes(), 0o644),
        ("VERSION", f"v{version()}\n".encode(), 0o644),
    ]
    for name in SOURCE_FILES:
        files.append((f"src/{name}", (ROOT / name).read_bytes(), 0o644))
    for path in sorted((ROOT / "kubectl_netsso").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".yaml", ".json", ".typed"):
            files.append((f"src/{path.relative_to(ROOT).as_posix()}", path.read_bytes(), 0o644))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, mode in sorted(files):
            _add(tar, name, data, mode)
    compressed = gzip.compress(raw.getvalue(), mtime=0)
    out.write_bytes(compressed)
    return hashlib.sha256(compressed).hexdigest()


def main() -> None:
    out = Path(sys.argv[1])
    digest = build(out)
    print(f"{out}: sha256 {digest}")
    if "--update-manifest" in sys.argv:
        text = MANIFEST.read_text()
        text = re.sub(r"sha256: [0-9a-f]{64}", f"sha256: {digest}", text)
        text = re.sub(r"version: v[0-9.]+", f"version: v{version()}", text)
        MANIFEST.write_text(text)
        print(f"updated {MANIFEST.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
