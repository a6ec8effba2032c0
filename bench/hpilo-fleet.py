#!/usr/bin/python3
"""python-hpilo baseline for the fleet poll of `npm run bench`: read every
iLO of a simulated fleet (power state, then embedded health) from a thread
pool, for a few rounds; prints per-round wall time, per-iLO latency
percentiles, CPU time and peak RSS as JSON.
Run with Debian's /usr/bin/python3 (python3-hpilo).

usage: hpilo-fleet.py THREADS ROUNDS < fleet.json
stdin: the fleet as `npm run sim -- --json` prints it (credentials included,
so they never appear in process arguments).
"""
import json
import resource
import socket
import ssl
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import hpilo

threads, rounds = int(sys.argv[1]), int(sys.argv[2])
fleet = json.loads(sys.stdin.read())


class NoDelayContext(ssl.SSLContext):
    """TCP_NODELAY on python-hpilo's socket: its best case (see hpilo-baseline.py)."""

    def wrap_socket(self, sock, *args, **kwargs):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().wrap_socket(sock, *args, **kwargs)


ctx = NoDelayContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
clients = [hpilo.Ilo(i['host'], i['username'], i['password'], port=i['port'], protocol=hpilo.ILO_HTTP, ssl_context=ctx, timeout=60) for i in fleet]


def poll(ilo):
    t0 = time.perf_counter()
    ilo.get_host_power_status()
    ilo.get_embedded_health()
    return (time.perf_counter() - t0) * 1000


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]

out = []
c0 = cpu()
with ThreadPoolExecutor(max_workers=threads) as pool:
    for _ in range(rounds):
        t0 = time.perf_counter()
        lat = list(pool.map(poll, clients))
        out.append({"wall_ms": (time.perf_counter() - t0) * 1000, "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99)})
cpu_ms = (cpu() - c0) * 1000
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
print(json.dumps({"rounds": out, "cpu_ms": cpu_ms, "reads": 2 * len(clients) * rounds, "peak_rss_mb": rss_mb}))
