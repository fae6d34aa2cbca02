#!/usr/bin/env bash
# Runs the whole test suite. The tests read the warehouse back with DuckDB,
# run an SMTP server and fill in forms with openpyxl (Python packages), so
# those are installed first if missing: with pip, or, where the system
# Python refuses that (an "externally managed" Debian or Ubuntu Python), into
# .venv/ (git-ignored), which the tests then find first on PATH. Nothing
# else outside target/ is written.
set -euo pipefail
cd "$(dirname "$0")/.."
needed='import duckdb, pyarrow, aiosmtpd, openpyxl'
install() {
    "$1" -m pip install --quiet --disable-pip-version-check -r .ci/requirements.txt
}
if [[ -x .venv/bin/python3 ]] && .venv/bin/python3 -c "$needed" 2>/dev/null; then
    export PATH="$PWD/.venv/bin:$PATH"
elif ! python3 -c "$needed" 2>/dev/null; then
    if ! install python3; then
        echo "scripts/test.sh: installing the test's Python packages into .venv/ instead" >&2
        python3 -m venv .venv
        install .venv/bin/python3
        export PATH="$PWD/.venv/bin:$PATH"
    fi
fi
exec cargo test --all-targets "$@"
