/**
 * An image behind an http(s) URL: GET, following up to 5 redirects, size
 * from Content-Length. The query string (which may hold a signature) never
 * appears in messages.
 */
import type { Dispatcher } from 'undici';
import { OpenStackError } from '../swift/errors';
import { drain, errorExcerpt, header, httpRequest, safeUrl } from '../swift/http';
import { StoreError } from '../store/errors';
import type { OpenedImage } from './source';

const MAX_REDIRECTS = 5;

export async function openUrlImage(url: string, agent: Dispatcher, signal?: AbortSignal): Promise<OpenedImage> {
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const res = await httpRequest(agent, 'http', current, { method: 'GET', signal });
    if (res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304) {
      await drain(res.body);
      const location = header(res.headers, 'location');
      if (!location || hop >= MAX_REDIRECTS) {
        throw new StoreError('source', `GET ${safeUrl(url)}: ${location ? `more than ${MAX_REDIRECTS} redirects` : `${res.statusCode} without Location`}`);
      }
      const next = new URL(location, current);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new StoreError('source', `GET ${safeUrl(url)}: redirected to a non-http URL`);
      current = next;
      continue;
    }
    if (res.statusCode !== 200) {
      const why = await errorExcerpt(res.body);
      throw new StoreError('source', `GET ${safeUrl(current)} answered ${res.statusCode}${why ? `: ${why}` : ''}`, {
        cause: new OpenStackError('http', 'http', `status ${res.statusCode}`, { status: res.statusCode }),
      });
    }
    const length = Number(header(res.headers, 'content-length'));
    const encoding = header(res.headers, 'content-encoding');
    return {
      stream: res.body,
      size: Number.isSafeInteger(length) && (!encoding || encoding === 'identity') ? length : undefined,
      contentType: header(res.headers, 'content-type'),
      suggestedName: decodeURIComponent(current.pathname.split('/').pop() ?? '') || 'image',
      what: safeUrl(current),
    };
  }
}
