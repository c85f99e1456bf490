#!/usr/bin/env bash
# Two vitrina instances behind nginx on one PostgreSQL: reads and checkouts under load, a
# catalog published through one instance and served by both, one instance SIGKILLed mid-load
# (bench/multi_instance.py checks that nothing is lost or doubled). Part of the test command
# with the debug binary; `bench/multi_instance.sh release` gives the figures for
# docs/PERFORMANCE.md. Installs nginx-light and wrk when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-debug}
for tool in nginx wrk; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || \
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk) >/dev/null
done
if [ "$profile" = release ]; then
  cargo build --release --quiet --bin vitrina
  python3 bench/multi_instance.py target/release/vitrina --seconds "${SECONDS_UNDER_LOAD:-30}" --products "${PRODUCTS:-20000}"
else
  cargo build --quiet --bin vitrina
  python3 bench/multi_instance.py target/debug/vitrina --seconds "${SECONDS_UNDER_LOAD:-16}" --products "${PRODUCTS:-1000}"
fi
