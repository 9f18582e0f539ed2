#!/usr/bin/env bash
# Set everything up and start the app; it opens on the built-in demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements.txt
exec .venv/bin/streamlit run app.py "$@"
