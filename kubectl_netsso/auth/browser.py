"""Open a URL in a graphical browser without ever touching stdout; never a text-mode browser.

stdout belongs to the ExecCredential JSON, and a console browser (lynx, w3m) started by get-token would take over the
terminal of a kubectl run, so only graphical openers are used; otherwise the URL is just printed to stderr.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

from .. import log
from ..errors import NetssoError

TEXT_BROWSERS = frozenset({"lynx", "links", "links2", "elinks", "w3m", "www-browser", "browsh", "netsurf-fb", "edbrowse"})
# Browsers whose command line ends its options at "--" (Chromium's base::CommandLine switch terminator): the URL goes
# after it, so even a URL that somehow started with "-" could not become a flag.
DASHDASH_BROWSERS = frozenset({"chromium", "chromium-browser", "chrome", "google-chrome", "google-chrome-stable",
                               "google-chrome-beta", "brave", "brave-browser", "microsoft-edge", "microsoft-edge-stable",
                               "msedge", "vivaldi", "opera"})


def safe_url(url: str) -> str:
    """The last check before a URL joins a browser's argv: an http(s) URL, never something a browser reads as a flag
    (discovery.check_url has already refused other schemes; this guards every caller)."""
    if not isinstance(url, str) or not (url.startswith("https://") or url.startswith("http://")):
        shown = repr(url)[:120]
        raise NetssoError(f"refusing to open {shown} in a browser: not an http(s) URL",
                          hint="the provider's URLs must be https")
    return url


def over_ssh(env: dict[str, str] | os._Environ[str] | None = None) -> bool:
    env = os.environ if env is None else env
    return bool(env.get("SSH_CONNECTION") or env.get("SSH_CLIENT") or env.get("SSH_TTY"))


def has_display(env: dict[str, str] | os._Environ[str] | None = None, platform: str | None = None) -> bool:
    """Whether a graphical browser can be shown here: macOS/Windows yes; Linux/BSD only with DISPLAY or WAYLAND_DISPLAY."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if platform == "darwin" or platform.startswith("win"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def can_open_browser(browser_command: str | None, env: dict[str, str] | os._Environ[str] | None = None,
                     platform: str | None = None) -> bool:
    """auto grant: authcode when a browser can be opened, device code when not (SSH, no display on Linux)."""
    if browser_command:
        return True
    return has_display(env, platform) and not over_ssh(env)


def _command_for(url: str, browser_command: str | None) -> list[str] | None:
    if browser_command:
        try:
            argv = shlex.split(browser_command)
        except ValueError as exc:
            raise NetssoError(f"--browser-command cannot be parsed: {exc}") from None
        if not argv:
            raise NetssoError("--browser-command is empty")
        if os.path.basename(argv[0]) in TEXT_BROWSERS:
            raise NetssoError(f"--browser-command {argv[0]} is a text-mode browser; it would take over the terminal",
                              hint="use a graphical browser, or --skip-open-browser and open the URL yourself")
        if os.path.basename(argv[0]).removesuffix(".exe") in DASHDASH_BROWSERS and "--" not in argv[1:]:
            return argv + ["--", url]
        return argv + [url]
    if sys.platform == "darwin":
        return ["open", url]
    if sys.platform.startswith("win"):
        return None  # os.startfile below
    if not has_display():
        return None
    for opener in ("xdg-open", "gio"):
        path = shutil.which(opener)
        if path:
            return [path, url] if opener == "xdg-open" else [path, "open", url]
    return None


def browser_env() -> dict[str, str]:
    """Our environment minus every NETSSO_* variable: the browser (and whatever it starts) has no use for the plugin's
    settings, and NETSSO_OIDC_CLIENT_SECRET is a secret."""
    return {k: v for k, v in os.environ.items() if not k.upper().startswith("NETSSO_")}


def open_url(url: str, browser_command: str | None = None) -> bool:
    """Start the browser (not waited for); True if something was started. stdout of the child goes to stderr."""
    if sys.platform.startswith("win") and not browser_command:  # pragma: no cover - not tested here
        url = safe_url(url)
        try:
            os.startfile(url)  # type: ignore[attr-defined]
            return True
        except OSError:
            return False
    url = safe_url(url)
    argv = _command_for(url, browser_command)
    if argv is None:
        return False
    try:
        subprocess.Popen(  # noqa: S603 - argv list, no shell
            argv, env=browser_env(),
            stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno() if _has_fileno(sys.stderr) else subprocess.DEVNULL,
            stderr=subprocess.DEVNULL if not browser_command else (sys.stderr.fileno() if _has_fileno(sys.stderr) else None),
            start_new_session=True, close_fds=True,
        )
    except OSError as exc:
        if browser_command:
            raise NetssoError(f"--browser-command {argv[0]} could not be started: {exc.strerror or exc}") from None
        log.debug(f"could not start {argv[0]}: {exc}")
        return False
    return True


def _has_fileno(stream: object) -> bool:
    try:
        stream.fileno()  # type: ignore[attr-defined]
        return True
    except (AttributeError, OSError, ValueError):
        return False
