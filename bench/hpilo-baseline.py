#!/usr/bin/python3
"""python-hpilo baseline for `npm run bench`: N operations, sequential or
from a thread pool; prints wall time and CPU time as JSON.
Run with Debian's /usr/bin/python3 (python3-hpilo).

usage: hpilo-baseline.py HOST PORT LOGIN - OPS CONCURRENCY OP
The password is read from the first line of stdin (never a process argument).
OP is a python-hpilo method taking no argument (get_host_power_status), or:
  vm_status   get_vm_status('CDROM')
  boot_mode   get_current/pending/supported_boot_mode batched in one request
              (python-hpilo's delayed mode: its best case)
  health      get_embedded_health()
  mixed       the three above, one after the other
"""
import json
import resource
import ssl
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import hpilo

host, port, login, password_arg, ops, concurrency, op = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
password = sys.stdin.readline().rstrip('\n') if password_arg == '-' else password_arg
ctx = ssl.create_default_context()
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
