/**
 * Library entry point: `require('node-red-contrib-ilo-deploy/lib')`.
 * Plain TypeScript, no Node-RED: usable from any Node.js program.
 */
export * as bmc from './bmc';
export { createBmc, BmcError, isBmcError, RibclBmc } from './bmc';
export type { Bmc, BmcConfig, PowerState, PowerAction, IloEndpoint, TlsOptions } from './bmc';
export { RedfishBmc } from './bmc';
export type {
  BmcManagement,
  VirtualMediaDevice,
  VirtualMediaStatus,
  BootMode,
  BootModeStatus,
  BootDevice,
  BootOrderEntry,
  LicenceInfo,
  HealthReport,
  HostInfo,
  DeployMedia,
} from './bmc';
