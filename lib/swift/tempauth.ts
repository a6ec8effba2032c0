/**
 * Swift auth v1 (tempauth, swauth): one GET that returns a token and the
 * account's storage URL.
 */
import type { Dispatcher } from 'undici';
import type { AuthGrant, TempauthConfig } from './auth';
import { OpenStackError } from './errors';
import { drain, header, httpRequest, safeUrl } from './http';

export async function tempauthLogin(agent: Dispatcher, cfg: TempauthConfig, now: () => number): Promise<AuthGrant> {
  const issuedAt = now();
  const res = await httpRequest(agent, 'tempauth', cfg.authUrl, {
    method: 'GET',
    headers: { 'x-auth-user': cfg.user, 'x-auth-key': cfg.key },
  });
  await drain(res.body);
  if (res.statusCode === 401 || res.statusCode === 403) {
    throw new OpenStackError('tempauth', 'auth', `the user and key were refused (${res.statusCode}) at ${safeUrl(cfg.authUrl)}`, { status: res.statusCode });
  }
  if (res.statusCode < 200 || res.statusCode > 299) {
    throw new OpenStackError('tempauth', 'http', `GET ${safeUrl(cfg.authUrl)} answered ${res.statusCode}`, { status: res.statusCode });
  }
  const token = header(res.headers, 'x-auth-token') ?? header(res.headers, 'x-storage-token');
  const storageUrl = header(res.headers, 'x-storage-url');
  if (!token || !storageUrl) {
    throw new OpenStackError('tempauth', 'protocol', `${safeUrl(cfg.authUrl)} answered without X-Auth-Token or X-Storage-Url`, { status: res.statusCode });
  }
  const life = Number(header(res.headers, 'x-auth-token-expires'));
  return {
    token,
    storageUrl,
    issuedAt,
    expiresAt: Number.isFinite(life) && life > 0 ? issuedAt + life * 1000 : undefined,
  };
}
