# The two set-up commands: `make demo` runs the demo shop, `make test` runs every test.
# Both install what is missing on a fresh machine (npm packages, Chromium, schemathesis).

.PHONY: demo test build web lint bench

demo: web
	cargo run --release --bin vitrina -- demo

test:
	bash scripts/test.sh

build: web
	cargo build --release --bin vitrina

# The Mini App is embedded into the binary at build time; without web/ a fallback page is used.
web:
	@if [ -f web/package.json ]; then bash scripts/web-build.sh; fi

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
