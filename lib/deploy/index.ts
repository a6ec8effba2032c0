export * from './iscsi';
export * from './pxe';
export { DeployError, isDeployError } from './errors';
export type { DeployErrorCode } from './errors';
