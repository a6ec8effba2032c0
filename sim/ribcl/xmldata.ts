/**
 * GET /xmldata?item=all: the unauthenticated identity document every iLO
 * (2 to 5) serves for discovery tools: RIMP > HSI (server serial SBSN,
 * product SPN, UUIDs) and MP (management processor name PN, firmware FWRI).
 * Real iLOs let an administrator turn it off; this one always answers.
 */
import { registerIloRoute, type RouteContext } from '../ilo-endpoint';

function escapeXml(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function identityXml(ctx: RouteContext): string {
  const s = ctx.server;
  const gen = /iLO\s*(\d+)/.exec(s.model.managerType)?.[1] ?? '4';
  return [
    '<?xml version="1.0"?>',
    '<RIMP>',
    '<HSI>',
    `<SBSN>${escapeXml(s.identity.serialNumber)}</SBSN>`,
    `<SPN>${escapeXml(s.identity.productName)}</SPN>`,
    `<UUID>${escapeXml(s.uuid.replace(/-/g, ''))}</UUID>`,
    `<cUUID>${escapeXml(s.uuid)}</cUUID>`,
    '<SP>1</SP>',
    '<VIRTUAL><STATE>Inactive</STATE><VID><BSN/><cUUID/></VID></VIRTUAL>',
    '</HSI>',
    '<MP>',
    '<ST>1</ST>',
    `<PN>Integrated Lights-Out ${gen} (iLO ${gen})</PN>`,
    `<FWRI>${escapeXml(s.identity.firmwareVersion)}</FWRI>`,
    '<BBLK/>',
    `<HWRI>ASIC: ${gen === '4' ? '16' : '21'}</HWRI>`,
    `<SN>ILO${escapeXml(s.identity.serialNumber)}</SN>`,
    `<UUID>ILO${escapeXml(s.uuid.replace(/-/g, '').slice(0, 24))}</UUID>`,
    '<IPM>1</IPM>',
    '<SSO>0</SSO>',
    '<PWRM>3.0</PWRM>',
    '</MP>',
    '</RIMP>',
    '',
  ].join('\n');
}

registerIloRoute('GET', '/xmldata', (ctx) => {
  const item = ctx.url.searchParams.get('item');
  if (item !== 'all') {
    ctx.res.writeHead(404, { 'content-type': 'text/html', connection: 'close' });
    ctx.res.end('<html><body>404 Not Found</body></html>');
    return;
  }
  ctx.res.writeHead(200, { 'content-type': 'text/xml', 'cache-control': 'no-cache', connection: 'close' });
  ctx.res.end(identityXml(ctx));
});
