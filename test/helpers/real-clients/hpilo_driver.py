"""python-hpilo (Debian python3-hpilo) as a library: op = an hpilo.Ilo method."""
import ssl

import hpilo
from serve import serve


def connect(t):
    # Verifies the simulated iLO against the fleet CA the test wrote.
    ctx = ssl.create_default_context(cafile=t['ca'])
    return hpilo.Ilo(t['host'], login=t['user'], password=t['password'], port=t['port'], timeout=30, ssl_context=ctx)


def call(ilo, op, args, kwargs):
    return getattr(ilo, op)(*args, **kwargs)


serve(connect, call)
