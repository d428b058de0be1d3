#!/usr/bin/env bash
# Install everything the test suite needs on a brand-new Debian machine (apt, pip, npm), then run ruff, mypy and pytest.
# Extra arguments go to pytest (e.g. `scripts/test.sh -m "not e2e"`). The exit code is pytest's (or the first failing step's).
#
# Python: inside an activated virtual environment that one is used; otherwise the repo's .venv (created on first use),
# never the system interpreter (Debian's pip refuses to install there: externally-managed-environment).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "test.sh: $*" >&2; }
die() { echo "error: $*" >&2; exit 3; }

APT_UPDATED=""
apt_install() {
  # root needs no sudo (a fresh container has none); anyone else needs it
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "need Debian packages ($*) but not root and no sudo: install them, or run as root"
    sudo="sudo"
  fi
  say "installing Debian packages: $*"
  if [ -z "$APT_UPDATED" ]; then $sudo apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# --- Python environment ---------------------------------------------------------------------------------------------
command -v python3 >/dev/null 2>&1 || apt_install python3
if python3 -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)' 2>/dev/null; then
  py=$(command -v python3)
else
  if [ ! -x .venv/bin/python ]; then
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "python3 >= 3.11 is needed (found $(python3 -V 2>&1))"
    say "no virtual environment active: creating .venv in the repo"
    if ! python3 -m venv .venv >/dev/null 2>&1; then
      rm -rf .venv
      # Debian ships venv's ensurepip separately (python3-venv)
      apt_install python3-venv
      python3 -m venv .venv
    fi
  fi
  say "no virtual environment active: using .venv (activate it with: . .venv/bin/activate)"
  py="$PWD/.venv/bin/python"
  export VIRTUAL_ENV="$PWD/.venv" PATH="$PWD/.venv/bin:$PATH"
fi

# --- Debian packages --------------------------------------------------------------------------------------------------
# Chromium + its driver for the real browser, gnome-keyring + a D-Bus session bus + secret-tool for the real Secret
# Service (the keyring test starts its own private bus and unlocked daemon), openssl for debugging certs, node + npm for
# the test OpenID Provider, graphviz's dot to parse `paths -o dot`.
need_apt=()
for pair in /usr/bin/chromium:chromium /usr/bin/chromedriver:chromium-driver gnome-keyring-daemon:gnome-keyring \
            dbus-daemon:dbus-daemon dbus-send:dbus-bin dbus-launch:dbus-x11 secret-tool:libsecret-tools openssl:openssl \
            node:nodejs npm:npm dot:graphviz; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need_apt+=("${pair#*:}")
done
[ ${#need_apt[@]} -eq 0 ] || apt_install "${need_apt[@]}"
# kubectl comes from the Kubernetes project's own packages, not Debian's archive: not installed here.
command -v kubectl >/dev/null 2>&1 ||
  echo "warning: kubectl not found on PATH: the tests that need the real kubectl will be skipped (install kubectl to run them)" >&2

# --- Python and npm packages ------------------------------------------------------------------------------------------
# The runtime dependencies resolve to their newest releases (eager upgrade); the test tools come pinned.
"$py" -m pip install -q --upgrade --upgrade-strategy eager -e . -r tests/requirements.txt
# The test OpenID Provider: oidc-provider pinned in tests/e2e/oidc/package-lock.json (npm ci installs that exact tree).
(cd tests/e2e/oidc && npm ci --no-audit --no-fund --loglevel=error)

"$py" -m ruff check kubectl_netsso tests benchmarks
"$py" -m mypy kubectl_netsso
# pytest is the last command: its exit status is the script's (set -e stops earlier steps on failure).
exec "$py" -m pytest -q "$@"
