"""The krew manifest follows krew's manifest rules, and the archive it points at has the shape krew needs."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
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


def test_archive_ships_executable_bin_and_license(tmp_path: Path) -> None:
    out = tmp_path / "netsso.tar.gz"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "krew" / "build_archive.py"), str(out)], check=True,
                   capture_output=True)
    with tarfile.open(out) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["kubectl-netsso"].mode & 0o111, "krew keeps tar mode bits: bin must be executable"
    assert "LICENSE" in members
    assert "src/kubectl_netsso/__main__.py" in members and "src/pyproject.toml" in members
    # Deterministic: building twice gives the same digest (so the manifest's sha256 can be checked at release).
    out2 = tmp_path / "again.tar.gz"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "krew" / "build_archive.py"), str(out2)], check=True,
                   capture_output=True)
    assert out.read_bytes() == out2.read_bytes()
