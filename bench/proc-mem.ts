/**
 * Peak resident memory of a process group, sampled from /proc (Linux only). A job's worker reports
 * its own max RSS, but DSDP/CSDP run as grandchildren whose peak Node cannot ask for, so the parent
 * polls VmHWM (the kernel's high-water mark, so a sample between peaks still sees them) of every
 * process in the job's group. Processes that live shorter than one poll interval are missed.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Field 5 of /proc/<pid>/stat is the process group; the command name in field 2 may hold spaces. */
export function pgrpFromStat(stat: string): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat.slice(close + 2).split(' ');
  const pgrp = Number(fields[2]);
  return Number.isInteger(pgrp) ? pgrp : undefined;
}

/** VmHWM from /proc/<pid>/status, in bytes. */
export function vmHwmFromStatus(status: string): number | undefined {
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** Largest VmHWM among the processes of group `pgid` right now (0 if none could be read). */
export function groupPeakRss(pgid: number): number {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0;
  }
  let peak = 0;
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (pgrpFromStat(readFileSync(`/proc/${e}/stat`, 'utf8')) !== pgid) continue;
      peak = Math.max(peak, vmHwmFromStatus(readFileSync(`/proc/${e}/status`, 'utf8')) ?? 0);
    } catch {
      // The process ended between readdir and read.
    }
  }
  return peak;
}
