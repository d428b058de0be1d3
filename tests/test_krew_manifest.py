"""The krew manifest follows krew's manifest rules, and the archive it points at has the shape krew needs."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import struct
import subprocess
import sys
import tarfile
import zipfile
import zlib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "plugin-manifest" / "netsso.yaml"
SUPPORTED = {("linux", "amd64"), ("linux", "arm64"), ("linux", "arm"), ("darwin", "amd64"), ("darwin", "arm64"),
             ("windows", "amd64"), ("windows", "arm64"), ("windows", "386")}
WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def load() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


def test_top_level_fields() -> None:
    m = load()
    assert m["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert m["kind"] == "Plugin"
    name = m["metadata"]["name"]
    assert name == MANIFEST.stem, "metadata.name must equal the file name without .yaml"
    assert re.fullmatch(r"[\w-]+", name) and name.lower() not in WINDOWS_RESERVED
    spec = m["spec"]
    assert re.fullmatch(r"v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?", spec["version"])
    assert spec["shortDescription"].strip() and "\n" not in spec["shortDescription"].strip()
    assert spec["description"].strip()
    assert spec["homepage"].startswith("https://")


def test_version_matches_package() -> None:
    from kubectl_netsso import __version__

    assert load()["spec"]["version"] == f"v{__version__}"


def test_platforms() -> None:
    spec = load()["spec"]
    platforms = spec["platforms"]
    assert platforms, "at least one platform"
    seen = set()
    for p in platforms:
        labels = p["selector"]["matchLabels"]
        assert labels and set(labels) <= {"os", "arch"}, "selector keys are only os/arch and not empty"
        key = (labels.get("os"), labels.get("arch"))
        assert key in SUPPORTED, key
        assert key not in seen, f"overlapping selectors for {key}"
        seen.add(key)
        assert re.fullmatch(r"[a-f0-9]{64}", p["sha256"])
        assert p["uri"].startswith("https://") and p["uri"].endswith((".tar.gz", ".zip"))
        assert spec["version"] in p["uri"], "the uri names the release version"
        assert p["bin"] == "kubectl-netsso"


def build(out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "krew" / "build_archive.py"), str(out)],
                          capture_output=True, text=True, timeout=120)


def test_archive_ships_executable_bin_license_and_a_wheel(tmp_path: Path) -> None:
    out = tmp_path / "netsso.tar.gz"
    assert build(out).returncode == 0
    with tarfile.open(out) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["kubectl-netsso"].mode & 0o111, "krew keeps tar mode bits: bin must be executable"
    assert set(members) == {"kubectl-netsso", "install.py", "LICENSE", "VERSION", "kubectl_netsso-0.1.0-py3-none-any.whl"}
    # Deterministic: building twice gives the same bytes (so the manifest's sha256 can be checked).
    out2 = tmp_path / "again.tar.gz"
    assert build(out2).returncode == 0
    assert out.read_bytes() == out2.read_bytes()


def test_the_archive_bytes_depend_on_no_compressor(tmp_path: Path) -> None:
    # gzip.compress wrote OS byte 3 on Python 3.11 and 255 on 3.13, so the manifest's sha256 depended on the Python
    # that built it; deflated bytes also differ between zlib builds. The archive stores, and its header is fixed.
    out = tmp_path / "netsso.tar.gz"
    assert build(out).returncode == 0
    data = out.read_bytes()
    assert data[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no flags, mtime 0, OS unknown
    pos, tar = 10, b""
    while True:
        header = data[pos]
        assert header in (0, 1), f"deflate block at {pos} is not a stored block"  # BTYPE 00
        length, nlength = struct.unpack_from("<HH", data, pos + 1)
        assert length ^ nlength == 0xFFFF
        tar += data[pos + 5:pos + 5 + length]
        pos += 5 + length
        if header == 1:
            break
    assert data[pos:] == struct.pack("<II", zlib.crc32(tar), len(tar)) and tar == gzip.decompress(data)
    with tarfile.open(out) as archive:
        member = archive.extractfile("kubectl_netsso-0.1.0-py3-none-any.whl")
        assert member is not None
        wheel = zipfile.ZipFile(io.BytesIO(member.read()))
    assert {info.compress_type for info in wheel.infolist()} == {zipfile.ZIP_STORED}


def test_manifest_sha256_is_the_archive_built_from_this_tree(tmp_path: Path) -> None:
    out = tmp_path / "netsso.tar.gz"
    assert build(out).returncode == 0
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    for platform in load()["spec"]["platforms"]:
        assert platform["sha256"] == digest, (
            "plugin-manifest/netsso.yaml is stale: run python scripts/krew/build_archive.py OUT.tar.gz --update-manifest"
        )


def test_the_wheel_holds_what_setuptools_installs(tmp_path: Path, installed_site: Path) -> None:
    # build_archive.py writes the wheel itself (for a reproducible sha256): it must hold exactly what a plain
    # `pip install .` installs, file for file, with the same dependencies and executables
    out = tmp_path / "netsso.tar.gz"
    assert build(out).returncode == 0
    with tarfile.open(out) as tar:
        member = tar.extractfile("kubectl_netsso-0.1.0-py3-none-any.whl")
        assert member is not None
        wheel = zipfile.ZipFile(io.BytesIO(member.read()))
    package = {n: wheel.read(n) for n in wheel.namelist() if n.startswith("kubectl_netsso/")}
    installed = {p.relative_to(installed_site).as_posix(): p.read_bytes()
                 for p in (installed_site / "kubectl_netsso").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert sorted(package) == sorted(installed)
    assert package == installed
    assert {"kubectl_netsso/examples/shop-expect.yaml", "kubectl_netsso/py.typed"} <= set(package)

    def requires(metadata: str) -> list[str]:
        return [ln.split(": ", 1)[1] for ln in metadata.splitlines()
                if ln.startswith("Requires-Dist: ") and "extra ==" not in ln]

    dist_info = installed_site / "kubectl_netsso-0.1.0.dist-info"
    assert requires(wheel.read("kubectl_netsso-0.1.0.dist-info/METADATA").decode()) == requires(
        (dist_info / "METADATA").read_text())
    ours = wheel.read("kubectl_netsso-0.1.0.dist-info/entry_points.txt").decode().split()
    assert sorted(ours) == sorted((dist_info / "entry_points.txt").read_text().split())


def test_build_script_creates_its_folder_and_errors_in_one_line(tmp_path: Path) -> None:
    assert build(tmp_path / "a" / "b" / "netsso.tar.gz").returncode == 0
    (tmp_path / "file").write_text("")
    r = build(tmp_path / "file" / "netsso.tar.gz")
    assert r.returncode == 3 and "Traceback" not in r.stderr
    assert r.stderr.startswith("error: cannot build the krew archive: ") and len(r.stderr.splitlines()) == 1, r.stderr
