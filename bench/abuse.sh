#!/usr/bin/env bash
# Legitimate customers keep buying while the public floods the shop (bench/abuse.py): their
# p50/p99 and errors quietly and under the floods, what each flood got, and vitrina's RSS.
# A benchmark, not a timed test: figures in docs/PERFORMANCE.md. Release build by default;
# `bench/abuse.sh debug` for a quick look. Installs wrk when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-release}
command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null
if [ "$profile" = release ]; then
  cargo build --release --quiet --bin vitrina
else
  cargo build --quiet --bin vitrina
fi
python3 bench/abuse.py "target/$profile/vitrina" --customers "${CUSTOMERS:-4}" \
  --quiet "${QUIET_SECONDS:-20}" --flood "${FLOOD_SECONDS:-20}" --floods "${FLOODS:-all}"
