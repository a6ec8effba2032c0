/**
 * Sensors from `ipmitool -v sdr list` (the same text as Ironic's `sdr -v`):
 * blocks separated by blank lines, each a list of `Key : value` lines.
 */

export type SensorKind = 'threshold' | 'discrete' | 'analog' | 'other';

/**
 * Health, normalised from ipmitool's wording. Discrete sensors report `ok`
 * when they can be read, as `ipmitool sdr elist` does; what they assert is in
 * `states`.
 */
export type SensorStatus = 'ok' | 'non-critical' | 'critical' | 'non-recoverable' | 'unavailable' | 'unknown';

export interface Sensor {
  /** Sensor ID, e.g. `Inlet Temp`. */
  name: string;
  /** Sensor number on its controller. */
  number?: number;
  /** Sensor type, e.g. `Temperature`, `Fan`, `Entity Presence`. */
  type: string;
  kind: SensorKind;
  /** Numeric reading (threshold sensors), or null when there is none. */
  reading: number | null;
  /** Unit of `reading`, e.g. `degrees C`, `RPM`, `Volts`. */
  unit: string | null;
  status: SensorStatus;
  /** ipmitool's own words for the status or the reading (`Upper Critical`, `No Reading`, `0h`). */
  statusText: string;
  /** States a discrete sensor asserts, e.g. `Device Present`. */
  states: string[];
  /** Entity, e.g. `System Board`. */
  entity?: string;
}

export function parseSdrVerbose(text: string): Sensor[] {
  const sensors: Sensor[] = [];
  for (const block of text.split(/\r?\n[ \t]*\r?\n/)) {
    const fields = parseBlock(block);
    const id = fields.get('Sensor ID');
    if (id === undefined) continue;
    const typeKey = [...fields.keys()].find((k) => k.startsWith('Sensor Type'));
    if (typeKey === undefined) continue; // a controller locator, not a sensor
    sensors.push(toSensor(id.value, typeKey, fields));
  }
  return sensors;
}

interface Field {
  value: string;
  /** Lines that followed without a key of their own (e.g. asserted states). */
  more: string[];
}

function parseBlock(block: string): Map<string, Field> {
  const fields = new Map<string, Field>();
  let last: Field | undefined;
  for (const raw of block.split(/\r?\n/)) {
    const m = /^\s*([^:]*?)\s*:\s?(.*)$/.exec(raw);
    if (m && (m[1] as string).length > 0 && !raw.trimStart().startsWith('[')) {
      last = { value: (m[2] as string).trim(), more: [] };
      if (!fields.has(m[1] as string)) fields.set(m[1] as string, last);
    } else if (last && raw.trim()) {
      last.more.push(raw.trim());
    }
  }
  return fields;
}

function toSensor(idValue: string, typeKey: string, fields: Map<string, Field>): Sensor {
  const idMatch = /^(.*?)\s*\((0x[0-9a-f]+)\)$/i.exec(idValue);
  const name = idMatch ? (idMatch[1] as string) : idValue;
  const number = idMatch ? parseInt(idMatch[2] as string, 16) : undefined;

  const kindWord = /\((\w+)\)/.exec(typeKey)?.[1]?.toLowerCase();
  const kind: SensorKind = kindWord === 'threshold' || kindWord === 'discrete' || kindWord === 'analog' ? kindWord : 'other';
  const type = ((fields.get(typeKey) as Field).value.replace(/\s*\(0x[0-9a-f]+\)\s*$/i, '') || 'Unknown').trim();

  const readingText = fields.get('Sensor Reading')?.value ?? '';
  const numeric = /^(-?\d+(?:\.\d+)?)\s*(?:\(\+\/-\s*[\d.]+\))?\s*(.*)$/.exec(readingText);
  const isDiscrete = kind === 'discrete' || /^[0-9a-f]+h$/i.test(readingText);
  const reading = numeric && !isDiscrete ? Number(numeric[1]) : null;
  const unit = numeric && !isDiscrete && (numeric[2] as string).length > 0 ? (numeric[2] as string) : null;

  const asserted = fields.get('States Asserted');
  const states = asserted ? asserted.more.map((s) => s.replace(/^\[|\]$/g, '')).filter((s) => s.length > 0) : [];

  const statusField = fields.get('Status')?.value;
  const readable = readingText !== '' && !/no reading|not available|unable|disabled|not present/i.test(readingText);
  let status: SensorStatus;
  let statusText: string;
  if (statusField !== undefined) {
    statusText = statusField;
    status = normaliseStatus(statusField);
  } else {
    statusText = readingText || 'No Reading';
    status = readable ? 'ok' : 'unavailable';
  }
  if (!readable && status === 'ok') status = 'unavailable';

  const entity = /\(([^)]+)\)\s*$/.exec(fields.get('Entity ID')?.value ?? '')?.[1];
  return { name, number, type, kind, reading, unit, status, statusText, states, ...(entity ? { entity } : {}) };
}

function normaliseStatus(s: string): SensorStatus {
  const t = s.toLowerCase();
  if (t === 'ok') return 'ok';
  if (t.includes('non-recoverable') || t === 'nr') return 'non-recoverable';
  if (t.includes('non-critical') || t === 'nc') return 'non-critical';
  if (t.includes('critical') || t === 'cr') return 'critical';
  if (t.includes('not available') || t === 'ns' || t.includes('no reading')) return 'unavailable';
  return 'unknown';
}
