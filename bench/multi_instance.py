#!/usr/bin/env python3
"""Several instances on one PostgreSQL, proven: nginx on loopback in front of two `vitrina serve`
processes sharing one database, under a load of catalog reads and checkouts.

1. A fresh PostgreSQL database; a synthetic catalog imported; both instances and nginx started.
2. Catalog-read throughput through nginx with one instance, then with two (wrk).
3. Mixed load through nginx: readers and customers checking out (each checkout has an
   Idempotency-Key and is retried with the same key on any error, as the Mini App does).
4. A new catalog version uploaded through instance A by the 1C exchange protocol: both A and B
   (asked directly) serve it within a few seconds.
5. Instance B killed with SIGKILL mid-load; A keeps serving through nginx.
6. Checks: every acknowledged order exists exactly once, no order was made twice for one key,
   every outbox job is done (none pending or dead), and the error rate around the kill.

Exits non-zero when a check fails; prints the figures as JSON on the last line.
Usage: bench/multi_instance.py BINARY [--pg postgres://postgres@127.0.0.1:5432] [--seconds 20]
"""
import argparse
import base64
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(port, method, path, body=None, headers=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def wait_ready(port, proc, log, limit=60):
    started = time.time()
    while time.time() - started < limit:
        if proc.poll() is not None:
            sys.exit(f"vitrina on :{port} exited:\n{open(log).read()}")
        try:
            if request(port, "GET", "/readyz", timeout=1)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"vitrina on :{port} not ready after {limit}s:\n{open(log).read()}")


def psql(url, sql):
    return subprocess.run(["psql", "-qAtX", url, "-c", sql], check=True, capture_output=True, text=True).stdout.strip()


def catalog_version(port):
    status, body = request(port, "GET", f"/api/v1/products?limit=1&_={random.random()}")
    return json.loads(body)["catalog_version"] if status == 200 else None


class Load:
    """Readers and customers through nginx; records every outcome with its time."""

    def __init__(self, port, offers, readers=6, customers=6):
        self.port, self.offers = port, offers
        self.readers, self.customers = readers, customers
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.events = []  # (time, kind, ok)
        self.acknowledged = {}  # idempotency key -> order id
        self.attempted = set()
        self.abandoned = []

    def record(self, kind, ok, status=None):
        with self.lock:
            self.events.append((time.time(), kind, ok, status))

    def reader(self):
        paths = ["/api/v1/products?limit=20", "/api/v1/sections", "/api/v1/products?limit=20&sort=price_asc"]
        while not self.stop.is_set():
            try:
                status, _ = request(self.port, "GET", random.choice(paths), timeout=5)
                self.record("read", status == 200, status)
            except OSError as e:
                self.record("read", False, type(e).__name__)

    def customer(self, n):
        status, body = request(self.port, "GET", f"/dev/init-data?id={800000 + n}")
        auth = json.loads(body)["authorization"]
        headers = {"authorization": auth, "content-type": "application/json"}
        order = json.dumps({"contact": {"name": "Нагрузка", "phone": "+79990000000"},
                            "delivery": {"method": "courier", "address": "Москва, Тверская, 1"},
                            "payment_method": "on_receipt"}).encode()
        while not self.stop.is_set():
            item = json.dumps({"offer_id": random.choice(self.offers), "quantity": 1}).encode()
            try:
                status, _ = request(self.port, "POST", "/api/v1/cart/items", item, headers, timeout=5)
                self.record("cart", status == 200, status)
                if status != 200:
                    continue
            except OSError as e:
                self.record("cart", False, type(e).__name__)
                continue
            key = uuid.uuid4().hex
            with self.lock:
                self.attempted.add(key)
            # Retried with the same key until the server answers, like the Mini App.
            for attempt in range(60):
                try:
                    status, body = request(self.port, "POST", "/api/v1/orders", order,
                                           dict(headers, **{"idempotency-key": key}), timeout=10)
                except OSError as e:
                    status, body = type(e).__name__, b""
                self.record("order", status in (200, 201), status)
                if status in (200, 201):
                    with self.lock:
                        self.acknowledged[key] = json.loads(body)["id"]
                    break
                if status in (400, 409, 422):
                    with self.lock:
                        self.abandoned.append((key, status, body[:200]))
                    break
                time.sleep(0.2)

    def start(self):
        self.threads = [threading.Thread(target=self.reader) for _ in range(self.readers)]
        self.threads += [threading.Thread(target=self.customer, args=(n,)) for n in range(self.customers)]
        for t in self.threads:
            t.daemon = True  # a failed check must not leave them hammering the servers
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join()

    def error_rate(self, start, end):
        window = [ok for t, _, ok, _ in self.events if start <= t <= end]
        return (len(window) - sum(window)) / max(1, len(window)), len(window)

    def failures(self, start, end):
        counts = {}
        for t, kind, ok, status in self.events:
            if start <= t <= end and not ok:
                counts[f"{kind} {status}"] = counts.get(f"{kind} {status}", 0) + 1
        return counts


