export { Fleet } from './fleet';
export type { FleetOptions, SimIlo } from './fleet';
export { SimServer, DEFAULT_TIMINGS } from './server';
export type { SimTimings, SimIdentity, SimPostState } from './server';
export type { SimFault } from './faults';
export { registerRibclCommand } from './ribcl/commands';
export { registerIloRoute } from './ilo-endpoint';
