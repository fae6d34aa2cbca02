#!/usr/bin/env bash
# Runs the whole test suite. The tests read the warehouse back with DuckDB
# (Python package), so it is installed first if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import duckdb, pyarrow, aiosmtpd' 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check -r .ci/requirements.txt
fi
exec cargo test --all-targets "$@"
