#!/usr/bin/env bash
# Catalog read path at 100k products (issue 19). Imports a synthetic 1C package
# (bench/gen_commerceml.py: random uuid4 GUIDs), starts the release binary, and measures with
# wrk (64 connections, 2 threads), each against nginx serving the same bytes in the same run:
#   1. first pages, what every customer asks first: the home list and every section's page one
#      with facets and the price range, exactly as the Mini App asks for them (ready answers);
#      nginx serves the identical bytes as static files;
#   2. deeper pages: the home list walked with 200 cursors (computed, cached per version);
#   3. product cards: 1000 different cards;
#   4. first pages with facets for every section under a filter (`in_stock=true`, computed);
#   5. search with rotating queries (word forms, typos, wrong layout, articles), at 64
#      connections (saturated) and at 8.
# vitrina's RSS is printed after the load and after all runs.
# Usage: bench/catalog.sh [products]   (default 100000). Installs wrk and nginx if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
for tool in wrk nginx; do
  command -v "$tool" >/dev/null || command -v "/usr/sbin/$tool" >/dev/null || apt-get install -y -qq wrk nginx-light >/dev/null
done
cargo build --release --quiet --bin vitrina
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
python3 bench/gen_commerceml.py "$work/pkg" --products "$n" --offers-per-product 3 >/dev/null
export VITRINA_DATABASE__URL="sqlite://$work/db/vitrina.db" VITRINA_CATALOG__MEDIA_DIR="$work/media" VITRINA_OUTBOX__WORKERS=0 VITRINA_LOG=warn
# One load generator's address: per-address rate limits off (bench/abuse.sh measures them).
export VITRINA_RATE_LIMIT__ENABLED=false
target/release/vitrina import "$work/pkg" >/dev/null
target/release/vitrina serve --listen 127.0.0.1:18181 >"$work/vitrina.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18181/readyz >/dev/null && break; sleep 0.2; done
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/${pids[0]}/status")

home="/api/v1/products?sort=popular&limit=20"
list_url="http://127.0.0.1:18181$home"
mkdir -p "$work/www/s"
curl -sf "$list_url" >"$work/www/home.json"
# Every section's page one as the Mini App asks for it, saved for nginx; a Lua script for
# each server that rotates through them.
python3 - "$work" <<'PY'
import json, sys, urllib.parse, urllib.request
work = sys.argv[1]
def walk(nodes):
    for s in nodes:
        yield s["id"]; yield from walk(s["children"])
ids = list(walk(json.load(urllib.request.urlopen("http://127.0.0.1:18181/api/v1/sections"))))
vitrina, static = [], []
for i, sid in enumerate(ids):
    path = "/api/v1/products?" + urllib.parse.urlencode({"section": sid, "sort": "popular", "limit": "20"})
    with open(f"{work}/www/s/{i}.json", "wb") as f:
        f.write(urllib.request.urlopen("http://127.0.0.1:18181" + path).read())
    vitrina.append(path); static.append(f"/s/{i}.json")
rotate = "local i = 0\nrequest = function() i = i % #paths + 1; return wrk.format('GET', paths[i]) end\n"
for name, paths in (("sections-vitrina", vitrina), ("sections-nginx", static)):
    with open(f"{work}/{name}.lua", "w") as f:
        f.write("local paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n" + rotate)
# 1000 product cards from the home order.
cards, cursor = [], None
while len(cards) < 1000:
    u = "http://127.0.0.1:18181/api/v1/products?sort=popular&limit=100" + (f"&cursor={cursor}" if cursor else "")
    page = json.load(urllib.request.urlopen(u))
    cards += ["/api/v1/products/" + urllib.parse.quote(p["id"], safe="") for p in page["items"]]
    cursor = page.get("next_cursor")
    if not cursor:
        break
with open(f"{work}/cards.lua", "w") as f:
    f.write("local paths = {" + ",".join(json.dumps(p) for p in cards) + "}\n" + rotate)
