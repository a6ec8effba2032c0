#!/usr/bin/python3
"""python-hpilo baseline for `npm run bench`: N operations, sequential or
from a thread pool; prints wall time and CPU time as JSON.
Run with Debian's /usr/bin/python3 (python3-hpilo).

usage: hpilo-baseline.py HOST PORT LOGIN - OPS CONCURRENCY OP [nodelay|shipped]
The password is read from the first line of stdin (never a process argument).

nodelay (default): TCP_NODELAY on python-hpilo's socket. python-hpilo writes
each request in three pieces (HTTP head, XML declaration, XML) on a socket
with Nagle's algorithm on: the second piece waits until the iLO acknowledges
the first, and whether the kernel acknowledges at once or only when its
delayed-ACK timer fires (up to 40 ms on Linux) changes from run to run, so
its sequential rate jumped between 28 and 600 calls/s. With TCP_NODELAY
nothing waits: a stable figure, and python-hpilo's best case (it sends the
same bytes). shipped: the socket as python-hpilo makes it, for reference.
OP is a python-hpilo method taking no argument (get_host_power_status), or:
  vm_status   get_vm_status('CDROM')
  boot_mode   get_current/pending/supported_boot_mode batched in one request
              (python-hpilo's delayed mode: its best case)
  health      get_embedded_health()
  mixed       the three above, one after the other
"""
import json
import resource
import socket
import ssl
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import hpilo

host, port, login, password_arg, ops, concurrency, op = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
mode = sys.argv[8] if len(sys.argv) > 8 else 'nodelay'
password = sys.stdin.readline().rstrip('\n') if password_arg == '-' else password_arg


class NoDelayContext(ssl.SSLContext):
    """python-hpilo wraps its socket with the context it is given: set TCP_NODELAY there."""

    def wrap_socket(self, sock, *args, **kwargs):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().wrap_socket(sock, *args, **kwargs)


ctx = NoDelayContext(ssl.PROTOCOL_TLS_CLIENT) if mode == 'nodelay' else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE


def client():
    # Protocol fixed to HTTP: no detection request, the best case for python-hpilo.
    return hpilo.Ilo(host, login, password, port=port, protocol=hpilo.ILO_HTTP, ssl_context=ctx, timeout=30)


def boot_mode(ilo):
    ilo.delayed = True
    try:
        ilo.get_current_boot_mode()
        ilo.get_pending_boot_mode()
        ilo.get_supported_boot_mode()
        return ilo.call_delayed()
    finally:
        ilo.delayed = False


OPS = {
    'vm_status': lambda ilo: ilo.get_vm_status('CDROM'),
    'boot_mode': boot_mode,
    'health': lambda ilo: ilo.get_embedded_health(),
    'mixed': lambda ilo: (ilo.get_vm_status('CDROM'), boot_mode(ilo), ilo.get_embedded_health()),
}


def one(ilo):
    if op in OPS:
        OPS[op](ilo)
    else:
        getattr(ilo, op)()


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

ilos = [client() for _ in range(max(1, concurrency))]
one(ilos[0])  # warm up
c0, t0 = cpu(), time.perf_counter()
if concurrency <= 1:
    for _ in range(ops):
        one(ilos[0])
else:
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(lambda i: one(ilos[i % concurrency]), range(ops)))
wall, cpu_s = time.perf_counter() - t0, cpu() - c0
print(json.dumps({"ops": ops, "wall_ms": wall * 1000, "cpu_ms": cpu_s * 1000}))
