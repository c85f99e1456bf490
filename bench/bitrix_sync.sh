#!/usr/bin/env bash
# Full catalog sync from Bitrix over REST, against the project's fake portal under the cloud's
# rate limit (a 50-request burst, 2 requests a second): requests made, requests refused by the
# portal's limit, wall time, against the minimum offset paging allows (every list's first page
# in one batch, then 50 pages a batch; pictures one product a command, 50 to a batch).
# Usage: bench/bitrix_sync.sh [products...]   (default: 10000 100000)
#   PICTURES=0|N  files per product on the portal (default 2: a detail picture and a photo);
#                 with 0 the sync runs with bitrix.pictures = false.
# STOCK=1 bench/bitrix_sync.sh [products]   (default: 20000)
#   Stock freshness instead: seconds from a variation's quantity change in the portal to the new
#   quantity at /api/v1/products/{id} of a running `vitrina serve`, with the catalog event and
#   with the stock poll only, and the REST requests an hour each costs (bench/bitrix_stock.py).
#   VARIATIONS=N trade offers per product (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
if [ "${STOCK:-0}" = 1 ]; then
  cargo build --release --quiet --bin vitrina
  cargo build --release --quiet -p fake-bitrix --example serve
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
  exec python3 bench/bitrix_stock.py target/release/vitrina target/release/examples/serve \
    --products "${sizes[0]:-20000}" --variations "${VARIATIONS:-3}"
fi
[ ${#sizes[@]} -eq 0 ] && sizes=(10000 100000)
pictures=${PICTURES:-2}
cargo build --release --quiet --bin vitrina
cargo build --release --quiet -p fake-bitrix --example serve
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
printf '%-9s %-9s %-9s %-8s %-8s %-8s %-9s %-10s\n' products pictures requests minimum refused files wall_s products/s
for n in "${sizes[@]}"; do
  target/release/examples/serve "$n" 50 2 "$pictures" >"$work/url.$n" 2>"$work/fake.$n.log" &
  pids+=($!)
  for _ in $(seq 1 600); do [ -s "$work/url.$n" ] && break; sleep 0.1; done
  url=$(head -1 "$work/url.$n")
  rm -rf "$work/db" "$work/media"
  mode=true; [ "$pictures" = 0 ] && mode=false
  export VITRINA_DATABASE__URL="sqlite://$work/db/vitrina.db" VITRINA_CATALOG__MEDIA_DIR="$work/media" VITRINA_LOG=warn \
    VITRINA_BACKEND__KIND=bitrix VITRINA_BITRIX__WEBHOOK_URL="$url" VITRINA_BITRIX__CATALOG_IBLOCK_ID=25 \
    VITRINA_BITRIX__PICTURES=$mode
  start=$(date +%s.%N)
  target/release/vitrina bitrix sync --full --json >"$work/report.$n.json"
  end=$(date +%s.%N)
  sleep 0.6
  refused=$(tail -1 "$work/fake.$n.log" | sed -n 's/.*refused=\([0-9]*\).*/\1/p')
  python3 - "$work/report.$n.json" "$n" "$start" "$end" "${refused:-0}" "$pictures" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2]); wall = float(sys.argv[4]) - float(sys.argv[3])
print(f"{n:<9} {sys.argv[6]:<9} {r['requests']:<9} {r['minimum_requests']:<8} {sys.argv[5]:<8} {r['pictures_downloaded']:<8} {wall:<9.1f} {n / wall:<10.0f}")
PY
  kill "${pids[-1]}" 2>/dev/null || true
done
