/**
 * What to change on the iLO (or the server) when the console cannot open or
 * shows nothing: said once here, shown by the editor and the nodes.
 */
import { BmcError } from '../bmc/errors';
import type { ConsoleVia } from './channel';

export const HINTS = {
  ipmiOverLan:
    'Enable IPMI over LAN on the iLO: iLO 5/6 web interface Security > Access Settings > "IPMI/DCMI over LAN" (iLO 4: Administration > Access Settings), port 623/UDP reachable from Node-RED.',
  solDisabled:
    'Serial-over-LAN is disabled on the BMC: enable the virtual serial port in the server\'s BIOS (System Utilities > System Configuration > BIOS/Platform Configuration (RBSU) > System Options > Serial Port Options > Virtual Serial Port: COM 1 or COM 2), or "ipmitool sol set enabled true 1".',
  ssh: 'Enable the iLO CLI over SSH: iLO 5/6 Security > Access Settings > "Secure Shell (SSH)" (iLO 4: Administration > Access Settings), and pin the SSH host key in the iLO configuration (Fetch host key, compare it with the iLO\'s).',
  ipmitool: 'Install ipmitool and util-linux "script" on the Node-RED host (Debian: apt-get install ipmitool bsdutils), or use the SSH way in.',
  login: 'The iLO refused the user name or password; IPMI also needs the account\'s IPMI password to be at most 20 characters.',
  busy: 'Another session holds the serial port (someone\'s ipmitool, or a virtual serial port session on the iLO): "Take over" ends it.',
  noOutput:
    'No output? Let the BIOS and the OS write to the virtual serial port: BIOS Serial Console and EMS > BIOS Serial Console Port: Virtual Serial Port; Linux kernel argument console=ttyS1,115200n8 (COM 2) or ttyS0 (COM 1).',
} as const;

/** Advice for a console failure, most useful first. */
export function consoleHints(err: unknown, via?: ConsoleVia): string[] {
  if (!(err instanceof BmcError)) return [];
  const m = err.message;
  const out: string[] = [];
  if (err.code === 'login') out.push(HINTS.login);
  if (err.code === 'busy') out.push(HINTS.busy);
  if (/serial-over-LAN is disabled|SOL payload disabled|Payload type 1 not enabled/i.test(m)) out.push(HINTS.solDisabled);
  if (/ipmitool|"script"/.test(m) && err.code === 'not-supported' && /not found|ENOENT/i.test(m)) out.push(HINTS.ipmitool);
  const ipmiPart = via === 'ipmi' || /IPMI:|ipmitool/.test(m);
  const sshPart = via === 'ssh' || /SSH[: ]/.test(m) || err.field === 'sshHostKey';
  if (ipmiPart && (err.code === 'timeout' || err.code === 'connection' || /no answer|Unable to establish|Get Session Challenge/i.test(m))) out.push(HINTS.ipmiOverLan);
  if (sshPart && (err.code === 'connection' || err.code === 'timeout' || err.field === 'sshHostKey' || /refused "vsp"|no host key is pinned|SSH[^;]*(ECONNREFUSED|connection refused|timed out)/.test(m))) out.push(HINTS.ssh);
  return [...new Set(out)];
}
