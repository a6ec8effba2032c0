/**
 * Keystone v3: a project-scoped token from a password or an application
 * credential (POST /v3/auth/tokens), and endpoint lookup in its catalog.
 */
import type { Dispatcher } from 'undici';
import type { AuthGrant, CatalogService, EndpointInterface, KeystoneAppCredentialConfig, KeystonePasswordConfig } from './auth';
import { OpenStackError } from './errors';
import { errorExcerpt, header, httpRequest, readText, safeUrl } from './http';

/** The /v3 base for whatever form of auth URL the operator typed. */
export function keystoneV3Base(authUrl: string): string {
  const u = new URL(authUrl);
  let path = u.pathname.replace(/\/+$/, '');
  if (!/\/v3$/.test(path)) path += '/v3';
  return `${u.protocol}//${u.host}${path}`;
}

function requestBody(cfg: KeystonePasswordConfig | KeystoneAppCredentialConfig): unknown {
  if (cfg.type === 'keystone-application-credential') {
    return {
      auth: {
        identity: { methods: ['application_credential'], application_credential: { id: cfg.applicationCredentialId, secret: cfg.applicationCredentialSecret } },
      },
    };
  }
  const userDomain = cfg.userDomainName ?? 'Default';
  return {
    auth: {
      identity: { methods: ['password'], password: { user: { name: cfg.username, domain: { name: userDomain }, password: cfg.password } } },
      scope: {
        project: cfg.projectId ? { id: cfg.projectId } : { name: cfg.projectName, domain: { name: cfg.projectDomainName ?? userDomain } },
      },
    },
  };
}

interface TokenDocument {
  token?: { expires_at?: string; catalog?: CatalogService[]; project?: { id?: string } };
}

export async function keystoneLogin(agent: Dispatcher, cfg: KeystonePasswordConfig | KeystoneAppCredentialConfig, now: () => number): Promise<AuthGrant> {
  const url = `${keystoneV3Base(cfg.authUrl)}/auth/tokens`;
  const issuedAt = now();
  const res = await httpRequest(agent, 'keystone', url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(requestBody(cfg)),
  });
  if (res.statusCode === 401 || res.statusCode === 403) {
    const why = await errorExcerpt(res.body);
    throw new OpenStackError('keystone', 'auth', `the credentials were refused (${res.statusCode}) at ${safeUrl(url)}${why ? `: ${why}` : ''}`, { status: res.statusCode });
  }
  if (res.statusCode !== 201 && res.statusCode !== 200) {
    const why = await errorExcerpt(res.body);
    throw new OpenStackError('keystone', 'http', `POST ${safeUrl(url)} answered ${res.statusCode}${why ? `: ${why}` : ''}`, { status: res.statusCode });
  }
  const token = header(res.headers, 'x-subject-token');
  let doc: TokenDocument;
  try {
    doc = JSON.parse(await readText(res.body)) as TokenDocument;
  } catch (err) {
    throw new OpenStackError('keystone', 'protocol', `POST ${safeUrl(url)}: the token document is not JSON`, { cause: err });
  }
  if (!token) throw new OpenStackError('keystone', 'protocol', `POST ${safeUrl(url)} answered without X-Subject-Token`);
  const expires = Date.parse(doc.token?.expires_at ?? '');
  return {
    token,
    issuedAt,
    expiresAt: Number.isFinite(expires) ? expires : undefined,
    catalog: doc.token?.catalog ?? [],
    projectId: doc.token?.project?.id,
  };
}

/** The URL of a service in the catalog, by type, interface and (optionally) region. */
export function findEndpoint(catalog: CatalogService[], type: string, iface: EndpointInterface, region?: string): string | undefined {
  for (const svc of catalog) {
    if (svc.type !== type) continue;
    const ep = svc.endpoints.find((e) => e.interface === iface && (region === undefined || e.region_id === region || e.region === region));
    if (ep) return ep.url.replace(/\/+$/, '');
  }
  return undefined;
}
