#!/usr/bin/env bash
# Sustained bot notifications per second against the project's fake Bot API with Telegram's
# real limits on (30 messages/s overall, 1/s per chat): N customers, two status changes each.
# Prints one JSON line: messages, lost, violations of the fake's limits, msg/s vs the 30/s cap.
# Usage: bench/notify.sh [customers]   (default 300 → 600 messages, about 20 s)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_CUSTOMERS=${1:-300} cargo test --quiet --test telegram bench_notifications -- --ignored --nocapture 2>&1 \
  | grep -E '^\{|test result'
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
