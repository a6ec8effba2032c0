/**
 * GET_EMBEDDED_HEALTH and GET_HOST_DATA decoded into the protocol-neutral
 * shapes. The health tree drifts between iLO
 * generations: lists may hold one element or none, and iLO 3 spells
 * NIC_INFOMATION; only what is found is reported.
 */
import { healthFromText, makeHealthReport, numberFrom } from '../health';
import { normaliseMac } from '../management-input';
import type { HealthReading, HealthReport, HealthStatus, NicInfo } from '../types';
import { RibclReply, requirePayload } from './protocol';
import { XmlElement, attr, child, childValue } from './xml';

function reading(el: XmlElement | undefined, unitFallback?: string): HealthReading['reading'] {
  if (!el) return undefined;
  const value = numberFrom(attr(el, 'VALUE'));
  if (value === undefined) return undefined;
  const unit = attr(el, 'UNIT')?.trim() || unitFallback || '';
  return { value, unit: unit === 'Percentage' ? 'Percent' : unit };
}

function temperature(t: XmlElement): HealthReading {
  const status = healthFromText(childValue(t, 'STATUS'));
  const caution = numberFrom(childValue(t, 'CAUTION'));
  const critical = numberFrom(childValue(t, 'CRITICAL'));
  const location = childValue(t, 'LOCATION');
  const r = status === 'absent' ? undefined : reading(child(t, 'CURRENTREADING'));
  return {
    name: childValue(t, 'LABEL') ?? 'unnamed sensor',
    status,
    ...(r ? { reading: r } : {}),
    ...(caution !== undefined ? { caution } : {}),
    ...(critical !== undefined ? { critical } : {}),
    ...(location ? { location } : {}),
  };
}

function fan(f: XmlElement): HealthReading {
  const status = healthFromText(childValue(f, 'STATUS'));
  const r = status === 'absent' ? undefined : reading(child(f, 'SPEED'), 'Percent');
  const zone = childValue(f, 'ZONE');
  return { name: childValue(f, 'LABEL') ?? 'unnamed fan', status, ...(r ? { reading: r } : {}), ...(zone ? { location: zone } : {}) };
}

function powerSupply(s: XmlElement): HealthReading {
  const present = childValue(s, 'PRESENT');
  const status: HealthStatus = present && /^no$/i.test(present) ? 'absent' : healthFromText(childValue(s, 'STATUS'));
  return { name: childValue(s, 'LABEL') ?? 'unnamed power supply', status };
}

/** HEALTH_AT_A_GLANCE: children carry STATUS (and REDUNDANCY) attributes; a tag may repeat. */
function summaryOf(glance: XmlElement | undefined): Record<string, HealthStatus> {
  const out: Record<string, HealthStatus> = {};
  for (const c of glance?.children ?? []) {
    const status = attr(c, 'STATUS');
    if (status !== undefined) out[c.name.toLowerCase()] = healthFromText(status);
  }
  return out;
}

export function decodeEmbeddedHealth(reply: RibclReply, target?: string): HealthReport {
  const data = requirePayload(reply, 'GET_EMBEDDED_HEALTH_DATA', target);
  const kids = (parent: string, name: string): XmlElement[] => child(data, parent)?.children.filter((c) => c.name === name) ?? [];
  return makeHealthReport({
    temperatures: kids('TEMPERATURE', 'TEMP').map(temperature),
    fans: kids('FANS', 'FAN').map(fan),
    powerSupplies: kids('POWER_SUPPLIES', 'SUPPLY').map(powerSupply),
    summary: summaryOf(child(data, 'HEALTH_AT_A_GLANCE')),
  });
}

export interface SmbiosRecord {
  type: number;
  /** FIELD name/value pairs in order (names repeat, e.g. Port/MAC). */
  fields: Array<{ name: string; value: string }>;
}

export function decodeHostData(reply: RibclReply, target?: string): SmbiosRecord[] {
  const el = requirePayload(reply, 'GET_HOST_DATA', target);
  return el.children
    .filter((c) => c.name === 'SMBIOS_RECORD')
    .map((r) => ({
      type: Number(attr(r, 'TYPE') ?? -1),
      fields: r.children.filter((f) => f.name === 'FIELD').map((f) => ({ name: (attr(f, 'NAME') ?? '').trim(), value: attr(f, 'VALUE') ?? '' })),
    }));
}

/** Host NICs from the SMBIOS type 209 record (Port/MAC pairs), the iLO's own port left out. */
export function nicsFromSmbios(records: SmbiosRecord[]): NicInfo[] {
  const nics: NicInfo[] = [];
  for (const r of records.filter((x) => x.type === 209)) {
    let port: string | undefined;
    for (const f of r.fields) {
      if (f.name === 'Port') port = f.value.trim();
      else if (f.name === 'MAC' && port !== undefined) {
        const mac = normaliseMac(f.value);
        if (mac && port.toLowerCase() !== 'ilo' && !nics.some((n) => n.mac === mac)) nics.push({ port, mac });
        port = undefined;
      }
    }
  }
  return nics;
}

export function smbiosField(records: SmbiosRecord[], type: number, name: string): string | undefined {
  for (const r of records) if (r.type === type) for (const f of r.fields) if (f.name === name) return f.value.trim();
  return undefined;
}
