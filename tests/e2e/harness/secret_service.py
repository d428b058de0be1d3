"""A real Secret Service for keyring tests: a private D-Bus session bus plus an unlocked gnome-keyring-daemon.

Same as `dbus-run-session -- sh -c 'echo -n pass | gnome-keyring-daemon --unlock --components=secrets; ...'`, but with
both processes started and stopped by PID from the test, so a plain `pytest` run needs no wrapper.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path


def secret_service_missing() -> str | None:
    missing = [b for b in ("dbus-daemon", "gnome-keyring-daemon", "dbus-send") if shutil.which(b) is None]
    if not missing:
        return None
    return f"missing {', '.join(missing)} (apt-get install dbus-daemon dbus-x11 gnome-keyring libsecret-tools)"


class SecretService:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = dict(env)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.address = ""

    def start(self, timeout: float = 10.0) -> SecretService:
        Path(self.env["HOME"]).mkdir(parents=True, exist_ok=True)
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"], env=self.env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.procs.append(bus)
        assert bus.stdout is not None
        self.address = bus.stdout.readline().decode().strip()
        if not self.address:
            self.stop()
            raise RuntimeError("dbus-daemon printed no address")
        self.env["DBUS_SESSION_BUS_ADDRESS"] = self.address
        keyring = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                                   env=self.env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        self.procs.append(keyring)
        assert keyring.stdin is not None
        keyring.stdin.write(b"netsso-test-login-password")  # unlocks (creates) the login keyring, no prompt needed
        keyring.stdin.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            probe = subprocess.run(
                ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                 "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets"],
                env=self.env, capture_output=True, text=True, timeout=5)
            if "boolean true" in probe.stdout:
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("gnome-keyring-daemon did not claim org.freedesktop.secrets")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            if proc.stdout is not None:
                proc.stdout.close()
        self.procs.clear()
