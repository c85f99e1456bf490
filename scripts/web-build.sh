#!/usr/bin/env bash
# The Mini App: install (npm ci), type-check, unit tests (Vitest), production build into
# web/dist (embedded into the binary by build.rs), and the initial-route size budget.
set -euo pipefail
cd "$(dirname "$0")/../web"
if ! command -v npm >/dev/null; then
  echo "error: npm is required to build the Mini App (Debian: apt-get install -y nodejs npm)" >&2
  exit 1
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npx tsc --noEmit -p .
npx vitest run --reporter=dot
npx vite build --logLevel warn
node scripts/budget.mjs
