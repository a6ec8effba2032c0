#!/usr/bin/python3
"""Helpers for the throwaway Swift all-in-one the tests start (test/helpers/swift-saio.ts).

  swift_saio.py rings ETC_DIR OBJECT_PORT CONTAINER_PORT ACCOUNT_PORT
      Builds the three rings (1 replica, 1 device, part power 8) in one process:
      ~0.5 s instead of ~4.4 s for nine swift-ring-builder calls.

  swift_saio.py proxy CONF_FILE MAX_FILE_SIZE
      Runs swift-proxy-server with the single-object size limit lowered, so the
      segmented (SLO) upload path can be tested with a few MB. Swift reads that
      limit only from the hard-coded /etc/swift/swift.conf, which the tests must
      not edit; the constraint is a module global read at request time, so it is
      set here before the proxy app is built.

Must be run with Debian's /usr/bin/python3 (the one that can import swift).
"""
import sys


def build_rings(etc, ports):
    from swift.common.ring import RingBuilder
    for name, port in zip(("object", "container", "account"), ports):
        b = RingBuilder(8, 1, 1)
        b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": port,
                   "device": "d1", "weight": 1.0, "meta": "",
                   "replication_ip": "127.0.0.1", "replication_port": port})
        b.rebalance()
        b.get_ring().save(f"{etc}/{name}.ring.gz")
        b.save(f"{etc}/{name}.builder")


def run_proxy(conf_file, max_file_size):
    from swift.common import constraints
    constraints.MAX_FILE_SIZE = max_file_size
    constraints.EFFECTIVE_CONSTRAINTS["max_file_size"] = max_file_size
    from swift.common.wsgi import run_wsgi
    return run_wsgi(conf_file, "proxy-server", verbose=True)


def main(argv):
    if len(argv) == 6 and argv[1] == "rings":
        build_rings(argv[2], [int(p) for p in argv[3:6]])
        return 0
    if len(argv) == 4 and argv[1] == "proxy":
        return run_proxy(argv[2], int(argv[3]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
