#!/usr/bin/env bash
# Runs the whole suite. The browser tests need Debian's chromium: install it when missing and we may.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "chromium is missing: installing Debian's chromium for the browser tests"
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "error: /usr/bin/chromium is needed; run 'sudo apt-get install -y chromium' once" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=300 update -q
  $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -q chromium
fi

echo "Test database: ${TEST_DATABASE_URL:-a temporary SQLite file}"
exec .venv/bin/pytest "$@"
