#!/usr/bin/env bash
# Install everything the test suite needs on a brand-new Debian machine (apt, pip, npm), then run it.
# Extra arguments go to pytest (e.g. `scripts/test.sh -m "not e2e"`). The exit code is pytest's (or the first failing step's).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: Chromium + its driver for the real browser, gnome-keyring + a D-Bus session bus + secret-tool for the
# real Secret Service (the keyring test starts its own private bus and unlocked daemon), openssl for debugging certs.
need_apt=()
for bin in /usr/bin/chromium /usr/bin/chromedriver gnome-keyring-daemon dbus-daemon dbus-send dbus-launch secret-tool openssl; do
  command -v "$bin" >/dev/null 2>&1 || need_apt+=("$bin")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing Debian packages for: ${need_apt[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    chromium chromium-driver gnome-keyring dbus-daemon dbus-bin dbus-x11 libsecret-tools openssl >/dev/null
fi

python3 -m pip install -q -e '.[test]'

# The test OpenID Provider: oidc-provider pinned in tests/e2e/oidc/package-lock.json (installed with npm ci, exact tree).
if [ -f tests/e2e/oidc/package-lock.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "installing Debian packages for: node, npm" >&2
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
  fi
  (cd tests/e2e/oidc && npm ci --no-audit --no-fund --loglevel=error)
fi

ruff check kubectl_netsso tests benchmarks
mypy kubectl_netsso
# pytest is the last command: its exit status is the script's (set -e stops earlier steps on failure).
exec python3 -m pytest -q "$@"
