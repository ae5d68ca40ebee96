/** Facts about the machine a benchmark ran on, recorded with every run. */
import { cpus, totalmem, type, release, arch } from 'node:os';
import type { MachineInfo } from './types.js';

export function machineInfo(gpu?: string): MachineInfo {
  const c = cpus();
  return {
    cores: c.length,
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    os: `${type()} ${release()} ${arch()}`,
    ...(gpu ? { gpu } : {}),
  };
}
