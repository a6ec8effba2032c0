"""One JSON request per line on stdin, one JSON answer per line on stdout.

A request: {"id": n, "target": {...}, "op": "name", "args": [...], "kwargs": {...}}.
An answer: {"id": n, "result": ...} or {"id": n, "error": {"type", "message"}}.
Each driver gives `connect(target)` (called once per target) and `call(client,
op, args, kwargs)`. The test (a Node.js file) writes requests and checks the
simulated iLO between them; one Python process serves every model.
"""
import json
import sys


def serve(connect, call):
    clients = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            key = json.dumps(req['target'], sort_keys=True)
            if key not in clients:
                clients[key] = connect(req['target'])
            result = call(clients[key], req['op'], req.get('args', []), req.get('kwargs', {}))
            out = {'id': req['id'], 'result': result}
        except Exception as e:  # the test asserts on the type and message
            out = {'id': req['id'], 'error': {'type': type(e).__name__, 'message': str(e)}}
        sys.stdout.write(json.dumps(out, default=str) + '\n')
        sys.stdout.flush()
