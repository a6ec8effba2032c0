/**
 * CSV inventories: one header row naming the columns, then one server per
 * row. Column names are Ironic's driver_info keys where one exists
 * (ilo_address, client_port, ilo_username, ilo_password, ilo_verify_ca), so
 * a sheet written for Bifrost/Ironic needs few changes; a few short aliases
 * (host, port, user...) are accepted too. The serial console's columns
 * (console_method, ipmi_port, ssh_port, ssh_host_key) may also be written as
 * ilo-config names them (consoleMethod...). RFC 4180 quoting, including line
 * breaks inside quotes; lines starting with # before a row are comments.
 */
import { InventoryError } from '../errors';
import type { DraftKey, InventoryServer, ServerDraft } from '../model';

/** Canonical columns, in the order an export writes them. */
export const CSV_COLUMNS: ReadonlyArray<{ column: string; key: DraftKey; aliases: string[] }> = [
  { column: 'name', key: 'name', aliases: [] },
  { column: 'ilo_address', key: 'host', aliases: ['address', 'host'] },
  { column: 'client_port', key: 'port', aliases: ['port'] },
  { column: 'ilo_protocol', key: 'protocol', aliases: ['protocol'] },
  { column: 'ilo_username', key: 'username', aliases: ['username', 'user'] },
  { column: 'ilo_password', key: 'password', aliases: ['password'] },
  { column: 'ilo_verify_ca', key: 'verifyCa', aliases: ['verify_ca'] },
  { column: 'ilo_tls_fingerprint', key: 'fingerprint', aliases: ['fingerprint'] },
  { column: 'tls_mode', key: 'tlsMode', aliases: [] },
  { column: 'ca_file', key: 'caFile', aliases: [] },
  { column: 'macs', key: 'macs', aliases: ['mac'] },
  { column: 'pool', key: 'pool', aliases: [] },
  { column: 'capabilities', key: 'capabilities', aliases: [] },
  { column: 'properties', key: 'properties', aliases: [] },
  { column: 'description', key: 'notes', aliases: ['notes'] },
  { column: 'uuid', key: 'uuid', aliases: [] },
  { column: 'console_method', key: 'consoleMethod', aliases: ['consolemethod'] },
  { column: 'ipmi_port', key: 'ipmiPort', aliases: ['ipmiport'] },
  { column: 'ssh_port', key: 'sshPort', aliases: ['sshport'] },
  { column: 'ssh_host_key', key: 'sshHostKey', aliases: ['sshhostkey'] },
];

const EXPORTED = ['name', 'ilo_address', 'client_port', 'ilo_protocol', 'ilo_verify_ca', 'ilo_tls_fingerprint', 'macs', 'pool', 'capabilities', 'properties', 'description', 'uuid', 'console_method', 'ipmi_port', 'ssh_port', 'ssh_host_key'];

interface CsvField {
  text: string;
  line: number;
}

interface CsvRecord {
  line: number;
  fields: CsvField[];
}

/** RFC 4180 records with the line each record and field starts on; one pass, linear in the input. */
export function readCsvRecords(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < n) {
    // A record starts here: skip blank and comment lines.
    const c = text[i];
    if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      i++;
      line++;
      continue;
    }
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    const record: CsvRecord = { line, fields: [] };
    for (;;) {
      const field: CsvField = { text: '', line };
      if (text[i] === '"') {
        const open = line;
        i++;
        let buf = '';
        for (;;) {
          const q = text.indexOf('"', i);
          if (q < 0) throw new InventoryError(`column ${record.fields.length + 1}`, 'a closing quote: the quoted value that starts here never ends', { line: open });
          const piece = text.slice(i, q);
          for (let k = piece.indexOf('\n'); k >= 0; k = piece.indexOf('\n', k + 1)) line++;
          buf += piece;
          if (text[q + 1] === '"') {
            buf += '"';
            i = q + 2;
            continue;
          }
          i = q + 1;
          break;
        }
        field.text = buf;
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          throw new InventoryError(`column ${record.fields.length + 1}`, 'a comma or the end of the line after a closing quote', { line });
        }
      } else {
        let j = i;
        while (j < n && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++;
        field.text = text.slice(i, j);
        i = j;
      }
      record.fields.push(field);
      if (i < n && text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    records.push(record);
  }
  return records;
}

