/**
 * The simulated server's sensors and subsystems. Both protocol front-ends
 * render the same data (RIBCL GET_EMBEDDED_HEALTH, Redfish Thermal/Power
 * and AggregateHealthStatus); tests and demos change it with `set*`.
 */

/** As a ProLiant words it on RIBCL; Redfish rendering maps these. */
export type SimComponentStatus = 'OK' | 'Degraded' | 'Failed' | 'Not Installed';

export interface SimTemperature {
  label: string;
  location: string;
  reading: number;
  caution: number;
  critical: number;
  status: SimComponentStatus;
}

export interface SimFan {
  label: string;
  zone: string;
  speed: number;
  status: SimComponentStatus;
}

export interface SimPowerSupply {
  label: string;
  bay: number;
  model: string;
  capacityWatts: number;
  serial: string;
  firmware: string;
  status: SimComponentStatus;
}

/** Subsystems summarised in HEALTH_AT_A_GLANCE / AggregateHealthStatus. */
export type SimSubsystem = 'bios_hardware' | 'memory' | 'network' | 'processor' | 'storage';

export class SimHealth {
  readonly temperatures: SimTemperature[];
  readonly fans: SimFan[];
  readonly powerSupplies: SimPowerSupply[];
  readonly subsystems: Record<SimSubsystem, SimComponentStatus> = {
    bios_hardware: 'OK',
    memory: 'OK',
    network: 'OK',
    processor: 'OK',
    storage: 'OK',
  };

  constructor(seed: number) {
    const jitter = (n: number): number => n + ((seed >> (n % 7)) % 4);
    this.temperatures = [
      { label: '01-Inlet Ambient', location: 'Ambient', reading: jitter(21), caution: 42, critical: 47, status: 'OK' },
      { label: '02-CPU 1', location: 'CPU', reading: jitter(40), caution: 70, critical: 0, status: 'OK' },
      { label: '03-CPU 2', location: 'CPU', reading: jitter(40), caution: 70, critical: 0, status: 'OK' },
      { label: '04-P1 DIMM 1-6', location: 'Memory', reading: jitter(33), caution: 89, critical: 0, status: 'OK' },
      { label: '05-P2 DIMM 1-6', location: 'Memory', reading: jitter(32), caution: 89, critical: 0, status: 'OK' },
      { label: '06-HD Max', location: 'System', reading: jitter(35), caution: 60, critical: 0, status: 'OK' },
      { label: '07-Chipset', location: 'System', reading: jitter(45), caution: 105, critical: 0, status: 'OK' },
      { label: '08-PS 1 Inlet', location: 'Power Supply', reading: jitter(28), caution: 0, critical: 0, status: 'OK' },
      { label: '09-PS 2 Inlet', location: 'Power Supply', reading: jitter(29), caution: 0, critical: 0, status: 'OK' },
      { label: '10-Mezz 1', location: 'I/O Board', reading: 0, caution: 0, critical: 0, status: 'Not Installed' },
    ];
    this.fans = [1, 2, 3, 4, 5, 6].map((n) => ({ label: `Fan ${n}`, zone: 'System', speed: jitter(20 + n), status: 'OK' as const }));
    this.powerSupplies = [1, 2].map((bay) => ({
      label: `Power Supply ${bay}`,
      bay,
      model: '720478-B21',
      capacityWatts: 500,
      serial: `5DMVV0${bay}AL${String(seed % 10000).padStart(4, '0')}`,
      firmware: '1.00',
      status: 'OK' as const,
    }));
  }

  /** Change one sensor's status by its label ("Fan 2", "01-Inlet Ambient", "Power Supply 1") or a subsystem's. */
  set(label: string, status: SimComponentStatus): void {
    const item =
      this.fans.find((f) => f.label === label) ??
      this.temperatures.find((t) => t.label === label) ??
      this.powerSupplies.find((p) => p.label === label);
    if (item) {
      item.status = status;
      return;
    }
    if (label in this.subsystems) {
      this.subsystems[label as SimSubsystem] = status;
      return;
    }
    throw new Error(`no simulated sensor or subsystem named "${label}"`);
  }

  /** Everything back to OK (absent sensors stay absent). */
  reset(): void {
    for (const list of [this.fans, this.temperatures, this.powerSupplies]) for (const c of list) if (c.status !== 'Not Installed') c.status = 'OK';
    for (const k of Object.keys(this.subsystems) as SimSubsystem[]) this.subsystems[k] = 'OK';
  }

  /** The roll-up of a group: worst present status. */
  static worst(statuses: SimComponentStatus[]): SimComponentStatus {
    if (statuses.includes('Failed')) return 'Failed';
    if (statuses.includes('Degraded')) return 'Degraded';
    return 'OK';
  }

  summary(): Record<string, SimComponentStatus> {
    return {
      bios_hardware: this.subsystems.bios_hardware,
      fans: SimHealth.worst(this.fans.map((f) => f.status)),
      temperature: SimHealth.worst(this.temperatures.map((t) => t.status)),
      power_supplies: SimHealth.worst(this.powerSupplies.map((p) => p.status)),
      processor: this.subsystems.processor,
      memory: this.subsystems.memory,
      network: this.subsystems.network,
      storage: this.subsystems.storage,
    };
  }
}
