#!/usr/bin/env bash
# Mini App paint time (issue 8): vitrina's catalog vs the telegram-apps React template, both
# opened cold in Chromium with Fast 3G and 4× CPU throttling over CDP (bench/paint.mjs).
#
#   bash bench/paint.sh [runs]        (default 7; RUNS=… works too)
#
# Starts `vitrina demo` on a free port with a temporary data dir. The binary is $VITRINA_BIN,
# else target/release/vitrina, else target/debug/vitrina (of this checkout). If the binary was
# built before web/dist existed it embeds only the fallback page; then — or when
# VITRINA_WEB_DIST is set — web/dist (built by scripts/web-build.sh if missing) is served by
# bench/paint/static.mjs, which forwards /api/ /dev/ /images/ to the binary.
# The template (bench/paint/template) is built with npm and served by the same static server.
# Writes bench/paint/results.json (every run, one waterfall per target) and prints the table.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${1:-${RUNS:-7}}

bin=${VITRINA_BIN:-}
if [ -z "$bin" ]; then
  for b in target/release/vitrina target/debug/vitrina; do
    [ -x "$b" ] && { bin=$b; break; }
  done
fi
[ -n "$bin" ] && [ -x "$bin" ] || { echo "no vitrina binary: set VITRINA_BIN or cargo build" >&2; exit 1; }
command -v /usr/bin/chromium >/dev/null || apt-get install -y -qq chromium >/dev/null
[ -d web/node_modules/playwright-core ] || (cd web && npm ci --no-audit --no-fund --loglevel=error)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [ -n "${KEEP_WORK:-}" ] && echo "kept $work" || rm -rf "$work"; }
trap cleanup EXIT
wait_http() { for _ in $(seq 1 300); do curl -sf -o /dev/null "$1" && return 0; sleep 0.2; done; echo "timeout waiting for $1" >&2; return 1; }

# The template: npm install (from its lockfile) and build once.
tpl=bench/paint/template
if [ ! -f "$tpl/dist/index.html" ]; then
  (cd "$tpl" && { [ -f package-lock.json ] && npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error; } && npm run build)
fi

vport=$(free_port)
# VITRINA_* variables are the binary's configuration: hand it none of this script's own.
env -u VITRINA_BIN -u VITRINA_WEB_DIST -u COMPARE_DIST -u COMPARE_NAME VITRINA_LOG=warn "$bin" demo --listen "127.0.0.1:$vport" --data-dir "$work/data" >"$work/vitrina.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$vport/readyz"
vitrina_url="http://127.0.0.1:$vport/"
served_by="the binary (embedded web/dist)"
if [ -n "${VITRINA_WEB_DIST:-}" ] || ! curl -sf "$vitrina_url" | grep -q '/assets/'; then
  dist=${VITRINA_WEB_DIST:-web/dist}
  [ -f "$dist/index.html" ] || bash scripts/web-build.sh
  sport=$(free_port)
  node bench/paint/static.mjs --dir "$dist" --port "$sport" --proxy "http://127.0.0.1:$vport" >"$work/static.log" 2>&1 &
  pids+=($!)
  wait_http "http://127.0.0.1:$sport/"
  vitrina_url="http://127.0.0.1:$sport/"
  served_by="bench/paint/static.mjs serving $dist, API from the binary"
fi
# COMPARE_DIST=<dir>: one more target, another web/dist build (say, before a change) served
# the same way, measured in the same session.
compare=()
if [ -n "${COMPARE_DIST:-}" ]; then
  cport=$(free_port)
  node bench/paint/static.mjs --dir "$COMPARE_DIST" --port "$cport" --proxy "http://127.0.0.1:$vport" >"$work/compare.log" 2>&1 &
  pids+=($!)
  wait_http "http://127.0.0.1:$cport/"
  compare=(--target "${COMPARE_NAME:-vitrina-compare}|http://127.0.0.1:$cport/|.grid .card .card-name")
fi
tport=$(free_port)
node bench/paint/static.mjs --dir "$tpl/dist" --port "$tport" >"$work/template.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$tport/"

echo "vitrina: $bin ($served_by)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
cd web
node "$root/bench/paint.mjs" --runs "$runs" --out "$root/bench/paint/results.json" \
  --init-data-from "http://127.0.0.1:$vport" \
  --target "vitrina|$vitrina_url|.grid .card .card-name" \
  "${compare[@]}" \
  --target "template|http://127.0.0.1:$tport/|a[href=\"#/init-data\"]"