/** Each data row as a draft whose fields name their column and line. */
export function csvDrafts(text: string): ServerDraft[] {
  const records = readCsvRecords(text);
  const header = records[0];
  if (!header) return [];
  const byName = new Map<string, { column: string; key: DraftKey }>();
  for (const c of CSV_COLUMNS) for (const n of [c.column, ...c.aliases]) byName.set(n, c);
  const columns: Array<{ column: string; key: DraftKey }> = [];
  const seen = new Map<DraftKey, string>();
  for (const [idx, f] of header.fields.entries()) {
    const name = f.text.trim().toLowerCase();
    const c = byName.get(name);
    if (!c) {
      const what = header.fields.length === 1 || idx === 0 ? 'a header row naming the columns, such as "name,ilo_address,client_port,ilo_username,ilo_password"' : `a known column (${CSV_COLUMNS.map((x) => x.column).join(', ')})`;
      throw new InventoryError(f.text.trim() === '' ? `column ${idx + 1}` : `"${f.text.trim().slice(0, 40)}"`, `expected ${what}`, { line: header.line });
    }
    const before = seen.get(c.key);
    if (before !== undefined) throw new InventoryError(f.text.trim(), `expected each column once (this is the same as "${before}")`, { line: header.line });
    seen.set(c.key, f.text.trim());
    columns.push({ column: f.text.trim(), key: c.key });
  }
  if (!seen.has('name') || !seen.has('host')) {
    throw new InventoryError(seen.has('name') ? 'ilo_address' : 'name', 'expected a header row with at least the columns "name" and "ilo_address"', { line: header.line });
  }
  const drafts: ServerDraft[] = [];
  for (const r of records.slice(1)) {
    if (r.fields.length > columns.length) {
      const extra = r.fields[columns.length]!;
      throw new InventoryError(`column ${columns.length + 1}`, `expected at most ${columns.length} values, as the header has (a comma inside a value needs quotes)`, { line: extra.line });
    }
    if (r.fields.every((f) => f.text.trim() === '')) continue; // ",,,," rows that spreadsheets leave behind
    const fields: ServerDraft['fields'] = {};
    for (const [k, f] of r.fields.entries()) {
      const col = columns[k]!;
      // An export guards text that a spreadsheet would run as a formula with a leading quote: take it off again.
      const text = col.key === 'notes' && /^'[=+\-@]/.test(f.text) ? f.text.slice(1) : f.text;
      fields[col.key] = { value: text, field: col.column, line: f.line };
    }
    drafts.push({ fields, line: r.line });
  }
  return drafts;
}

function quote(v: string): string {
  // A leading = + - @ makes spreadsheets run the cell as a formula: keep it text.
  const safe = /^[=+\-@]/.test(v) && !/^-?\d/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) || safe !== safe.trim() ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The inventory as CSV with a header row; never a credential. */
export function writeCsv(servers: readonly InventoryServer[]): string {
  const rows = [EXPORTED.join(',')];
  for (const s of servers) {
    const cells: Record<string, string> = {
      name: s.name,
      ilo_address: s.host,
      client_port: String(s.port),
      ilo_protocol: s.protocol,
      ilo_verify_ca: s.tlsMode === 'verify' ? 'true' : s.tlsMode === 'insecure' ? 'false' : s.tlsMode === 'ca' ? (s.caFile ?? '') : '',
      ilo_tls_fingerprint: s.tlsMode === 'pinned' ? (s.fingerprint ?? '') : '',
      macs: s.macs.join(' '),
      pool: s.pool ?? '',
      capabilities: s.capabilities ?? '',
      properties: s.properties ?? '',
      description: s.notes ?? '',
      uuid: s.uuid ?? '',
      console_method: s.consoleMethod ?? '',
      ipmi_port: s.ipmiPort !== undefined ? String(s.ipmiPort) : '',
      ssh_port: s.sshPort !== undefined ? String(s.sshPort) : '',
      // A host key's fingerprint is public (the iLO shows it to anyone who connects).
      ssh_host_key: s.sshHostKey ?? '',
    };
    rows.push(EXPORTED.map((c) => quote(cells[c] ?? '')).join(','));
  }
  return `${rows.join('\n')}\n`;
}
