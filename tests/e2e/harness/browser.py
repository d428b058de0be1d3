"""Headless Debian Chromium driven by selenium through the test provider's login, consent and device pages."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# Flags needed as root in a container without network (see the harness README): no sandbox as root, no background
# connections, a fresh profile per run, and the test CA is not in Chromium's store.
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps", "--no-first-run", "--disable-quic",
    "--disable-extensions", "--password-store=basic", "--ignore-certificate-errors", "--window-size=1024,768",
)


def chromium_available() -> str | None:
    """None when Chromium and its driver are installed, else what is missing."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    return f"missing {', '.join(missing)} (apt-get install chromium chromium-driver)" if missing else None


class Browser:
    """One headless Chromium with its own throwaway profile."""

    def __init__(self, user_data_dir: Path | None = None) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self._own_dir = user_data_dir is None
        self.user_data_dir = Path(tempfile.mkdtemp(prefix="netsso-chromium-")) if user_data_dir is None else user_data_dir
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for flag in FLAGS:
            opts.add_argument(flag)
        opts.add_argument(f"--user-data-dir={self.user_data_dir}")
        # explicit driver path: otherwise Selenium Manager tries the internet first
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        self.driver.set_page_load_timeout(30)

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            if self._own_dir:
                shutil.rmtree(self.user_data_dir, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.quit()

    # -- page helpers ------------------------------------------------------------------------------------------
    def _find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        found = self.driver.find_elements(By.CSS_SELECTOR, css)
        return found[0] if found else None

    def page_text(self) -> str:
        from selenium.webdriver.common.by import By

        try:
            return str(self.driver.find_element(By.TAG_NAME, "body").text)
        except Exception:
            return ""

    def _submit(self, button: Any, timeout: float = 15.0) -> None:
        """Click and wait until the page has moved on: submitting the same interaction twice (a slow page on a busy
        machine) makes the provider fail the second resume, and with it the login."""
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        button.click()
        try:
            WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(expected_conditions.staleness_of(button))
        except TimeoutException:
            pass

    def _step(self, login: str, password: str) -> bool:
        """Fill whatever provider form is shown; True if something was submitted."""
        from selenium.common.exceptions import WebDriverException

        try:
            field = self._find("input[name=login]")
            if field is not None:
                field.clear()
                field.send_keys(login)
                pw = self._find("input[name=password]")
                if pw is not None:
                    pw.send_keys(password)
                self._submit(self._find("button[type=submit]"))
                return True
            consent = self._find("input[name=prompt][value=consent]")
            if consent is not None:
                self._submit(self._find("button[type=submit]"))
                return True
        except WebDriverException:  # the page changed under us: look again
            return False
        return False

    def login(self, auth_url: str, login: str = "alice", password: str = "x", *, leave_prefix: str | None = None,
              timeout: float = 20.0) -> str:
        """Open auth_url, sign in (and consent if asked) until the browser leaves ``leave_prefix`` (default: the
        URL's origin, i.e. the provider); return the final URL (the loopback callback, usually)."""
        from urllib.parse import urlsplit

        parts = urlsplit(auth_url)
        prefix = leave_prefix or f"{parts.scheme}://{parts.netloc}/"
        self.driver.get(auth_url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            url = self.current_url()
            if not url.startswith(prefix):
                return url
            if not self._step(login, password):
                time.sleep(0.05)
        raise TimeoutError(f"login did not leave the provider within {timeout}s; at {self.current_url()}: "
                           f"{self.page_text()[:300]}")

    def abort(self, auth_url: str, timeout: float = 20.0) -> str:
        """Open auth_url and click the login page's "[ Cancel ]" link (-> redirect with error=access_denied)."""
        from urllib.parse import urlsplit

        from selenium.webdriver.common.by import By

        parts = urlsplit(auth_url)
        prefix = f"{parts.scheme}://{parts.netloc}/"
        self.driver.get(auth_url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            links = self.driver.find_elements(By.PARTIAL_LINK_TEXT, "Cancel")
            if links:
                self._submit(links[0])
                break
            time.sleep(0.05)
        while time.monotonic() < deadline:
            url = self.current_url()
            if not url.startswith(prefix):
                return url
            time.sleep(0.05)
        raise TimeoutError(f"abort did not redirect; at {self.current_url()}")

    def confirm_device(self, verification_uri_complete: str, login: str = "alice", password: str = "x", *,
                       abort: bool = False, timeout: float = 20.0) -> str:
        """Confirm (or abort) a device code at verification_uri_complete and sign in; return the final page text."""
        self.driver.get(verification_uri_complete)
        deadline = time.monotonic() + timeout
        confirmed = False
        while time.monotonic() < deadline:
            text = self.page_text()
            low = text.lower()
            if "Sign-in Success" in text or (confirmed and ("aborted" in low or "interrupted" in low or "error" in low)):
                return text
            try:
                if not confirmed and self._find("form[id='op.deviceConfirmForm']") is not None:
                    button = self._find("button[name=abort]" if abort else "button[autofocus]")
                    if button is not None:
                        confirmed = True
                        self._submit(button)
                        continue
                if confirmed and self._step(login, password):
                    continue
            except Exception:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"device confirmation did not finish; at {self.current_url()}: {self.page_text()[:300]}")

    def current_url(self) -> str:
        try:
            return str(self.driver.current_url)
        except Exception:
            return ""


class BrowserCommand:
    """An executable for the plugin's ``--browser-command``: each call drives a fresh headless Chromium through login
    for the URL it receives (last argument). Behaviour comes from ``config.json`` next to it, read at every call."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "netsso-test-browser"
        self.log_path = self.dir / "invocations.jsonl"
        self.config_path = self.dir / "config.json"
        script = Path(__file__).resolve().parent / "browser_command.py"
        self.path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" --dir "{self.dir}" "$@"\n')
        self.path.chmod(0o755)
        self.set()

    def set(self, login: str = "alice", action: str = "login", password: str = "x", delay: float = 0.0) -> None:
        """action: "login" (sign in, follow to the callback), "abort" (click Cancel), "ignore" (open nothing)."""
        self.config_path.write_text(json.dumps({"login": login, "action": action, "password": password, "delay": delay}))

    def invocations(self) -> list[dict[str, Any]]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]

    def results(self) -> list[dict[str, Any]]:
        """Records written when each invocation finished ({"url", "final_url" or "error"})."""
        path = self.dir / "results.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def wait_finished(self, count: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.results()
            if len(done) >= count:
                return done
            time.sleep(0.1)
        raise TimeoutError(f"browser command finished {len(self.results())} of {count} runs")
