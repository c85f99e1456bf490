#!/usr/bin/env bash
# Browser tests: the real Mini App (web/dist embedded in the binary) in Debian's Chromium,
# driven by Playwright (playwright-core), against `vitrina demo` on a free port with a fresh
# data dir. Installs chromium when missing; screenshots land in web/e2e/screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null; then
  echo "installing Debian's chromium for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi
[ -f web/dist/index.html ] || bash scripts/web-build.sh
cargo build --quiet --bin vitrina
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Two staff accounts for the desk's browser tests (web/e2e/desk.e2e.mjs): a manager and a viewer.
export DESK_MANAGER_ID=4200001 DESK_VIEWER_ID=4200002
VITRINA_TELEGRAM__STAFF_USER_IDS="[$DESK_MANAGER_ID, $DESK_VIEWER_ID]" \
VITRINA_TELEGRAM__STAFF_ROLES="{$DESK_VIEWER_ID=\"viewer\"}" \
VITRINA_LOG=warn target/debug/vitrina demo --listen "127.0.0.1:$port" --data-dir "$data" >"$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/server.log"; exit 1; }
  sleep 0.2
done
cd web
VITRINA_URL="http://127.0.0.1:$port" CHROMIUM=$(command -v chromium) node --test --test-concurrency=1 e2e/*.e2e.mjs
