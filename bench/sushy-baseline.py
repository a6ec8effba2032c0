#!/usr/bin/python3
"""sushy baseline for `npm run bench`: N sequential power-state reads of one
Redfish system, as Ironic's redfish driver does them (refresh the system,
read PowerState); prints wall time and CPU time as JSON.
Run with Debian's /usr/bin/python3 (python3-sushy).

usage: sushy-baseline.py URL LOGIN - OPS
URL is the iLO's base, e.g. https://127.0.0.1:8443. The password is read
from the first line of stdin (never a process argument). sushy sends
Connection: close on every request (its connector, for BMCs that choke on
long-lived connections): each read is a TLS connection of its own.
"""
import json
import os
import resource
import sys
import time
import warnings

import sushy

url, login, password_arg, ops = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
password = sys.stdin.readline().rstrip('\n') if password_arg == '-' else password_arg
warnings.filterwarnings('ignore')  # certificate not verified (a simulated iLO)
# requests lets these override verify=False: drop them for this process.
for var in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
    os.environ.pop(var, None)
root = sushy.Sushy(url + '/redfish/v1', username=login, password=password, verify=False)
system = root.get_system(root.get_system_collection().members_identities[0])


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


for _ in range(5):  # warm up
    system.refresh(force=True)
    system.power_state
c0, t0 = cpu(), time.perf_counter()
for _ in range(ops):
    system.refresh(force=True)
    system.power_state
wall, cpu_s = time.perf_counter() - t0, cpu() - c0
print(json.dumps({"ops": ops, "wall_ms": wall * 1000, "cpu_ms": cpu_s * 1000}))
