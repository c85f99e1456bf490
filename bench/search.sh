#!/usr/bin/env bash
# Search relevance and latency against SQLite FTS5 on the same synthetic catalog.
# Usage: bench/search.sh [products]   (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
cargo build --release --quiet --bin vitrina
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
python3 bench/gen_commerceml.py "$work/pkg" --products "$n" --offers-per-product 3 >/dev/null
export VITRINA_DATABASE__URL="sqlite://$work/db/vitrina.db" VITRINA_CATALOG__MEDIA_DIR="$work/media" VITRINA_OUTBOX__WORKERS=0 VITRINA_LOG=warn
# One load generator's address: per-address rate limits off (bench/abuse.sh measures them).
export VITRINA_RATE_LIMIT__ENABLED=false
target/release/vitrina import "$work/pkg" >/dev/null
target/release/vitrina serve --listen 127.0.0.1:18183 >"$work/vitrina.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18183/readyz >/dev/null && break; sleep 0.2; done
python3 bench/search_vs_fts5.py "$work/db/vitrina.db" http://127.0.0.1:18183
