#!/usr/bin/env bash
# Every test of the project, as CI runs it (`.ci/run` calls `make test`, which calls this).
# Installs what a fresh machine lacks; exits non-zero on the first failing stage.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

stage() { printf '\n==> %s\n' "$*"; }

stage "PostgreSQL at 127.0.0.1:5432 (store tests run on SQLite and PostgreSQL)"
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  echo "PostgreSQL is not answering; trying to start the local cluster"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  sleep 2
fi
(exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null || { echo "error: PostgreSQL is required at 127.0.0.1:5432 (set PG_TEST_URL to use another server)"; exit 1; }

if [ -f web/package.json ]; then
  stage "Mini App: install, type-check, unit tests, build"
  bash scripts/web-build.sh
fi

stage "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

stage "Rust tests (unit, integration; SQLite and PostgreSQL)"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast --status-level fail --final-status-level slow
else
  cargo test --workspace --no-fail-fast
fi

stage "fuzz target for the initData parser builds (and survives a short smoke run)"
# The real fuzzing run needs nightly and cargo-fuzz: cd crates/initdata && cargo +nightly fuzz run parse
CARGO_TARGET_DIR=target/fuzz cargo build --quiet --manifest-path crates/initdata/fuzz/Cargo.toml
target/fuzz/debug/parse -runs=100000 2>&1 | tail -n 1

stage "API contract: schemathesis against the live binary's OpenAPI spec"
bash scripts/schemathesis.sh

if [ -d web/e2e ]; then
  stage "Browser tests: the real Mini App in Chromium against the real binary"
  bash scripts/e2e.sh
fi

stage "Several instances: nginx in front of two vitrina processes on one PostgreSQL, one SIGKILLed"
bash bench/multi_instance.sh

stage "all tests passed"
