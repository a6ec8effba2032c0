/**
 * A minimal Glance v2 client: image metadata (GET /v2/images/{id}) and its
 * data (GET /v2/images/{id}/file), with the token and endpoint from a
 * Keystone session. Written to the published v2 API; this project has no
 * real Glance to test against (see README).
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { OpenStackError, codeForStatus, invalidOpenStackInput } from '../swift/errors';
import { drain, errorExcerpt, header, httpRequest, readText, safeUrl } from '../swift/http';
import type { OpenStackSession } from '../swift/session';
import { StoreError } from '../store/errors';
import { CHECKSUM_ALGORITHMS, type Checksum, type ChecksumAlgorithm } from './reference';
import type { OpenedImage } from './source';

export interface GlanceImage {
  id: string;
  name?: string;
  status: string;
  size?: number;
  /** md5 (legacy `checksum` field). */
  checksum?: string;
  os_hash_algo?: string;
  os_hash_value?: string;
  disk_format?: string;
  container_format?: string;
}

export interface GlanceClientOptions {
  session: OpenStackSession;
  agent: Dispatcher;
  /** Glance's URL (e.g. http://glance:9292); default: the catalog's `image` endpoint. */
  endpoint?: string;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export class GlanceClient {
  constructor(private readonly opts: GlanceClientOptions) {
    if (opts.endpoint !== undefined && !/^https?:\/\/[^/]+/.test(opts.endpoint)) {
      throw invalidOpenStackInput('glance', 'endpoint', 'an http(s) URL such as http://glance:9292', opts.endpoint);
    }
  }

  async image(id: string): Promise<GlanceImage> {
    checkId(id);
    const res = await this.get(`/v2/images/${encodeURIComponent(id)}`, 'application/json');
    return JSON.parse(await readText(res.body)) as GlanceImage;
  }

  async download(id: string): Promise<{ body: Readable; size?: number; md5?: string }> {
    checkId(id);
    const res = await this.get(`/v2/images/${encodeURIComponent(id)}/file`, 'application/octet-stream', [204]);
    if (res.statusCode === 204) {
      await drain(res.body);
      throw new StoreError('source', `glance:${id} has no data`);
    }
    const length = Number(header(res.headers, 'content-length'));
    return { body: res.body, size: Number.isSafeInteger(length) ? length : undefined, md5: header(res.headers, 'content-md5') };
  }

  private async base(): Promise<string> {
    const url = (this.opts.endpoint ?? (await this.opts.session.endpoint('image'))).replace(/\/+$/, '');
    return url.replace(/\/v2(\.\d+)?$/, '');
  }

  private async get(path: string, accept: string, pass: number[] = []): Promise<Dispatcher.ResponseData> {
    for (let attempt = 0; ; attempt++) {
      const grant = await this.opts.session.grant();
      const url = `${await this.base()}${path}`;
      const res = await httpRequest(this.opts.agent, 'glance', url, { method: 'GET', headers: { 'x-auth-token': grant.token, accept } });
      if (res.statusCode === 401 && attempt === 0) {
        await drain(res.body);
        this.opts.session.invalidate(grant.token);
        continue;
      }
      if (res.statusCode === 200 || pass.includes(res.statusCode)) return res;
      const why = await errorExcerpt(res.body);
      throw new OpenStackError('glance', codeForStatus(res.statusCode), `GET ${safeUrl(url)} answered ${res.statusCode}${why ? `: ${why}` : ''}`, {
        status: res.statusCode,
      });
    }
  }
}

function checkId(id: string): void {
  if (typeof id !== 'string' || !ID_RE.test(id)) throw invalidOpenStackInput('glance', 'image.glance', 'a Glance image id', id);
}

/** The strongest checksum Glance vouches for: os_hash_* (multihash) when we know its algorithm, else md5. */
export function glanceChecksum(img: GlanceImage): Checksum | undefined {
  const algo = img.os_hash_algo?.toLowerCase();
  if (algo && CHECKSUM_ALGORITHMS.includes(algo as ChecksumAlgorithm) && img.os_hash_value && /^[0-9a-f]+$/i.test(img.os_hash_value)) {
    return { algorithm: algo as ChecksumAlgorithm, value: img.os_hash_value.toLowerCase() };
  }
  if (img.checksum && /^[0-9a-f]{32}$/i.test(img.checksum)) return { algorithm: 'md5', value: img.checksum.toLowerCase() };
  return undefined;
}

export async function openGlanceImage(client: GlanceClient, id: string): Promise<OpenedImage> {
  const what = `glance:${id}`;
  let img: GlanceImage;
  try {
    img = await client.image(id);
  } catch (err) {
    if (err instanceof OpenStackError && err.code === 'not-found') throw new StoreError('source', `${what}: no such image`, { cause: err });
    throw err;
  }
  if (img.status !== 'active') throw new StoreError('source', `${what} is "${img.status}", not active: it cannot be read yet`);
  const data = await client.download(id);
  const ext = img.disk_format && img.disk_format !== 'raw' ? `.${img.disk_format}` : img.disk_format === 'raw' ? '.img' : '';
  return {
    stream: data.body,
    size: Number.isSafeInteger(img.size) ? img.size : data.size,
    checksum: glanceChecksum(img),
    contentType: 'application/octet-stream',
    suggestedName: `${img.name || id}${ext && !(img.name ?? '').endsWith(ext) ? ext : ''}`,
    what,
  };
}