def exchange_upload(port, package):
    """A 1C exchange session against one instance: checkauth, init, files, import until done."""
    auth = "Basic " + base64.b64encode(b"1c:multi-secret").decode()
    status, body = request(port, "GET", "/1c/exchange?type=catalog&mode=checkauth", headers={"authorization": auth})
    lines = body.decode("cp1251").split("\n")
    assert status == 200 and lines[0] == "success", body
    cookie = {"cookie": f"{lines[1]}={lines[2]}"}
    status, body = request(port, "GET", "/1c/exchange?type=catalog&mode=init", headers=cookie)
    init = dict(line.split("=", 1) for line in body.decode("cp1251").split("\n") if "=" in line)
    limit = int(init.get("file_limit", 1 << 20))
    # As 1C does: each file in pieces of at most file_limit bytes, appended by the server.
    for name in ["import.xml", "offers.xml"]:
        with open(os.path.join(package, name), "rb") as f:
            data = f.read()
        for at in range(0, len(data), limit):
            status, body = request(port, "POST", f"/1c/exchange?type=catalog&mode=file&filename={name}",
                                   data[at:at + limit], cookie, 60)
            assert status == 200, body
    for name in ["import.xml", "offers.xml"]:
        for _ in range(600):
            status, body = request(port, "GET", f"/1c/exchange?type=catalog&mode=import&filename={name}", headers=cookie, timeout=30)
            text = body.decode("cp1251")
            if text.startswith("success"):
                break
            assert text.startswith("progress"), text
            time.sleep(0.2)


