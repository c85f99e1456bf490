#!/usr/bin/env bash
# The scale table (issue 19): for each catalog size, on SQLite, with the release binary:
#   import wall and peak RSS (/usr/bin/time), start-up time (process start until /readyz
#   answers, the snapshot and the ready answers built), RSS after start, first-page throughput
#   and p99 (the home list's page one with facets, as the Mini App asks for it), search
#   throughput and p99 (rotating queries), both with wrk (2 threads, 64 connections, 10 s),
#   and RSS after 60 s of mixed load (first pages, cards, search, deeper pages) once that load
#   has stopped.
# Usage: bench/scale.sh [sizes...]   (default: 10000 100000; 1000000 writes ≈ 5 GB of XML —
#   mind the disk; every package and database is deleted when the script ends).
#   DURATION=10s   wrk duration of each throughput run
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ $# -gt 0 ] || sizes=(10000 100000)
duration=${DURATION:-10s}
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 2; }
cargo build --release --quiet --bin vitrina
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port=18191
base="http://127.0.0.1:$port"
# Search through the list endpoint (`q=`): word forms, a typo, the wrong keyboard layout, an article.
python3 - "$work/search.lua" <<'PY'
import sys, urllib.parse
qs = ["ламинат", "ламинаты", "ламинт", "kfvbyfn", "кросовки", "ntktajy", "телефон", "ART-0001234"]
paths = ",".join('"/api/v1/products?limit=20&q=' + urllib.parse.quote(q) + '"' for q in qs)
open(sys.argv[1], "w").write("local paths = {" + paths + "}\nlocal i = 0\n"
    "request = function() i = i % #paths + 1; return wrk.format('GET', paths[i]) end\n")
PY
# wrk's summary → "req/s p99_ms"
wrk_run() { # $1: url, rest: extra wrk args
  local url=$1; shift
  wrk -t2 -c64 -d"$duration" --latency "$@" "$url" >"$work/wrk.out"
  python3 - "$work/wrk.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)", t)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
print(f"{rps:.0f} {p99:.2f}")
PY
}
printf '%-9s %-9s %-9s %-10s %-9s %-9s %-12s %-10s %-12s %-10s %-9s\n' products offers import_s import_mb start_s start_mb first_rps first_p99 search_rps search_p99 load_mb
for n in "${sizes[@]}"; do
  pkg="$work/pkg$n"
  python3 bench/gen_commerceml.py "$pkg" --products "$n" --offers-per-product 3 >/dev/null
  export VITRINA_DATABASE__URL="sqlite://$work/db$n/vitrina.db" VITRINA_CATALOG__MEDIA_DIR="$work/media$n" \
    VITRINA_OUTBOX__WORKERS=0 VITRINA_LOG=warn VITRINA_RATE_LIMIT__ENABLED=false
  /usr/bin/time -f "%e %M" -o "$work/time" target/release/vitrina import "$pkg" >/dev/null
  read -r import_s import_kb <"$work/time"
  rm -rf "$pkg" # the XML is not needed any more (1M: ≈ 5 GB)
  t0=$(date +%s.%N)
  target/release/vitrina serve --listen "127.0.0.1:$port" >"$work/vitrina$n.log" 2>&1 &
  pid=$!
  until curl -sf "$base/readyz" >/dev/null; do sleep 0.05; done
  t1=$(date +%s.%N)
  start_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  read -r first_rps first_p99 < <(wrk_run "$base/api/v1/products?sort=popular&limit=20")
  read -r search_rps search_p99 < <(wrk_run "$base" -s "$work/search.lua")
  # 60 s of mixed load: first pages, deeper pages, cards, search at once.
  cursor=$(curl -sf "$base/api/v1/products?sort=popular&limit=20" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("next_cursor") or "")')
  card=$(curl -sf "$base/api/v1/products?sort=popular&limit=1" | python3 -c 'import json,sys,urllib.parse; print(urllib.parse.quote(json.load(sys.stdin)["items"][0]["id"], safe=""))')
  wrk -t1 -c16 -d60s "$base/api/v1/products?sort=popular&limit=20" >/dev/null &
  w1=$!
  wrk -t1 -c16 -d60s "$base/api/v1/products?sort=popular&limit=20&cursor=$cursor" >/dev/null &
  w2=$!
  wrk -t1 -c16 -d60s "$base/api/v1/products/$card" >/dev/null &
  w3=$!
  wrk -t1 -c16 -d60s -s "$work/search.lua" "$base" >/dev/null &
  w4=$!
  wait "$w1" "$w2" "$w3" "$w4"
  load_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  printf '%-9s %-9s %-9s %-10s %-9s %-9s %-12s %-10s %-12s %-10s %-9s\n' "$n" "$((n * 3))" "$import_s" "$((import_kb / 1024))" \
    "$(python3 -c "print(f'{$t1 - $t0:.2f}')")" "$((start_kb / 1024))" "$first_rps" "$first_p99" "$search_rps" "$search_p99" "$((load_kb / 1024))"
  rm -rf "$work/db$n" "$work/media$n"
done
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
