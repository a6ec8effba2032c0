export {
  DEFAULT_APPEND_PARAMS,
  DEFAULT_DISK_DEVICES,
  bootloaderFor,
  renderGrubConfig,
  renderPxelinuxConfig,
  switchToInstanceBoot,
} from './render';
export type { InstanceBoot, PxeBootMode, PxeBootloader, PxeConfigPaths, PxeDeployParams, RenderOptions } from './render';
export { normaliseMac, pxeLayout, removePxeFiles, switchPxeConfig, writePxeFiles } from './files';
export type { PxeFiles, PxeImages, PxeNodeLocation, PxeSetupOptions } from './files';
