#!/usr/bin/env python3
"""Stock freshness from Bitrix to the Mini App, and the REST requests it costs.

Starts the project's fake portal (crates/fake-bitrix, example `serve`) with PRODUCTS products of
VARIATIONS trade offers each under the cloud's rate limit (a 50-request burst, 2 a second), a
running `vitrina serve` (SQLite, backend bitrix, catalog events bound by `vitrina bitrix setup`,
the defaults' bitrix.stock_poll_interval of 1 minute), waits for the first full sync, then:

- events: a variation's quantity changes in the portal, which calls the bound
  CATALOG.PRODUCT.ON.UPDATE handler; seconds until GET /api/v1/products/{parent} shows it;
- poll only: the same change without the event (stock moved by an order, an event lost);
- idle: REST requests over a window with no change (the stock poll, order reconciliation).

Requests per hour are each window's requests (counted by the portal) scaled to an hour.
Usage: bitrix_stock.py VITRINA SERVE [--products N] [--variations V] [--events N] [--polls N]
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

PORT = 18231


def get(path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, None


class Portal:
    def __init__(self, serve, products, variations):
        self.p = subprocess.Popen(
            [serve, str(products), "50", "2", "0", str(variations)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.url = self.p.stdout.readline().strip()

    def ask(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        answer = self.p.stdout.readline().strip()
        if answer.startswith("error"):
            sys.exit(f"portal: {answer}")
        return answer

    def requests(self):
        return int(self.ask("count").split()[0].split("=")[1])


def stock(parent, variation):
    status, body = get(f"/api/v1/products/{parent}")
    if status != 200:
        return None
    for o in body.get("offers", []):
        if str(o.get("id")) == str(variation) or str(o.get("id")).endswith(f"#{variation}"):
            return o.get("stock")
    return None


def measure(portal, args, notify, samples, pause):
    rng = random.Random(23 + notify)
    out = []
    before, started = portal.requests(), time.time()
    for i in range(samples):
        v = rng.randrange(args.products + 1, args.products + args.products * args.variations + 1)
        parent = (v - args.products - 1) // args.variations + 1
        quantity = 200 + i + 100 * notify
        at = int(portal.ask(f"qty {v} {quantity} {notify}").split()[1]) / 1000
        while stock(parent, v) != quantity:
            if time.time() - at > 600:
                sys.exit(f"variation {v} never showed {quantity}")
            time.sleep(0.05)
        out.append(time.time() - at)
        time.sleep(rng.uniform(0, pause))
    spent = time.time() - started
    return out, (portal.requests() - before) / spent * 3600, spent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vitrina")
    ap.add_argument("serve")
    ap.add_argument("--products", type=int, default=20000)
    ap.add_argument("--variations", type=int, default=3)
    ap.add_argument("--events", type=int, default=12)
    ap.add_argument("--polls", type=int, default=4)
    ap.add_argument("--idle", type=float, default=90)
    args = ap.parse_args()
    work = tempfile.mkdtemp()
    portal = Portal(args.serve, args.products, args.variations)
    env = dict(os.environ,
               VITRINA_DATABASE__URL=f"sqlite://{work}/db/vitrina.db",
               VITRINA_CATALOG__MEDIA_DIR=f"{work}/media", VITRINA_LOG="info",
               VITRINA_RATE_LIMIT__ENABLED="false",
               VITRINA_SERVER__PUBLIC_URL=f"http://127.0.0.1:{PORT}",
               VITRINA_BACKEND__KIND="bitrix", VITRINA_BITRIX__WEBHOOK_URL=portal.url,
               VITRINA_BITRIX__CATALOG_IBLOCK_ID="25", VITRINA_BITRIX__OFFERS_IBLOCK_ID="27",
               VITRINA_BITRIX__APPLICATION_TOKEN="fake-application-token-0123456789",
               VITRINA_BITRIX__PICTURES="false")
    os.makedirs(f"{work}/db")
    server = None
    try:
        subprocess.run([args.vitrina, "bitrix", "setup"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        log = open(f"{work}/vitrina.log", "w")
        started = time.time()
        server = subprocess.Popen([args.vitrina, "serve", "--listen", f"127.0.0.1:{PORT}"],
                                  env=env, stdout=log, stderr=log)
        last = args.products + args.products * args.variations
        while stock(args.products, last) is None:
            if server.poll() is not None or time.time() - started > 1800:
                sys.exit(f"vitrina never served the catalog; log in {work}/vitrina.log")
            time.sleep(0.5)
        synced = time.time() - started
        # The poll's clock starts after the first sync: leave a round behind us.
        time.sleep(5)
        ev, ev_rate, ev_spent = measure(portal, args, 1, args.events, 3)
        po, po_rate, po_spent = measure(portal, args, 0, args.polls, 20)
        before, t = portal.requests(), time.time()
        time.sleep(args.idle)
        idle_rate = (portal.requests() - before) / (time.time() - t) * 3600

        def row(name, xs, rate, spent):
            xs = sorted(xs)
            print(f"{name:<10} {len(xs):<8} {statistics.median(xs):<9.2f} {xs[-1]:<9.2f} "
                  f"{spent:<9.0f} {rate:<10.0f}")

        print(f"catalog: {args.products} products x {args.variations} variations "
              f"({args.products * (1 + args.variations)} elements); first full sync and "
              f"start {synced:.0f} s")
        print(f"{'mode':<10} {'changes':<8} {'median_s':<9} {'max_s':<9} {'window_s':<9} "
              f"{'requests/h':<10}")
        row("events", ev, ev_rate, ev_spent)
        row("poll only", po, po_rate, po_spent)
        print(f"{'idle':<10} {'-':<8} {'-':<9} {'-':<9} {args.idle:<9.0f} {idle_rate:<10.0f}")
    finally:
        if server:
            server.terminate()
            server.wait()
        portal.p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
