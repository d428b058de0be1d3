#!/usr/bin/env bash
# Install everything the test suite needs on a brand-new Debian machine (apt, pip, npm), then run it.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for bin in chromium chromedriver gnome-keyring-daemon dbus-run-session secret-tool openssl; do
  command -v "$bin" >/dev/null 2>&1 || need_apt+=("$bin")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing Debian packages for: ${need_apt[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    chromium chromium-driver gnome-keyring dbus-x11 dbus-daemon libsecret-tools openssl >/dev/null
fi

python3 -m pip install -q -e '.[test]'
if [ -f tests/e2e/oidc/package.json ]; then
  (cd tests/e2e/oidc && npm ci --no-audit --no-fund --loglevel=error)
fi

ruff check kubectl_netsso tests benchmarks
python3 -m pytest -q "$@"
