#!/usr/bin/env bash
# Set everything up (virtualenv, Debian's chromium for the browser tests) and run ruff and the
# whole test suite. `.ci/run` runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
scripts/setup.sh requirements-dev.txt

.venv/bin/ruff check .
.venv/bin/ruff format --check .
# browsers come from Debian only: never let Playwright fetch one
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
.venv/bin/python -m pytest "$@"
