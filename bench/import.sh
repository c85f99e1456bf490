#!/usr/bin/env bash
# Import benchmark: synthetic 1C packages of 10k and 100k products (3 offers each), imported
# by the release binary into a fresh SQLite file; wall time and peak RSS per size. The reference
# in the same run is the bare CommerceML parse of the same files (crates/commerceml count
# example), so the ratio shows what the database work costs on top of reading the XML.
# Usage: bench/import.sh [sizes...]   (default: 10000 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ $# -gt 0 ] || sizes=(10000 100000)
cargo build --release --quiet --bin vitrina
cargo build --release --quiet -p commerceml --example count
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-9s %-8s %-10s %-12s %-12s %-10s\n' products offers import_s import_rss_mb parse_s ratio
for n in "${sizes[@]}"; do
  pkg="$work/pkg$n"
  python3 bench/gen_commerceml.py "$pkg" --products "$n" --offers-per-product 3 >/dev/null
  db="$work/db$n"
  mkdir -p "$db"
  /usr/bin/time -f "%e %M" -o "$work/time$n" \
    env VITRINA_DATABASE__URL="sqlite://$db/vitrina.db" VITRINA_CATALOG__MEDIA_DIR="$db/media" \
    target/release/vitrina import "$pkg" >"$work/out$n"
  read -r wall rss <"$work/time$n"
  /usr/bin/time -f "%e" -o "$work/parse$n" \
    sh -c "target/release/examples/count '$pkg/import.xml' && target/release/examples/count '$pkg/offers.xml'" >/dev/null
  parse=$(cat "$work/parse$n")
  ratio=$(python3 -c "print(f'{$wall / max($parse, 0.001):.1f}')")
  printf '%-9s %-8s %-10s %-12s %-12s %-10s\n' "$n" "$((n * 3))" "$wall" "$((rss / 1024))" "$parse" "$ratio"
done
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
