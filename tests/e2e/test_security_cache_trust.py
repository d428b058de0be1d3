"""Issue 9 item 3 with a real second local user: another account on the machine tries to take over the victim's token
cache to receive the refresh token (and client secret) on its own server, or to see the victim's tokens land in a
directory it controls. Real provider, real Chromium login, the installed executable; the attacker's steps run as a
user created for the test (root only, else skipped)."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from harness.env import IsolatedHome
from harness.netsso import browser_args, exec_info, provider_args

from kubectl_netsso.auth import discovery
from kubectl_netsso.auth.settings import ProviderSettings


@dataclass(frozen=True, slots=True)
class Attacker:
    name: str
    uid: int
    gid: int

    def sh(self, script: str, *args: str) -> None:
        """Run a shell script as the attacker (no supplementary groups); fail the test if a step fails."""
        proc = subprocess.run(["/bin/sh", "-ec", script, "attacker", *args], user=self.uid, group=self.gid,
                              extra_groups=[], env={"PATH": "/usr/bin:/bin", "HOME": "/"}, capture_output=True,
                              text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def attacker() -> Iterator[Attacker]:
    if os.geteuid() != 0:
        pytest.skip("needs root to create a second local user (useradd)")
    if not shutil.which("useradd") or not shutil.which("userdel"):
        pytest.skip("useradd/userdel not installed")
    name = f"netsso-atk{os.getpid() % 100000}"
    made = subprocess.run(["useradd", "--no-create-home", "--user-group", "--shell", "/bin/sh", name],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"useradd failed: {made.stderr.strip()}")
    entry = pwd.getpwnam(name)
    try:
        yield Attacker(name, entry.pw_uid, entry.pw_gid)
    finally:
        subprocess.run(["userdel", name], capture_output=True)


@pytest.fixture
def shared_base() -> Iterator[Path]:
    """A directory every user can traverse (pytest's tmp dirs are 0700), like the parent of home directories."""
    base = Path(tempfile.mkdtemp(prefix="netsso-multiuser-"))
    os.chmod(base, 0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


class StealingServer:
    """The attacker's token endpoint on 127.0.0.1: records every request body it receives."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return None

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                outer.bodies.append(self.rfile.read(length).decode(errors="replace") + " " +
                                    str(self.headers.get("Authorization")))
                body = b'{"error": "invalid_grant"}'
                self.send_response(400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _victim(base: Path) -> IsolatedHome:
    home = IsolatedHome.create(base / "home")
    os.chmod(home.path, 0o755)
    return home


def _run(recorder: Any, home: IsolatedHome, *args: str, env: dict[str, str] | None = None,
         label: str = "kubectl-netsso (cache trust)") -> subprocess.CompletedProcess[str]:
    exe = shutil.which("kubectl-netsso", path=home.env["PATH"])
    if exe is None:
        pytest.skip("kubectl-netsso is not installed (pip install -e .)")
    return recorder.run([exe, *args], env={**home.env, **(env or {})}, label=label,
                        stdout_is_credential=args[:1] == ("get-token",), timeout=90)


def test_other_user_cannot_redirect_the_refresh_through_a_planted_discovery_document(
        provider, browser_command, recorder, attacker, shared_base):
    """An older version under umask 000 left ~/.kube and ~/.kube/cache 0777. The attacker moves the victim's cache
    dir aside, puts its own in place with a link to the victim's token file and a discovery document (fresh "for
    ever") whose token endpoint is the attacker's server, and waits for the victim's next refresh."""
    home = _victim(shared_base)
    browser_command.set(login="alice")
    login = _run(recorder, home, "login", *provider_args(provider, *browser_args(browser_command)))
    assert login.returncode == 0, login.stderr
    for d in (home.path / ".kube", home.path / ".kube" / "cache"):
        os.chmod(d, 0o777)
    settings = ProviderSettings.from_exec_args(provider_args(provider), home.env)
    planted_path = discovery._cache_file(settings)
    assert planted_path is not None
    thief = StealingServer()
    try:
        doc = Path(shared_base / "planted.json")
        doc.write_text(json.dumps({"fetched_at": time.time() + 10 * 365 * 86400,
                                   "config": {**provider.discovery(), "token_endpoint": thief.url}, "jwks": None}))
        os.chmod(doc, 0o644)
        cache = str(home.cache_dir)
        # The file names are sha256 of public settings (issuer, client id, scopes, CA path): the attacker can compute
        # them, though it cannot list the victim's 0700 directory.
        attacker.sh('mv "$1" "$1.victim"; mkdir -m 777 "$1" "$1/discovery"; ln -s "$1.victim/$4" "$1/$4"; '
                    'cp "$2" "$1/discovery/$(basename "$3")"',
                    cache, str(doc), planted_path, settings.cache_key() + ".json")
        assert os.stat(cache).st_uid == attacker.uid  # the attack is in place
        r = _run(recorder, home, "get-token", "--force-refresh", *provider_args(provider),
                 env={"KUBERNETES_EXEC_INFO": exec_info()})
    finally:
        thief.stop()
    assert len(thief.bodies) == 0, "the refresh token went to the attacker's server"  # (never print the bodies)
    assert r.returncode == 3 and r.stdout == ""
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"token cache dir {cache} is owned by another user" in errors[0], r.stderr
    assert "hint:" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("planted", ["symlink", "directory"])
def test_tokens_never_land_in_a_directory_another_user_controls(
        provider, browser_command, recorder, attacker, shared_base, planted):
    """--token-cache-dir under a shared sticky dir (like /tmp): the attacker creates that path first, as a link to
    its own directory or as its own directory. The login must refuse before any browser opens."""
    shared = shared_base / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    home = _victim(shared_base)
    target, loot = shared / "netsso-cache", shared / "attacker-dir"
    if planted == "symlink":
        attacker.sh('mkdir -m 777 "$1"; ln -s "$1" "$2"', str(loot), str(target))
    else:
        attacker.sh('mkdir -m 777 "$1"; ln -s "$1" "$2"; rm "$2"; mv "$1" "$2"; mkdir -m 777 "$1"', str(loot), str(target))
    browser_command.set(login="alice")
    r = _run(recorder, home, "login", *provider_args(provider, *browser_args(browser_command)),
             f"--token-cache-dir={target}")
    assert r.returncode == 3, (r.stdout, r.stderr)
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    why = "is a symbolic link" if planted == "symlink" else "is owned by another user"
    assert len(errors) == 1 and why in errors[0], r.stderr
    assert browser_command.invocations() == []
    assert list(loot.iterdir()) == [] and (planted == "symlink" or list(target.iterdir()) == [])


def test_cache_dir_below_another_users_directory_is_refused(provider, recorder, attacker, shared_base):
    home = _victim(shared_base)
    theirs = shared_base / "theirs"
    theirs.mkdir(mode=0o755)
    os.chown(theirs, attacker.uid, attacker.gid)  # e.g. the other user's home, or a dir they made in /tmp
    os.makedirs(theirs / "mine" / "cache", mode=0o700)  # root may create it; the attacker can still replace "mine"
    r = _run(recorder, home, "get-token", *provider_args(provider), f"--token-cache-dir={theirs / 'mine' / 'cache'}",
             env={"KUBERNETES_EXEC_INFO": exec_info()})
    assert r.returncode == 3
    assert f"is inside {theirs}, which is owned by another user" in r.stderr, r.stderr
