/**
 * A TLS server that answers every request with the exact bytes of a
 * recorded iLO response (status line, headers, chunked body), so the real
 * client stack (undici, de-chunking, parsing) reads what a real iLO sent.
 */
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { createServer, type Server } from 'node:tls';
import { createFleetCa } from '../../sim/certs';

export interface ReplayIlo {
  port: number;
  fingerprint: string;
  /** What to answer next (raw HTTP response bytes). */
  answer: Buffer;
  /** Request bodies received. */
  requests: string[];
  close(): Promise<void>;
}

export async function startReplayIlo(): Promise<ReplayIlo> {
  const ca = await createFleetCa('replay');
  const leaf = await ca.issue('replay-ilo');
  const sockets = new Set<Socket>();
  const state: ReplayIlo = {
    port: 0,
    fingerprint: leaf.fingerprint256,
    answer: Buffer.alloc(0),
    requests: [],
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer({ key: leaf.key, cert: leaf.cert }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const headEnd = buf.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const head = buf.subarray(0, headEnd).toString('latin1');
      const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < headEnd + 4 + len) return;
      state.requests.push(buf.subarray(headEnd + 4, headEnd + 4 + len).toString('latin1'));
      buf = Buffer.alloc(0);
      socket.end(state.answer);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.port = (server.address() as AddressInfo).port;
  return state;
}

/** De-chunk a recorded HTTP response into its body (for parser-only tests). */
export function recordedBody(raw: Buffer): string {
  const headEnd = raw.indexOf('\r\n\r\n');
  let rest = raw.subarray(headEnd + 4);
  const head = raw.subarray(0, headEnd).toString('latin1');
  if (!/transfer-encoding:\s*chunked/i.test(head)) return rest.toString('latin1');
  const parts: Buffer[] = [];
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.subarray(0, eol).toString('latin1'), 16);
    if (!size) break;
    parts.push(rest.subarray(eol + 2, eol + 2 + size));
    rest = rest.subarray(eol + 2 + size + 2);
  }
  return Buffer.concat(parts).toString('latin1');
}
