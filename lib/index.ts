/**
 * Library entry point: the package's `./lib` export (package.json `exports`).
 * Plain TypeScript with no editor or runtime dependency: usable from any Node.js program.
 */
export * as bmc from './bmc';
export { createBmc, BmcError, isBmcError, RibclBmc } from './bmc';
export type { Bmc, BmcConfig, PowerState, PowerAction, IloEndpoint, TlsOptions } from './bmc';
export * as deploy from './deploy';
export * as media from './media';
export { buildFloppy, buildDeployIso, buildInstanceBootIso, buildBootIso, formatParameters, MediaError, isMediaError } from './media';
export type { MediaImage, IsoImage, MediaInput, MediaSource, DeployParameters, FloppyOptions, DeployIsoOptions, InstanceBootIsoOptions, BootIsoOptions } from './media';
export * as swift from './swift';
export * as store from './store';
export * as images from './images';
export { createMediaStore, BuiltinMediaStore, SwiftMediaStore, StoreError } from './store';
export type { MediaStore, Published, PublishOptions, MediaStoreConfig } from './store';
export { publishImage } from './images';
export * as ipmi from './ipmi';
export * as inventory from './inventory';
export { parseInventory, planImport, exportInventory, discoverIlos, parseTargets, InventoryError, ServerNotFoundError } from './inventory';
export type { InventoryServer, ServerSecret, InventoryFormat, DiscoveredAddress } from './inventory';
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
export { checkConnection, fetchIloCertificate } from './bmc';
export type { ConnectionReport, IloCertificate } from './bmc';
export * as http from './http';
export { basicAuth, refuseCrossOrigin } from './http';
export * as console from './console';
