"""proliantutils' IloClient (Debian python3-proliantutils): op = an IloClient method.

proliantutils' RIS (/rest/v1) and Redfish clients take no port: they always
use 443. This test-only driver gives them host:port instead; nothing else of
the client is changed. RIBCL gets its port the supported way.
"""
import types

from proliantutils.ilo import client, ris
from proliantutils.redfish import redfish
from serve import serve

_port = {}


def _at_port(cls):
    return lambda host, *args, **kwargs: cls('%s:%d' % (host, _port['next']), *args, **kwargs)


# Only IloClient's own references are replaced: the client classes stay as they are.
client.ris = types.SimpleNamespace(RISOperations=_at_port(ris.RISOperations))
client.redfish = types.SimpleNamespace(RedfishOperations=_at_port(redfish.RedfishOperations))


def connect(t):
    _port['next'] = t['port']
    # IloClient memoises one client per (address, user, password); .cls is the class itself, so that
    # the same iLO can be driven with and without use_redfish_only.
    return client.IloClient.cls(t['host'], t['user'], t['password'], port=t['port'], cacert=t['ca'],
                            use_redfish_only=t.get('redfishOnly', False))


def call(ilo, op, args, kwargs):
    if op == 'backend':
        # Which of its clients IloClient routes an operation to (RIBCL, RIS or Redfish).
        m = ilo.model
        if ilo.use_redfish_only or ('Gen10' in m and args[0] in client.SUPPORTED_REDFISH_METHODS):
            return 'redfish'
        if 'Gen9' in m and args[0] in client.SUPPORTED_RIS_METHODS:
            return 'ris'
        return 'ribcl'
    return getattr(ilo, op)(*args, **kwargs)


serve(connect, call)
