"""`--browser-command` for e2e tests: log the call, then sign in through headless Chromium at the URL (last argument).

Usage: browser_command.py --dir DIR URL. DIR/config.json: {"login", "password", "action": login|abort|ignore, "delay"}.
Appends {"url", "pid", "t"} to DIR/invocations.jsonl at once and {"url", "final_url"|"error"} to DIR/results.jsonl.
Never prints the URL's query (or anything) to stdout: the plugin's stdout is kubectl's channel.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def _append(path: Path, record: dict[str, object]) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] != "--dir":
        print("usage: browser_command.py --dir DIR URL", file=sys.stderr)
        return 2
    directory = Path(argv[1])
    url = argv[-1]
    _append(directory / "invocations.jsonl", {"url": url, "pid": os.getpid(), "t": time.time(), "argv": argv[2:]})
    config = json.loads((directory / "config.json").read_text())
    if config.get("delay"):
        time.sleep(float(config["delay"]))
    action = config.get("action", "login")
    if action == "ignore":
        _append(directory / "results.jsonl", {"url": url, "final_url": None, "action": action})
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from harness.browser import Browser

    try:
        with Browser() as browser:
            if "/device" in url.split("?")[0]:  # verification_uri_complete of the device flow
                final = browser.confirm_device(url, config.get("login", "alice"), config.get("password", "x"),
                                               abort=action == "abort")
            elif action == "abort":
                final = browser.abort(url)
            else:
                final = browser.login(url, config.get("login", "alice"), config.get("password", "x"))
            # let the loopback listener's success/failure page load before the browser closes
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and browser.driver.execute_script("return document.readyState") != "complete":
                time.sleep(0.05)
            page = browser.page_text()[:500]
        _append(directory / "results.jsonl", {"url": url, "final_url": final, "page": page, "action": action,
                                              "t_done": time.time()})
        return 0
    except Exception as exc:  # recorded for the test to show; the plugin only sees the exit code
        _append(directory / "results.jsonl", {"url": url, "error": f"{type(exc).__name__}: {exc}", "action": action})
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
