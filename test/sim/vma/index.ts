// Entry point for tests and the lab launcher: start a VMA simulator in-process with a given or
// generated inventory.
export { startVmaSimulator, DEFAULT_QUIRKS } from './vma-simulator';
export type { VmaSimulator, VmaSimulatorOptions, RecordedRequest, AnsweredRequest, InjectedError, SimJobView, SimEndpoint, SimQuirks } from './vma-simulator';
export { generateInventory, matchesFilter, toDiscoveryJson } from './inventory';
export type { SimVmSpec, SimDiskSpec, SimNicSpec, SimVm, GenerateInventoryOptions } from './inventory';
export type { SimSpeed, ProgressSample } from './copier';
export type { DiskTargetWriter, DiskTargetOpener } from './disk-target-writer';
export { openNbdTarget } from './disk-target-writer';
