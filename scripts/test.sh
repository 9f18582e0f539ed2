#!/usr/bin/env bash
# Set everything up (virtualenv, Debian's chromium for the browser tests and postgresql for the
# run store's tests) and run ruff and the whole test suite. `.ci/run` runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests need: chromium (browser tests), postgresql (the run store's
# PostgreSQL tests start a throw-away cluster of it; the package's own server is not used)
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
scripts/setup.sh requirements-dev.txt

.venv/bin/ruff check .
.venv/bin/ruff format --check .
# browsers come from Debian only: never let Playwright fetch one
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# with no arguments: the whole suite, one test module per worker process (each worker serves
# its own app and every browser test opens a fresh session)
[ $# -gt 0 ] || set -- -n auto --dist loadfile
.venv/bin/python -m pytest "$@"
