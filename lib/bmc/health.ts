/**
 * Health words from either protocol onto one scale, and the worst of many.
 */
import type { HealthReading, HealthReport, HealthStatus } from './types';

const RANK: Record<HealthStatus, number> = { absent: 0, ok: 1, unknown: 2, degraded: 3, critical: 4 };

/**
 * RIBCL STATUS texts ("OK", "Good, In Use", "Not Installed", "Failed",
 * "Degraded", "Caution" …) and Redfish Status.Health/State ("OK", "Warning",
 * "Critical", "Absent") onto one scale.
 */
export function healthFromText(text: string | undefined | null): HealthStatus {
  const t = (text ?? '').trim().toLowerCase();
  if (t === '') return 'unknown';
  if (/not installed|not present|absent|^n\/a$|disabled|unavailable/.test(t)) return 'absent';
  if (/degrad|warn|caution|predictive|minor|major|not redundant/.test(t)) return 'degraded';
  if (/fail|critical|fatal|dead|error|lost/.test(t)) return 'critical';
  if (/^ok\b|^good|^normal|^redundant|^enabled|^on$|complete/.test(t)) return 'ok';
  return 'unknown';
}

/** Redfish `Status` object: State Absent wins, then Health. */
export function healthFromRedfishStatus(status: { State?: string | null; Health?: string | null } | undefined | null): HealthStatus {
  if (!status) return 'unknown';
  if ((status.State ?? '').toLowerCase() === 'absent') return 'absent';
  return healthFromText(status.Health ?? undefined);
}

export function worst(statuses: Iterable<HealthStatus>): HealthStatus {
  let w: HealthStatus = 'absent';
  let any = false;
  for (const s of statuses) {
    any = true;
    if (RANK[s] > RANK[w]) w = s;
  }
  if (!any) return 'unknown';
  // All absent (or nothing reported) says nothing is wrong.
  return w === 'absent' ? 'ok' : w;
}

/** Assemble a report; `overall` is the worst of every reading and summary. */
export function makeHealthReport(parts: Omit<HealthReport, 'overall'>): HealthReport {
  const all: HealthStatus[] = [
    ...parts.temperatures.map((r) => r.status),
    ...parts.fans.map((r) => r.status),
    ...parts.powerSupplies.map((r) => r.status),
    ...Object.values(parts.summary),
  ];
  return { overall: worst(all), ...parts };
}

/** A number from "21", "21 Celsius", "N/A" (undefined). */
export function numberFrom(text: string | undefined | null): number | undefined {
  if (text === undefined || text === null) return undefined;
  const m = /-?\d+(\.\d+)?/.exec(String(text));
  return m ? Number(m[0]) : undefined;
}

/** Components a status dot should call out: the degraded and critical ones. */
export function unhealthyComponents(report: HealthReport): string[] {
  const bad = (r: HealthReading): boolean => r.status === 'degraded' || r.status === 'critical';
  return [
    ...report.temperatures.filter(bad).map((r) => r.name),
    ...report.fans.filter(bad).map((r) => r.name),
    ...report.powerSupplies.filter(bad).map((r) => r.name),
    ...Object.entries(report.summary)
      .filter(([, s]) => s === 'degraded' || s === 'critical')
      .map(([k]) => k),
  ];
}
