export { Ipmitool, IPMI_BOOT_DEVICES, IPMI_POWER_ACTIONS } from './ipmitool';
export type { BootdevOptions, IpmiBootDevice, IpmiPowerAction, SolActivateOptions } from './ipmitool';
export type { IpmiInterface, IpmiPrivilege, IpmitoolOptions } from './options';
export { parseSdrVerbose } from './sensors';
export type { Sensor, SensorKind, SensorStatus } from './sensors';
export type { SolEnd, SolSession } from './sol';
export { IpmitoolError } from './diagnose';
