"""The example clusters shipped inside the package, named ``example:NAME`` wherever a manifests or --expect path goes.

The files live in the repo's ``examples/`` folder (the one source); the package's ``examples`` entry links to it, so a
checkout, an editable install and a built wheel all read the same files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import NetssoError

PREFIX = "example:"
ROOT = Path(__file__).resolve().parents[1] / "examples"
_HINT_WRITE = "write them into a folder with: kubectl netsso examples DIR"


def names() -> list[str]:
    """The top-level examples: folders of manifests and loose files (expectations), README aside."""
    if not ROOT.is_dir():
        return []
    return sorted(p.name for p in ROOT.iterdir() if p.name != "README.md" and not p.name.startswith("."))


def resolve(path: str) -> str:
    """``example:NAME[/SUB]`` -> the path of that shipped file or folder; any other path is returned unchanged."""
    if not path.startswith(PREFIX):
        return path
    rel = path[len(PREFIX):]
    parts = [p for p in rel.replace("\\", "/").split("/") if p not in ("", ".")]
    # the name comes from the command line; never let it climb out of the examples folder
    if not parts or ".." in parts or parts[0] not in names():
        known = ", ".join(PREFIX + n for n in names()) or "none (this installation has no examples)"
        raise NetssoError(f"unknown example {rel!r} (known: {known})", hint=_HINT_WRITE)
    target = ROOT.joinpath(*parts)
    if not target.exists():
        raise NetssoError(f"{path}: no such file or directory in the example", hint=_HINT_WRITE)
    return str(target)


def write_out(dest: Path) -> list[Path]:
    """Copy every example into ``dest`` (created); refuses to overwrite. Returns the top-level entries written."""
    entries = [ROOT / n for n in names()] + ([ROOT / "README.md"] if (ROOT / "README.md").is_file() else [])
    if not entries:
        raise NetssoError("this installation has no examples", hint="reinstall kubectl-netsso")
    clashes = [str(dest / e.name) for e in entries if (dest / e.name).exists() or (dest / e.name).is_symlink()]
    if clashes:
        raise NetssoError(f"{clashes[0]} already exists", hint="pick an empty or new DIR, or remove the old copy first")
    try:
        dest.mkdir(parents=True, exist_ok=True)
        written = []
        for entry in entries:
            target = dest / entry.name
            if entry.is_dir():
                shutil.copytree(entry, target, symlinks=False)
            else:
                shutil.copyfile(entry, target)
            written.append(target)
    except OSError as exc:
        raise NetssoError(f"cannot write the examples into {dest}: {exc.strerror or exc}") from exc
    return written
