/**
 * The simulated system ROM's settings other than the boot mode (which
 * SimServer keeps, since RIBCL changes it too), and its secure boot state.
 * Changes are pending until the next POST, as on a real ProLiant; both REST
 * front-ends (iLO 4's RESTful API and iLO 5/6 Redfish) read and change them.
 */
import type { SimModel } from './models';

export type SimBiosValue = string | number | boolean;

/** Attributes a client reads to tell the platform's capabilities (proliantutils, sushy). */
function defaults(model: SimModel): Record<string, SimBiosValue> {
  const attrs: Record<string, SimBiosValue> = {
    AdminName: '',
    CustomPostMessage: '',
    ProcVirtualization: 'Enabled',
    Sriov: 'Enabled',
    TpmState: model.name === 'gen8' ? 'NotPresent' : 'PresentEnabled',
    WorkloadProfile: 'GeneralPowerEfficientCompute',
    UefiShellStartupUrl: '',
    PowerRegulator: 'DynamicPowerSavings',
  };
  if (model.supportedBootModes === 'bios-and-uefi') attrs.UefiOptimizedBoot = 'Enabled';
  return attrs;
}

export class SimBios {
  current: Record<string, SimBiosValue>;
  pending: Record<string, SimBiosValue>;
  /**
   * Secure boot: enabled now, and as it will be after the next POST; and
   * its key databases: the platform's default keys, keys a tenant enrolled
   * (`custom`), or none (deleted: the firmware is in setup mode).
   */
  readonly secureBoot: { current: boolean; pending: boolean; keys: 'default' | 'custom' | 'deleted' } = { current: false, pending: false, keys: 'default' };

  constructor(private readonly model: SimModel) {
    this.current = defaults(model);
    this.pending = { ...this.current };
  }

  /** Whether the ROM knows this attribute (BootMode is SimServer's, and only where there is a choice). */
  knows(name: string): boolean {
    return name in this.current;
  }

  /** A POST begins: pending settings become current. */
  apply(uefi: boolean): void {
    this.current = { ...this.pending };
    // Secure boot needs UEFI: a legacy boot runs without it whatever was asked.
    this.secureBoot.current = uefi && this.secureBoot.pending;
  }

  /** The ROM's default settings (what iLO 4 publishes as BaseConfigs `default`). */
  defaults(): Record<string, SimBiosValue> {
    return defaults(this.model);
  }

  /** Redfish #Bios.ResetBios: every setting back to its default at the next POST. */
  resetToDefaults(): void {
    this.pending = defaults(this.model);
  }

  reset(): void {
    this.current = defaults(this.model);
    this.pending = { ...this.current };
    this.secureBoot.current = this.secureBoot.pending = false;
    this.secureBoot.keys = 'default';
  }
}
