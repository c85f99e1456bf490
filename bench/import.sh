#!/usr/bin/env bash
# Import benchmark: synthetic 1C packages (bench/gen_commerceml.py: random uuid4 GUIDs, two
# price types, stock by warehouse, pictures; 3 offers per product) imported by the release
# binary into a fresh database, on SQLite and on PostgreSQL with the server's default settings
# (nothing is tuned: work_mem stays at the server's value, printed below). Per size and
# database: wall time and peak RSS of the full import, then of a re-import of the unchanged
# package and of a changes-only package with 1% of the products changed.
# The reference in the same run is the bare CommerceML parse of the same files
# (crates/commerceml count example), so the ratio shows what the database work costs on top of
# reading the XML.
#
# Usage: bench/import.sh [sizes...]   (default: 10000 100000)
#   BACKENDS="sqlite postgres"   which databases (default both)
#   GEN_FLAGS="--sequential"     extra generator flags (e.g. the old ordered ids)
#   PG_URL=postgres://postgres@127.0.0.1:5432/test   an existing database on the server to
#                                use for CREATE/DROP DATABASE (the benchmark's own is dropped)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ $# -gt 0 ] || sizes=(10000 100000)
backends=${BACKENDS:-sqlite postgres}
pg_url=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
cargo build --release --quiet --bin vitrina
cargo build --release --quiet -p commerceml --example count
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pg_db_url() { echo "${pg_url%/*}/$1"; }
if [[ " $backends " == *" postgres "* ]]; then
  echo "postgres: $(psql "$pg_url" -Atc 'select version()' | cut -d' ' -f1-2), work_mem=$(psql "$pg_url" -Atc 'show work_mem'), shared_buffers=$(psql "$pg_url" -Atc 'show shared_buffers')"
fi
printf '%-8s %-9s %-8s %-8s %-10s %-8s %-12s %-12s %-9s %-7s\n' db products offers import_s import_rss_mb parse_s ratio reimport_s changes1_s changes_rss_mb
for n in "${sizes[@]}"; do
  pkg="$work/pkg$n"
  gen=$(python3 bench/gen_commerceml.py "$pkg" --products "$n" --offers-per-product 3 ${GEN_FLAGS:-})
  chg="$work/chg$n"
  python3 bench/gen_commerceml.py "$chg" --products "$n" --offers-per-product 3 --changes-only 1 ${GEN_FLAGS:-} >/dev/null
  /usr/bin/time -f "%e" -o "$work/parse$n" \
    sh -c "target/release/examples/count '$pkg/import.xml' && target/release/examples/count '$pkg/offers.xml'" >/dev/null
  parse=$(cat "$work/parse$n")
  for backend in $backends; do
    db="$work/db$n-$backend"
    mkdir -p "$db"
    case $backend in
      sqlite) url="sqlite://$db/vitrina.db" ;;
      postgres)
        name="vitrina_bench_import_$n"
        psql "$pg_url" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
        url=$(pg_db_url "$name") ;;
      *) echo "unknown backend $backend" >&2; exit 2 ;;
    esac
    run() { # $1: label, $2: package
      /usr/bin/time -f "%e %M" -o "$work/time-$1" \
        env VITRINA_DATABASE__URL="$url" VITRINA_CATALOG__MEDIA_DIR="$db/media" \
        target/release/vitrina import "$2" >"$work/out-$1-$n-$backend"
    }
    run full "$pkg"; read -r wall rss <"$work/time-full"
    run again "$pkg"; read -r again _ <"$work/time-again"
    run changes "$chg"; read -r changes crss <"$work/time-changes"
    ratio=$(python3 -c "print(f'{$wall / max($parse, 0.001):.1f}')")
    printf '%-8s %-9s %-8s %-8s %-10s %-8s %-12s %-12s %-9s %-7s\n' "$backend" "$n" "$((n * 3))" "$wall" "$((rss / 1024))" "$parse" "$ratio" "$again" "$changes" "$((crss / 1024))"
    if [ "$backend" = postgres ]; then
      psql "$pg_url" -qc "DROP DATABASE IF EXISTS $name" >/dev/null
    fi
  done
done
echo "package: $gen"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
