#!/usr/bin/env python3
"""Legitimate customers keep buying while the public floods the shop.

`vitrina demo` (SQLite, the demo catalog, dev sign-in, the 1C exchange on) runs pinned to one
core; the clients run on the other. Customers browse as phones do (sections, three pages of the
catalog with their thumbnails, a product with its pictures), add to the cart, check out and
open the order, each session a new customer from its own address. First quietly, then while
wrk floods from other addresses (one address per kind, through the trusted proxy):
sign-in with one attacker's valid initData, sign-in with forged initData, search, checkout
with the attacker's credentials, image resizing, 1C checkauth with wrong passwords, and random
HTTP methods. Reports the customers' p50/p99 and errors in both phases, what each flood got,
and vitrina's RSS before and after.

Usage: bench/abuse.py BINARY [--customers 4] [--quiet 20] [--flood 20] [--floods all]
"""
import argparse
import http.client
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
FLOODS = ["sign_in", "forged_sign_in", "search", "checkout", "images", "checkauth", "methods"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_mb(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


class Customers:
    """Customers, one session after another on each thread; every request timed."""

    def __init__(self, port, threads):
        self.port, self.threads = port, threads
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.phase = "warmup"
        self.samples = {}  # phase -> [(latency_s, ok, what)]
        self.next_id = 900_000
        self.sessions = {}

    def record(self, latency, ok, what):
        with self.lock:
            self.samples.setdefault(self.phase, []).append((latency, ok, what))

    def call(self, conn, method, path, headers, body=None, what=""):
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
            ok = 200 <= r.status < 300
            self.record(time.perf_counter() - started, ok, f"{what or path.split('?')[0]} {r.status}")
            return r.status, data
        except (OSError, http.client.HTTPException) as e:
            self.record(time.perf_counter() - started, False, f"{what} {type(e).__name__}")
            conn.close()
            return None, b""

    def session(self):
        with self.lock:
            self.next_id += 1
            user = self.next_id
            self.sessions[self.phase] = self.sessions.get(self.phase, 0) + 1
        # A customer's own address among many (a carrier's pool), never a flooder's.
        ip = f"203.0.{random.randint(0, 112)}.{random.randint(1, 254)}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        base = {"x-forwarded-for": ip}
        status, body = self.call(conn, "GET", f"/dev/init-data?id={user}", base, what="sign-in")
        if status != 200:
            return
        h = dict(base, authorization=json.loads(body)["authorization"])
        self.call(conn, "GET", "/api/v1/sections", h)
        cursor, offers, products = None, [], []
        for page in range(3):
            path = "/api/v1/products?sort=popular&limit=20" + (f"&cursor={cursor}" if cursor else "")
            status, body = self.call(conn, "GET", path, h, what="/api/v1/products")
            if status != 200:
                break
            listing = json.loads(body)
            for item in listing["items"][:8]:
                if item.get("image"):
                    self.call(conn, "GET", item["image"], h, what="thumbnail")
            products += [p["id"] for p in listing["items"] if p.get("in_stock")]
            cursor = listing.get("next_cursor")
            if not cursor:
                break
        if not products:
            return
        pid = random.choice(products)
        status, body = self.call(conn, "GET", f"/api/v1/products/{pid.replace('#', '%23')}", h,
                                 what="/api/v1/products/{id}")
        if status != 200:
            return
        card = json.loads(body)
        for img in card.get("images", [])[:2]:
            self.call(conn, "GET", img["large"], h, what="picture")
        offers = [o["id"] for o in card.get("offers", []) if o.get("in_stock")]
        if not offers:
            return
        jh = dict(h, **{"content-type": "application/json"})
        self.call(conn, "POST", "/api/v1/cart/items", jh,
                  body=json.dumps({"offer_id": random.choice(offers), "quantity": 1}).encode())
        self.call(conn, "GET", "/api/v1/cart", h)
        order = {"contact": {"name": "Покупатель", "phone": "+79991234567"},
                 "delivery": {"method": "pickup", "pickup_point": "Москва, ул. Примерная, 1 (10:00–21:00)"},
                 "payment_method": "on_receipt"}
        status, body = self.call(conn, "POST", "/api/v1/orders",
                                 dict(jh, **{"idempotency-key": uuid.uuid4().hex}),
                                 body=json.dumps(order).encode())
        if status == 201:
            self.call(conn, "GET", f"/api/v1/orders/{json.loads(body)['id']}", h, what="/api/v1/orders/{id}")
        conn.close()

    def run(self):
        while not self.stop.is_set():
            try:
                self.session()
            except Exception as e:  # a broken answer is an error of the shop, counted as one
                self.record(0.0, False, f"session {type(e).__name__}: {e}")

    def start(self):
        self.workers = [threading.Thread(target=self.run, daemon=True) for _ in range(self.threads)]
        for w in self.workers:
            w.start()

    def summary(self, phase):
        s = self.samples.get(phase, [])
        lat = sorted(x[0] for x in s)
        errors = [x[2] for x in s if not x[1]]

        def pct(p):
            return round(lat[min(len(lat) - 1, int(len(lat) * p))] * 1000, 1) if lat else None
        return {"requests": len(s), "sessions": self.sessions.get(phase, 0),
                "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": round(lat[-1] * 1000, 1) if lat else None,
                "errors": len(errors), "error_kinds": sorted(set(errors))[:10]}


def methods_flood(port, seconds, ip):
    """Random HTTP methods (wrk refuses to send them), over one keep-alive connection at a time;
    prints a line like wrk's script does."""
    paths = ["/", "/api/v1/products", "/api/v1/cart", "/no/such/path", "/images/x/y"]
    counts = {"ok": 0, "limited": 0, "refused": 0, "other": 0, "server_errors": 0, "socket_errors": 0}
    started, n, sock, buf = time.time(), 0, None, b""
    while time.time() - started < seconds:
        n += 1
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                buf = b""
            sock.sendall(f"FOO{n} {paths[n % len(paths)]} HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {ip}\r\n\r\n".encode())
            while b"\r\n\r\n" not in buf:
                chunk = sock.recv(65536)
                if not chunk:
                    raise OSError("closed")
                buf += chunk
            head, _, buf = buf.partition(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v.strip())
            while len(buf) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    raise OSError("closed")
                buf += chunk
            buf = buf[length:]
            key = ("ok" if status < 300 else "limited" if status == 429 else "server_errors" if status >= 500
                   else "refused" if status in (401, 404, 405, 409) else "other")
            counts[key] += 1
            if b"connection: close" in head.lower():
                sock.close()
                sock = None
        except (OSError, ValueError, IndexError):
            counts["socket_errors"] += 1
            if sock:
                sock.close()
            sock = None
    print(json.dumps(dict(flood="methods", requests=n, seconds=round(time.time() - started, 1), **counts)))


def metric_series(port):
    """HTTP request series on /metrics: a flood must not add any."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/metrics", headers={"x-forwarded-for": "192.0.2.2"})
    text = c.getresponse().read().decode()
    c.close()
    return sum(1 for line in text.splitlines() if line.startswith("vitrina_http_requests_total{"))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--methods-flood":
        methods_flood(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--customers", type=int, default=4)
    ap.add_argument("--quiet", type=float, default=20)
    ap.add_argument("--flood", type=float, default=20)
    ap.add_argument("--floods", default="all", help="comma-separated kinds, or all: " + ",".join(FLOODS))
    ap.add_argument("--connections", type=int, default=4, help="wrk connections per flood")
    args = ap.parse_args()
    floods = FLOODS if args.floods == "all" else args.floods.split(",")
    cores = os.cpu_count() or 1
    server_cpus, client_cpus = ("0", "1") if cores >= 2 else ("0", "0")

    work = tempfile.mkdtemp(prefix="vitrina-abuse-")
    port = free_port()
    env = dict(os.environ, VITRINA_LOG="warn", VITRINA_EXCHANGE_1C__USER="1c",
               VITRINA_EXCHANGE_1C__PASSWORD="abuse-1c-password")
    log = open(os.path.join(work, "vitrina.log"), "w")
    server = subprocess.Popen(["taskset", "-c", server_cpus, args.binary, "demo", "--listen", f"127.0.0.1:{port}",
                               "--data-dir", os.path.join(work, "demo")], env=env, stdout=log, stderr=log)
    wrks = []
    try:
        for _ in range(600):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None:
                sys.exit(open(os.path.join(work, "vitrina.log")).read())
            time.sleep(0.1)
        # Enough stock that customers never find an offer sold out (that would be an error
        # of the benchmark, not of the shop); the cart and checkout read stock from the database.
        db = sqlite3.connect(os.path.join(work, "demo", "vitrina.db"), timeout=30)
        db.execute("UPDATE offers SET stock_milli = 1000000000 WHERE price IS NOT NULL")
        db.commit()
        db.close()

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/api/v1/products?limit=100", headers={"x-forwarded-for": "192.0.2.1"})
        items = json.loads(conn.getresponse().read())["items"]
        images = " ".join(i["image"] for i in items if i.get("image"))
        conn.request("GET", "/dev/init-data?id=666", headers={"x-forwarded-for": "192.0.2.1"})
        attacker = json.loads(conn.getresponse().read())["authorization"]
        conn.close()

        customers = Customers(port, args.customers)
        customers.start()
        time.sleep(3)  # warm-up: first renders, caches
        customers.phase = "quiet"
        time.sleep(args.quiet)
        rss_before, _ = rss_mb(server.pid)
        series_before = metric_series(port)
        customers.phase = "flood"
        for i, kind in enumerate(floods):
            if kind == "methods":
                wrks.append(subprocess.Popen(
                    ["nice", "-n", "10", "taskset", "-c", client_cpus, sys.executable, os.path.abspath(__file__),
                     "--methods-flood", str(port), str(args.flood), f"198.51.100.{10 + i}"],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
                continue
            fenv = dict(os.environ, FLOOD=kind, FLOOD_IP=f"198.51.100.{10 + i}", FLOOD_AUTH=attacker,
                        FLOOD_IMAGES=images)
            wrks.append(subprocess.Popen(
                ["nice", "-n", "10", "taskset", "-c", client_cpus, "wrk", "-t1", f"-c{args.connections}",
                 f"-d{int(args.flood)}s", "--timeout", "10s", "-s", os.path.join(HERE, "abuse.lua"),
                 f"http://127.0.0.1:{port}"],
                env=fenv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        time.sleep(args.flood)
        flood_results = []
        for w in wrks:
            out, _ = w.communicate(timeout=60)
            line = [ln for ln in out.splitlines() if ln.startswith("{")]
            flood_results.append(json.loads(line[-1]) if line else {"error": out[-500:]})
        rss_after, hwm = rss_mb(server.pid)
        series_after = metric_series(port)
        customers.phase = "after"
        time.sleep(3)
        customers.stop.set()
        for t in customers.workers:
            t.join(timeout=30)
        quiet, flood = customers.summary("quiet"), customers.summary("flood")
        result = {
            "customers": args.customers, "quiet_s": args.quiet, "flood_s": args.flood,
            "server_cpus": server_cpus, "client_cpus": client_cpus,
            "quiet": quiet, "flood": flood,
            "p99_ratio": round(flood["p99_ms"] / quiet["p99_ms"], 2) if quiet["p99_ms"] and flood["p99_ms"] else None,
            "rss_mb": {"before_flood": round(rss_before, 1), "after_flood": round(rss_after, 1),
                       "growth": round(rss_after - rss_before, 1), "peak": round(hwm, 1)},
            "floods": flood_results,
            "http_metric_series": {"before_flood": series_before, "after_flood": series_after},
        }
        print("| phase | sessions | requests | p50 ms | p99 ms | errors |")
        print("|---|---|---|---|---|---|")
        for name, s in (("quiet", quiet), ("flood", flood)):
            print(f"| {name} | {s['sessions']} | {s['requests']} | {s['p50_ms']} | {s['p99_ms']} | {s['errors']} |")
        print()
        print("| flood | requests | req/s | 2xx | 429 | 401/404/405/409 | 5xx |")
        print("|---|---|---|---|---|---|---|")
        for f in flood_results:
            if "flood" in f:
                print(f"| {f['flood']} | {f['requests']} | {f['requests'] / max(f['seconds'], 0.1):.0f} | {f['ok']} | "
                      f"{f['limited']} | {f['refused']} | {f['server_errors']} |")
        print()
        print(f"vitrina RSS: {rss_before:.1f} MB before the floods, {rss_after:.1f} MB after "
              f"(peak {hwm:.1f} MB); HTTP metric series: {series_before} before, {series_after} after")
        print()
        print(json.dumps(result, ensure_ascii=False))
        failed = flood["errors"] > 0 or any(f.get("server_errors") for f in flood_results)
        sys.exit(1 if failed else 0)
    finally:
        for w in wrks:
            if w.poll() is None:
                w.kill()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


if __name__ == "__main__":
    main()