def wrk(url, seconds=5):
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", url], capture_output=True, text=True).stdout
    rps = float(next(l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec")))
    p99 = next(l.split()[1] for l in out.splitlines() if l.strip().startswith("99%"))
    return rps, p99


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--pg", default=os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432"))
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--products", type=int, default=2000)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="vitrina-multi-")
    dbname = f"vitrina_multi_{os.getpid()}"
    db_url = f"{args.pg}/{dbname}"
    procs = {}
    psql(f"{args.pg}/postgres", f"CREATE DATABASE {dbname}")
    try:
        env = dict(os.environ,
                   VITRINA_DATABASE__URL=db_url,
                   VITRINA_CATALOG__MEDIA_DIR=os.path.join(work, "media"),
                   VITRINA_DEV__ENABLED="true",
                   VITRINA_TELEGRAM__BOT_TOKEN="1000000001:vitrina-demo-token-not-for-telegram",
                   # Throughput and failover from one load generator's address: the per-address
                   # limits would measure themselves (bench/abuse.sh measures them).
                   VITRINA_RATE_LIMIT__ENABLED="false",
                   VITRINA_EXCHANGE_1C__USER="1c",
                   VITRINA_EXCHANGE_1C__PASSWORD="multi-secret",
                   VITRINA_OUTBOX__LEASE="3s",
                   VITRINA_CATALOG__REFRESH_INTERVAL="1s",
                   VITRINA_LOG="warn")
        for v in (1, 2):
            subprocess.run([sys.executable, os.path.join(HERE, "gen_commerceml.py"), os.path.join(work, f"v{v}"),
                            "--products", str(args.products), "--offers-per-product", "2", "--images", "20", "--seed", str(v),
                            # The second version is the same 1C base exported again: its
                            # objects keep their GUIDs, so carts made before it still buy.
                            "--id-seed", "1"],
                           check=True, capture_output=True)
            # Plenty of stock in both versions: a sold-out item would be a refused checkout,
            # not a failover error, and would blur what this run measures.
            offers_xml = os.path.join(work, f"v{v}", "offers.xml")
            with open(offers_xml, encoding="utf-8") as f:
                text = re.sub(r"<Количество>\d+</Количество>", "<Количество>1000000</Количество>", f.read())
            with open(offers_xml, "w", encoding="utf-8") as f:
                f.write(text)
        subprocess.run([args.binary, "import", os.path.join(work, "v1")], env=env, check=True, capture_output=True)
        offers = psql(db_url, "SELECT id FROM offers WHERE price IS NOT NULL ORDER BY id LIMIT 300").split("\n")

        ports = {"a": free_port(), "b": free_port()}
        for name, port in ports.items():
            log = os.path.join(work, f"{name}.log")
            procs[name] = subprocess.Popen([args.binary, "serve", "--listen", f"127.0.0.1:{port}"], env=env,
                                           stdout=subprocess.DEVNULL, stderr=open(log, "w"))
            wait_ready(port, procs[name], log)

        nginx_port, single_port = free_port(), free_port()
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes 1;
error_log {work}/nginx-error.log;
pid {work}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  upstream vitrina {{ server 127.0.0.1:{ports['a']} max_fails=1 fail_timeout=2s; server 127.0.0.1:{ports['b']} max_fails=1 fail_timeout=2s; keepalive 32; }}
  upstream only_a {{ server 127.0.0.1:{ports['a']}; keepalive 32; }}
  server {{
    listen 127.0.0.1:{single_port};
    location / {{ proxy_pass http://only_a; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
  server {{
    listen 127.0.0.1:{nginx_port};
    location / {{
      proxy_pass http://vitrina;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
      proxy_next_upstream error timeout http_502;
      proxy_connect_timeout 1s;
    }}
  }}
}}
""")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        procs["nginx"] = subprocess.Popen([nginx, "-c", conf, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
        time.sleep(0.5)

        figures = {"products": args.products, "machine": f"{os.cpu_count()} cores"}
        list_url = f"http://127.0.0.1:{nginx_port}/api/v1/products?limit=20"
        if shutil.which("wrk"):
            single = f"http://127.0.0.1:{single_port}/api/v1/products?limit=20"
            figures["reads_1_instance_rps"], figures["reads_1_instance_p99"] = wrk(single)
            figures["reads_2_instances_rps"], figures["reads_2_instances_p99"] = wrk(list_url)

        load = Load(nginx_port, offers)
        load.start()
        t0 = time.time()
        time.sleep(args.seconds * 0.2)

        # A new catalog version through instance A only; both serve it soon after.
        before = catalog_version(ports["a"])
        exchange_upload(ports["a"], os.path.join(work, "v2"))
        published = time.time()
        seen = {}
        while len(seen) < 2 and time.time() - published < 30:
            for name in ("a", "b"):
                if name not in seen and (catalog_version(ports[name]) or 0) > before:
                    seen[name] = round(time.time() - published, 2)
            time.sleep(0.05)
        figures["new_catalog_served_after_s"] = seen
        assert set(seen) == {"a", "b"}, f"not every instance served the new catalog: {seen}"

        time.sleep(max(0.0, t0 + args.seconds * 0.5 - time.time()))
        killed_at = time.time()
        procs["b"].kill()  # SIGKILL: no cleanup, leases stay in the database
        procs["b"].wait()
        time.sleep(max(0.0, t0 + args.seconds - time.time()))
        load.finish()
        figures["error_rate_2s_around_kill"], figures["requests_2s_around_kill"] = load.error_rate(killed_at - 1, killed_at + 1)
        figures["error_rate_after_kill"], _ = load.error_rate(killed_at + 3, time.time())
        figures["failures_around_kill"] = load.failures(killed_at - 1, time.time())
        figures["failures_before_kill"] = load.failures(0, killed_at - 1)
        figures["orders_acknowledged"] = len(load.acknowledged)
        figures["requests"] = len(load.events)

        # The outbox drains on the survivor, including jobs the dead instance had leased.
        deadline = time.time() + 30
        while time.time() < deadline:
            pending = int(psql(db_url, "SELECT COUNT(*) FROM outbox WHERE state <> 'done'"))
            if pending == 0:
                break
            time.sleep(0.5)
        jobs = dict(line.split("|") for line in psql(db_url, "SELECT state, COUNT(*) FROM outbox GROUP BY state").split("\n") if line)
        figures["outbox"] = jobs
        retried = int(psql(db_url, "SELECT COUNT(*) FROM outbox WHERE attempts > 1"))
        figures["outbox_jobs_rerun_after_kill"] = retried

        rows = psql(db_url, "SELECT idempotency_key, COUNT(*), MIN(id) FROM orders GROUP BY idempotency_key").split("\n")
        by_key = {k: (int(c), int(i)) for k, c, i in (r.split("|") for r in rows if r)}
        problems = []
        dupes = [k for k, (c, _) in by_key.items() if c > 1]
        if dupes:
            problems.append(f"{len(dupes)} keys with more than one order")
        lost = [k for k, oid in load.acknowledged.items() if k not in by_key or by_key[k][1] != oid]
        if lost:
            problems.append(f"{len(lost)} acknowledged orders missing or different")
        stray = [k for k in by_key if k not in load.attempted]
        if stray:
            problems.append(f"{len(stray)} orders for keys no client sent")
        if jobs.get("pending") or jobs.get("dead"):
            problems.append(f"outbox not drained: {jobs}")
        if figures["error_rate_after_kill"] > 0.0:
            problems.append(f"errors after the kill settled: {figures['error_rate_after_kill']:.4f}")
        if load.abandoned:
            problems.append(f"checkouts refused: {load.abandoned[:3]}")
        if len(load.acknowledged) < 10:
            problems.append(f"too few orders under load: {len(load.acknowledged)}")
        figures["orders_in_database"] = sum(c for c, _ in by_key.values())
        print(json.dumps(figures))
        if problems:
            sys.exit("FAILED: " + "; ".join(problems))
    finally:
        for name, p in procs.items():
            if p.poll() is None:
                # nginx's master passes SIGTERM on to its workers; SIGKILL would orphan them.
                p.terminate() if name == "nginx" else p.kill()
                p.wait()
        subprocess.run(["psql", "-qAtX", f"{args.pg}/postgres", "-c", f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"],
                       capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
