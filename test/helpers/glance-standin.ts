/**
 * A small stand-in that speaks the two Glance v2 calls the image source
 * uses: GET /v2/images/{id} (metadata with size, checksum, os_hash_algo,
 * os_hash_value, status, disk_format) and GET /v2/images/{id}/file (the
 * data). It is NOT Glance: there is no real Glance on this machine, and the
 * README says the Glance path was only tested against this.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInImage {
  id: string;
  name: string;
  data: Buffer;
  status?: string;
  disk_format?: string;
  /** Multihash algorithm to advertise (default sha512, Glance's default); null for none (old Glance). */
  os_hash_algo?: string | null;
  /** Serve these bytes instead of `data` (corruption between Glance and us). */
  served?: Buffer;
}

export interface GlanceStandIn {
  url: string;
  add(image: StandInImage): void;
  /** Paths requested, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startGlanceStandIn(checkToken: (token: string) => boolean | Promise<boolean>): Promise<GlanceStandIn> {
  const images = new Map<string, StandInImage>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      requests.push(`${req.method} ${req.url}`);
      const token = req.headers['x-auth-token'];
      if (typeof token !== 'string' || !(await checkToken(token))) {
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Keystone uri="http://127.0.0.1/identity"' }).end('401 Unauthorized');
        return;
      }
      const m = /^\/v2\/images\/([^/]+)(\/file)?$/.exec(req.url ?? '');
      const img = m && images.get(decodeURIComponent(m[1] ?? ''));
      if (req.method !== 'GET' || !m || !img) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('404 Not Found: No image found');
        return;
      }
      const status = img.status ?? 'active';
      if (m[2]) {
        if (status !== 'active') {
          res.writeHead(204).end();
          return;
        }
        const body = img.served ?? img.data;
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': String(body.length),
          'content-md5': createHash('md5').update(img.data).digest('hex'),
        });
        res.end(body);
        return;
      }
      const algo = img.os_hash_algo === undefined ? 'sha512' : img.os_hash_algo;
      const doc = {
        id: img.id,
        name: img.name,
        status,
        size: status === 'active' ? img.data.length : null,
        checksum: status === 'active' ? createHash('md5').update(img.data).digest('hex') : null,
        os_hash_algo: status === 'active' ? algo : null,
        os_hash_value: status === 'active' && algo ? createHash(algo).update(img.data).digest('hex') : null,
        disk_format: img.disk_format ?? 'raw',
        container_format: 'bare',
        visibility: 'private',
        file: `/v2/images/${img.id}/file`,
        self: `/v2/images/${img.id}`,
        schema: '/v2/schemas/image',
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
    })().catch(() => res.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    add: (img) => images.set(img.id, img),
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
