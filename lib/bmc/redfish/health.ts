/**
 * Redfish Thermal, Power and HPE AggregateHealthStatus onto the same health
 * report the RIBCL provider builds from GET_EMBEDDED_HEALTH.
 */
import { healthFromRedfishStatus, healthFromText, makeHealthReport } from '../health';
import type { HealthReading, HealthReport, HealthStatus } from '../types';
import type { JsonObject } from './client';
import { obj } from './links';

type Status = { State?: string | null; Health?: string | null };

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function temperature(t: JsonObject): HealthReading {
  const status = healthFromRedfishStatus(t.Status as Status);
  const value = num(t.ReadingCelsius);
  const caution = num(t.UpperThresholdCritical);
  const critical = num(t.UpperThresholdFatal);
  const location = typeof t.PhysicalContext === 'string' ? t.PhysicalContext : undefined;
  return {
    name: String(t.Name ?? 'unnamed sensor'),
    status,
    ...(status !== 'absent' && value !== undefined ? { reading: { value, unit: 'Celsius' } } : {}),
    ...(caution !== undefined ? { caution } : {}),
    ...(critical !== undefined ? { critical } : {}),
    ...(location ? { location } : {}),
  };
}

function fan(f: JsonObject): HealthReading {
  const status = healthFromRedfishStatus(f.Status as Status);
  const value = num(f.Reading) ?? num(f.CurrentReading);
  const unit = typeof f.ReadingUnits === 'string' ? f.ReadingUnits : 'Percent';
  const location = obj(obj(f.Oem).Hpe).Location;
  return {
    name: String(f.Name ?? f.FanName ?? 'unnamed fan'),
    status,
    ...(status !== 'absent' && value !== undefined ? { reading: { value, unit } } : {}),
    ...(typeof location === 'string' ? { location } : {}),
  };
}

function powerSupply(p: JsonObject, index: number): HealthReading {
  // iLO 5 names every supply "HpeServerPowerSupply"; the bay tells them apart.
  const bay = num(obj(obj(p.Oem).Hpe).BayNumber);
  return { name: bay !== undefined ? `Power Supply ${bay}` : String(p.Name ?? `Power Supply ${index + 1}`), status: healthFromRedfishStatus(p.Status as Status) };
}

/** AggregateHealthStatus keys onto the canonical summary keys RIBCL uses. */
const SUMMARY_KEY: Record<string, string> = {
  BiosOrHardwareHealth: 'bios_hardware',
  Fans: 'fans',
  Temperatures: 'temperature',
  PowerSupplies: 'power_supplies',
  Processors: 'processor',
  Memory: 'memory',
  Network: 'network',
  Storage: 'storage',
};

function summaryOf(system: JsonObject): Record<string, HealthStatus> {
  const hpe = obj(obj(system.Oem).Hpe);
  const agg = obj(hpe.AggregateHealthStatus);
  const out: Record<string, HealthStatus> = {};
  for (const [k, canonical] of Object.entries(SUMMARY_KEY)) {
    const health = obj(obj(agg[k]).Status).Health;
    if (typeof health === 'string') out[canonical] = healthFromText(health);
  }
  if (Object.keys(out).length === 0) {
    // No HPE roll-up: the standard one.
    const rollup = obj(system.Status).HealthRollup ?? obj(system.Status).Health;
    if (typeof rollup === 'string') out.system = healthFromText(rollup);
  }
  return out;
}

export function healthFromRedfish(thermal: JsonObject, power: JsonObject, system: JsonObject): HealthReport {
  const list = (v: unknown): JsonObject[] => (Array.isArray(v) ? v.map(obj) : []);
  return makeHealthReport({
    temperatures: list(thermal.Temperatures).map(temperature),
    fans: list(thermal.Fans).map(fan),
    powerSupplies: list(power.PowerSupplies).map(powerSupply),
    summary: summaryOf(system),
  });
}
