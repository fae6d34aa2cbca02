#!/usr/bin/env bash
# The ingest benchmark in one command (see bench/README.md):
#
#   bench/run.sh [province|big|country|all ...] [--runs N] [--tools a,b,...]
#
# Builds the release binaries and the bench/maxrss.rs launcher, makes the
# Python venv (target/bench/venv, only when missing or when
# bench/requirements*.txt changed), then runs bench/ingest_bench.py.
# BENCH_VENV=/path/to/venv uses an existing venv instead.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
target=${CARGO_TARGET_DIR:-$repo/target}

cargo build --release --bin nhanluc --example calamine_floor
mkdir -p "$target/bench"
if [[ ! -x $target/bench/maxrss || bench/maxrss.rs -nt $target/bench/maxrss ]]; then
    rustc -O --edition 2024 bench/maxrss.rs -o "$target/bench/maxrss"
fi

venv=${BENCH_VENV:-$target/bench/venv}
if [[ -z ${BENCH_VENV:-} ]]; then
    want=$(cat bench/requirements.txt bench/requirements-peers.txt | sha256sum | cut -d' ' -f1)
    if [[ ! -x $venv/bin/python || $(cat "$venv/.requirements.sha256" 2>/dev/null) != "$want" ]]; then
        echo "making the venv $venv" >&2
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check \
            -r bench/requirements.txt -r bench/requirements-peers.txt
        echo "$want" >"$venv/.requirements.sha256"
    fi
fi

exec "$venv/bin/python" bench/ingest_bench.py "$@"
