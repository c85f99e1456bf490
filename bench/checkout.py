#!/usr/bin/env python3
"""Checkout load: N concurrent customers, each in a loop of add-to-cart then checkout.

Prints orders/s and checkout latency percentiles, and, as the reference measured in the same
run by the same driver, the rate at which the driver itself can hit GET /healthz (so a result
close to that ceiling says the driver, not the server, was the limit).

Usage: bench/checkout.py BASE_URL OFFERS_FILE [--customers 50] [--seconds 15]
"""
import argparse
import http.client
import json
import random
import threading
import time
import urllib.parse
import uuid

BODY = json.dumps({
    "contact": {"name": "Нагрузка", "phone": "+7 999 000-00-00"},
    "delivery": {"method": "courier", "address": "Москва, Тверская, 1"},
    "payment_method": "on_receipt",
}).encode()


def connect(base):
    u = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)


def request(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    return r.status, data


def customer(base, user_id, offers, stop_at, out):
    conn = connect(base)
    status, data = request(conn, "GET", f"/dev/init-data?id={user_id}&first_name=Bench")
    assert status == 200, data
    auth = json.loads(data)["authorization"]
    headers = {"authorization": auth, "content-type": "application/json"}
    latencies, errors = [], {}
    while time.monotonic() < stop_at:
        item = json.dumps({"offer_id": random.choice(offers), "quantity": 1}).encode()
        status, data = request(conn, "POST", "/api/v1/cart/items", item, headers)
        if status != 200:
            errors[f"cart {status}"] = errors.get(f"cart {status}", 0) + 1
            continue
        h = dict(headers, **{"idempotency-key": uuid.uuid4().hex})
        t0 = time.perf_counter()
        status, data = request(conn, "POST", "/api/v1/orders", BODY, h)
        dt = time.perf_counter() - t0
        if status == 201:
            latencies.append(dt)
        else:
            errors[f"order {status}"] = errors.get(f"order {status}", 0) + 1
    out.append((latencies, errors))


def healthz(base, stop_at, out):
    conn = connect(base)
    n = 0
    while time.monotonic() < stop_at:
        status, _ = request(conn, "GET", "/healthz")
        n += status == 200
    out.append(n)


def run(target, args, seconds):
    out, threads = [], []
    stop_at = time.monotonic() + seconds
    for i in range(args.customers):
        threads.append(threading.Thread(target=target, args=args_for(target, args, i, stop_at, out)))
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out, time.monotonic() - started


def args_for(target, args, i, stop_at, out):
    if target is healthz:
        return (args.base, stop_at, out)
    return (args.base, 500000 + i, args.offers, stop_at, out)


def pct(sorted_values, p):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("offers_file")
    ap.add_argument("--customers", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=15)
    args = ap.parse_args()
    args.offers = [l.strip() for l in open(args.offers_file) if l.strip()]

    ref, ref_wall = run(healthz, args, 5)
    ref_rate = sum(ref) / ref_wall

    out, wall = run(customer, args, args.seconds)
    lat = sorted(x for latencies, _ in out for x in latencies)
    errors = {}
    for _, e in out:
        for k, v in e.items():
            errors[k] = errors.get(k, 0) + v
    orders = len(lat)
    print(json.dumps({
        "customers": args.customers,
        "seconds": round(wall, 1),
        "orders": orders,
        "orders_per_s": round(orders / wall, 1),
        "checkout_ms": {
            "p50": round(pct(lat, 0.50) * 1000, 2),
            "p99": round(pct(lat, 0.99) * 1000, 2),
            "max": round(lat[-1] * 1000, 2) if lat else None,
        },
        "errors": errors,
        "driver_ceiling_healthz_per_s": round(ref_rate, 1),
    }))


if __name__ == "__main__":
    main()