print(f"{len(ids)} sections, {len(cards)} cards", file=sys.stderr)
PY
cat >"$work/nginx.conf" <<NGINX
worker_processes 2;
error_log $work/nginx-error.log;
pid $work/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  server {
    listen 127.0.0.1:18182; root $work/www;
    location = /home { try_files /home.json =404; }
    location /s/ { }
  }
}
NGINX
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
"$nginx_bin" -c "$work/nginx.conf" -g 'daemon off;' &
pids+=($!)
sleep 0.5

# 200 cursors into the popular order, then a Lua script that walks them.
python3 - "$list_url" >"$work/cursors.lua" <<'PY'
import json, sys, urllib.request
url = sys.argv[1]
paths, cursor = [], None
for _ in range(200):
    u = url + (f"&cursor={cursor}" if cursor else "")
    paths.append(u.replace("http://127.0.0.1:18181", ""))
    cursor = json.load(urllib.request.urlopen(u))["next_cursor"]
    if not cursor:
        break
print("local paths = {" + ",".join(json.dumps(p) for p in paths) + "}")
print("local i = 0\nrequest = function() i = i % #paths + 1; return wrk.format('GET', paths[i] .. '&_=' .. math.random(1, 1000000)) end")
PY
python3 - >"$work/facets.lua" <<'PY'
import json, urllib.request
def walk(nodes):
    for s in nodes:
        yield s["id"]; yield from walk(s["children"])
ids = list(walk(json.load(urllib.request.urlopen("http://127.0.0.1:18181/api/v1/sections"))))
print("local paths = {" + ",".join(json.dumps(f"/api/v1/products?section={i}&in_stock=true") for i in ids) + "}")
print("local i = 0\nrequest = function() i = i % #paths + 1; return wrk.format('GET', paths[i] .. '&_=' .. math.random(1, 1000000)) end")
PY
cat >"$work/search.lua" <<'LUA'
local qs = {"ламинат", "ламинаты", "ламинт", "kfvbyfn", "плинтус", "подложка", "кроссовки", "кросовки", "телефон", "ntktajy",
  "куртка", "rehnrf", "aberhof", "tarkett", "дуб", "ART-0000042", "ART-0031337", "наушники", "кабель", "чехол"}
local i = 0
request = function() i = i % #qs + 1; return wrk.format("GET", "/api/v1/products?q=" .. qs[i]:gsub("[^%w%-]", function(c) return string.format("%%%02X", string.byte(c)) end) .. "&_=" .. math.random(1, 1000000)) end
LUA

run() { # name url [script]
  local out
  local c=${C:-64}
  if [ -n "${3:-}" ]; then out=$(wrk -t2 -c"$c" -d10s --latency -s "$3" "$2"); else out=$(wrk -t2 -c"$c" -d10s --latency "$2"); fi
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  printf '%-44s %12s req/s   p99 %8s\n' "$1" "$rps" "$p99"
}
cat >"$work/gzip.lua" <<'LUA'
wrk.headers["Accept-Encoding"] = "gzip, deflate, br"
LUA
echo "catalog: $n products, $((n * 3)) offers; $(wc -c <"$work/www/home.json") bytes home page; vitrina RSS after load: $((rss_kb / 1024)) MB"
run "nginx: home page one, same bytes" "http://127.0.0.1:18182/home"
run "vitrina: home page one (ready)" "$list_url"
run "vitrina: home page one, gzip (ready)" "$list_url" "$work/gzip.lua"
run "nginx: every section's page one" "http://127.0.0.1:18182" "$work/sections-nginx.lua"
run "vitrina: every section's page one (ready)" "http://127.0.0.1:18181" "$work/sections-vitrina.lua"
run "vitrina: deeper pages, 200 cursors" "http://127.0.0.1:18181" "$work/cursors.lua"
run "vitrina: 1000 product cards" "http://127.0.0.1:18181" "$work/cards.lua"
run "vitrina: sections' page one, in_stock filter" "http://127.0.0.1:18181" "$work/facets.lua"
run "vitrina: search, 20 queries, 64 conn." "http://127.0.0.1:18181" "$work/search.lua"
C=8 run "vitrina: search, 8 connections" "http://127.0.0.1:18181" "$work/search.lua"
echo "vitrina RSS after all runs: $(( $(awk '/VmRSS/ {print $2}' "/proc/${pids[0]}/status") / 1024 )) MB"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); wrk and the servers share the cores"
