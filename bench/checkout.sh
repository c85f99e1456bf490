#!/usr/bin/env bash
# Checkout throughput with 50 concurrent customers on SQLite and on PostgreSQL: the release
# binary in demo mode (demo catalog, dev sign-in), stock raised so nothing sells out, outbox
# workers on as in production. Prints one JSON line per backend (bench/checkout.py).
# Usage: bench/checkout.sh [customers] [seconds]   PostgreSQL at 127.0.0.1:5432 (PG_URL overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
customers=${1:-50}
seconds=${2:-15}
pg=${PG_URL:-postgres://postgres@127.0.0.1:5432}
cargo build --release --quiet --bin vitrina
work=$(mktemp -d)
pid=
pgdb="vitrina_bench_checkout_$$"
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $pgdb" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

run() { # backend database-url sql-runner
  local backend=$1 url=$2
  # Many checkouts from one load generator: the rate limits would measure themselves
  # (bench/abuse.sh measures them).
  VITRINA_LOG=warn VITRINA_RATE_LIMIT__ENABLED=false target/release/vitrina demo --listen 127.0.0.1:18191 --data-dir "$work/$backend" \
    ${url:+--database "$url"} >"$work/$backend.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do curl -sf http://127.0.0.1:18191/readyz >/dev/null && break; sleep 0.2; done
  local sql="UPDATE offers SET stock_milli = 1000000000 WHERE price IS NOT NULL"
  local pick="SELECT id FROM offers WHERE price IS NOT NULL ORDER BY id LIMIT 200"
  if [ "$backend" = sqlite ]; then
    python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit(); print('\n'.join(r[0] for r in c.execute(sys.argv[3])))" \
      "$work/sqlite/vitrina.db" "$sql" "$pick" >"$work/offers.txt"
  else
    psql -qAt "$url" -c "$sql" >/dev/null
    psql -qAt "$url" -c "$pick" >"$work/offers.txt"
  fi
  printf '%s: ' "$backend"
  python3 bench/checkout.py http://127.0.0.1:18191 "$work/offers.txt" --customers "$customers" --seconds "$seconds"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
}

run sqlite ""
psql -q "$pg/postgres" -c "CREATE DATABASE $pgdb"
run postgres "$pg/$pgdb"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
