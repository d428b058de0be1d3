"""First run of the krew launcher: create the private virtual environment once and install the archive's wheel.

Many kubectl processes may start the plugin at the same moment (a shell prompt, an IDE): one installs under a lock
file, the others wait and then use its result. Output stays on stderr and short; pip's own output goes to a log.
Stdlib only (this runs before anything is installed). Usage: python3 install.py ARCHIVE_DIR BASE_DIR
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
from pathlib import Path


def fail(message: str, hint: str | None = None) -> int:
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    return 3


def main(here: Path, base: Path) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - this runs under whatever python3 the user has
        return fail(f"kubectl netsso needs python3 >= 3.11 on PATH (found {sys.version.split()[0]})")
    wheels = sorted(here.glob("kubectl_netsso-*.whl"))
    if len(wheels) != 1:
        return fail(f"the plugin archive in {here} is incomplete (no wheel)", "reinstall: kubectl krew reinstall netsso")
    venv, done, log = base / "venv", base / "venv" / ".installed", base / "install.log"
    try:
        base.mkdir(parents=True, exist_ok=True)
        with open(base / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # the others block here until the first one is done
            if done.exists():
                return 0
            print(f"kubectl-netsso: first run: installing into {base} (once, about a minute)", file=sys.stderr)
            shutil.rmtree(venv, ignore_errors=True)  # a run that was killed midway left a half environment
            with open(log, "w") as out:
                steps = ([sys.executable, "-m", "venv", str(venv)],
                         [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", str(wheels[0])])
                for step in steps:
                    if subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode:
                        return fail(f"first-run install failed (details in {log})",
                                    "check network access to the package index, or set PIP_FIND_LINKS/PIP_NO_INDEX")
            done.write_text(here.name + "\n")
    except OSError as exc:
        return fail(f"cannot set up {base}: {exc.strerror or exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
