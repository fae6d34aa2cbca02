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

# The Spark job's test (tests/it/spark.rs) needs pyspark (PyPI) and a Java 17+
# runtime. Each is installed when missing: pyspark beside the packages above
# (.ci/requirements-spark.txt), Java from Debian when apt-get may run (as root
# or with password-less sudo). Only when that fails is the test skipped, and
# NHANLUC_SPARK_UNAVAILABLE tells it (and this log) why.
java_major() {
    java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}
java_ok() {
    command -v java >/dev/null 2>&1 && [[ "$(java_major)" -ge 17 ]] 2>/dev/null
}
spark_gaps=()
if ! java_ok; then
    apt=()
    if [[ "$(id -u)" == 0 ]]; then
        apt=(apt-get)
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        apt=(sudo -n apt-get)
    fi
    if [[ ${#apt[@]} -gt 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "scripts/test.sh: installing a Java runtime for the Spark test (apt-get)" >&2
        export DEBIAN_FRONTEND=noninteractive
        "${apt[@]}" -q update >/dev/null 2>&1 || true
        for package in openjdk-17-jre-headless openjdk-21-jre-headless default-jre-headless; do
            if "${apt[@]}" -q install -y --no-install-recommends "$package" >/dev/null 2>&1; then
                break
            fi
        done
    fi
    if ! java_ok; then
        spark_gaps+=("no Java 17+ runtime, and apt-get could not install one")
    fi
fi
if ! python3 -c 'import pyspark' 2>/dev/null; then
    echo "scripts/test.sh: installing pyspark for the Spark test" >&2
    if ! python3 -m pip install --quiet --disable-pip-version-check -r .ci/requirements-spark.txt; then
        if [[ ! -x .venv/bin/python3 ]]; then
            python3 -m venv .venv
            install .venv/bin/python3
        fi
        export PATH="$PWD/.venv/bin:$PATH"
        .venv/bin/python3 -m pip install --quiet --disable-pip-version-check -r .ci/requirements-spark.txt || true
    fi
    if ! python3 -c 'import pyspark' 2>/dev/null || ! command -v spark-submit >/dev/null 2>&1; then
        spark_gaps+=("pyspark could not be installed from PyPI")
    fi
fi
if [[ ${#spark_gaps[@]} -gt 0 ]]; then
    NHANLUC_SPARK_UNAVAILABLE="$(IFS=';'; echo "${spark_gaps[*]}")"
    export NHANLUC_SPARK_UNAVAILABLE
    echo "scripts/test.sh: WARNING: the Spark job's test will be skipped: $NHANLUC_SPARK_UNAVAILABLE" >&2
fi
exec cargo test --all-targets "$@"
