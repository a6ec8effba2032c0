/**
 * One RIBCL request in, the reply documents out.
 */
import type { SimServer } from '../server';
import { lookupRibclCommand, makeContext } from './commands';
import './management';
import { OK, ReplyDocument, renderDocument } from './render';
import { ReqNode, decoded, parseRibclRequest } from './request';

export interface RibclResult {
  body: string;
  /** Command names in the request (for fault matching and counting). */
  commands: string[];
}

/** Command names a request carries, without running anything. */
export function commandsIn(roots: ReqNode[]): string[] {
  const names: string[] = [];
  for (const r of roots) for (const login of r.children) for (const section of login.children) for (const c of section.children) names.push(c.name);
  return names;
}

export async function handleRibcl(server: SimServer, xml: string, forcedError?: { status: number; message: string }): Promise<RibclResult> {
  const version = server.identity.ribclVersion;
  const render = (docs: ReplyDocument[]): string => docs.map((d) => renderDocument(d, version)).join('');
  const parsed = parseRibclRequest(xml);
  if (!parsed.ok) {
    return {
      body: render([{ status: 0x0001, message: `Syntax error: Line #${parsed.line}: syntax error near "${parsed.near}" in the line: ""` }]),
      commands: [],
    };
  }
  const root = parsed.roots.find((r) => r.name === 'RIBCL');
  if (!root) return { body: render([{ status: 0x0001, message: 'Syntax error: Line #0: syntax error near "" in the line: ""' }]), commands: [] };
  const commands = commandsIn([root]);
  const docs: ReplyDocument[] = [OK];
  if (!server.ribclEnabled) {
    // iLO 5/6 with RIBCL switched off.
    docs.push({ status: 0x0001, message: 'Error: RIBCLI is disabled.' });
    return { body: render(docs), commands };
  }
  const login = root.children.find((c) => c.name === 'LOGIN');
  if (!login) return { body: render(docs), commands };
  // The firmware compares PASSWORD without decoding entities.
  const user = decoded(login, 'USER_LOGIN');
  const passKey = Object.keys(login.raw).find((k) => k.toUpperCase() === 'PASSWORD');
  const pass = passKey === undefined ? undefined : login.raw[passKey];
  if (user !== server.username || pass !== server.password) {
    docs.push({ status: 0x005f, message: 'Login failed.' });
    return { body: render(docs), commands };
  }
  docs.push(OK);
  let failed = false;
  for (const section of login.children) {
    docs.push(OK);
    const mode = (decoded(section, 'MODE') ?? 'read').toLowerCase() === 'write' ? 'write' : 'read';
    for (const cmd of section.children) {
      if (failed) break;
      docs.push(OK);
      const entry = lookupRibclCommand(cmd.name);
      if (!entry || entry.section !== section.name) {
        docs.push({ status: 0x0001, message: `Error: Line #1: syntax error near "${cmd.name}".` });
        failed = true;
        continue;
      }
      if (forcedError) {
        docs.push({ status: forcedError.status, message: forcedError.message });
        failed = true;
        continue;
      }
      if (entry.write && mode !== 'write') {
        docs.push({ status: 0x0023, message: 'The RIBCL command requires write access (MODE="write").' });
        failed = true;
        continue;
      }
      const out = await entry.handler(makeContext(server, cmd, mode));
      const status = out.status ?? 0;
      docs.push({ status, message: out.message ?? 'No error', payload: out.payload, inform: out.inform });
      if (status !== 0) failed = true;
    }
    docs.push(OK);
  }
  docs.push(OK);
  return { body: render(docs), commands };
}
