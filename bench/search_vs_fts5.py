#!/usr/bin/env python3
"""Search relevance and latency: vitrina's search API against SQLite FTS5 on the same products.

Reads product names, articles and property values from a vitrina SQLite database, builds an
FTS5 index of them (unicode61 tokenizer with prefix indexes, the usual choice for Russian in
SQLite), runs the same queries against both, and prints a table of the top hit of each and the
latency percentiles. Usage:

    bench/search_vs_fts5.py DB_FILE VITRINA_URL
"""
import json
import sqlite3
import statistics
import sys
import time
import urllib.parse
import urllib.request

QUERIES = [
    ("ламинат", "exact word"),
    ("ламинаты", "plural form"),
    ("ламинт", "typo"),
    ("kfvbyfn", "ламинат typed in the EN layout"),
    ("кросовки", "typo"),
    ("ntktajy", "телефон typed in the EN layout"),
    ("rehnrf", "куртка typed in the EN layout"),
    ("тarkett", "mixed scripts"),
    ("куртки зимние", "two words, forms"),
    ("ART-0000042", "article"),
    ("плин", "prefix"),
    ("aberhof", "brand, Latin"),
]


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    db, base = sys.argv[1], sys.argv[2].rstrip("/")
    src = sqlite3.connect(db)
    fts = sqlite3.connect(":memory:")
    fts.execute("CREATE VIRTUAL TABLE p USING fts5(id UNINDEXED, name, article, props, tokenize='unicode61', prefix='2 3 4')")
    rows = src.execute("SELECT id, name, COALESCE(article, ''), properties FROM products").fetchall()
    t0 = time.perf_counter()
    fts.executemany(
        "INSERT INTO p VALUES (?, ?, ?, ?)",
        ((i, n, a, " ".join(v for prop in json.loads(pr) for v in prop.get("values", []))) for i, n, a, pr in rows),
    )
    build = time.perf_counter() - t0
    names = dict((i, n) for i, n, _, _ in rows)

    def fts_query(q):
        # Each word as a prefix term: the closest FTS5 gets to as-you-type search.
        terms = " ".join('"' + w.replace('"', '""') + '"*' for w in q.split())
        return [r[0] for r in fts.execute("SELECT id FROM p WHERE p MATCH ? ORDER BY rank LIMIT 20", (terms,))]

    def api_query(q):
        url = f"{base}/api/v1/products?limit=20&q={urllib.parse.quote(q)}&_={time.time_ns()}"
        return [p["id"] for p in json.load(urllib.request.urlopen(url))["items"]]

    print(f"{len(rows)} products; FTS5 index built in {build:.1f} s\n")
    print("| query | what | vitrina: top hit (of hits) | SQLite FTS5: top hit (of hits) |")
    print("|---|---|---|---|")
    lat = {"vitrina": [], "fts5": []}
    for q, what in QUERIES:
        for name, fn in (("vitrina", api_query), ("fts5", fts_query)):
            for _ in range(20):
                t = time.perf_counter()
                fn(q)
                lat[name].append((time.perf_counter() - t) * 1000)
        v, f = api_query(q), fts_query(q)
        show = lambda ids: f"{names.get(ids[0], ids[0])} ({len(ids)}{'+' if len(ids) == 20 else ''})" if ids else "—"
        print(f"| `{q}` | {what} | {show(v)} | {show(f)} |")
    print()
    for name, values in lat.items():
        print(f"{name}: p50 {statistics.median(values):.2f} ms, p99 {pct(values, 99):.2f} ms "
              f"({'over HTTP, client included' if name == 'vitrina' else 'in-process'})")


if __name__ == "__main__":
    main()
