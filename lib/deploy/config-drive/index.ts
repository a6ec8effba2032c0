/**
 * The config drive of a deploy (Ironic's `configdrive`): checked before the
 * deploy starts, handed to the agent, or written by us to a partition.
 */
export * from './types';
export { checkConfigDrive, checkConfigDriveData, checkDriveImage, decodeConfigDrive, driveLabel, isConfigDriveUrl } from './check';
export { checkNetworkData } from './network-data';
export { configDriveContent, type DriveOwner } from './content';
export { agentConfigDrive, configDriveFile } from './drive';
