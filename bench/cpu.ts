// CPU time of the benchmark's processes, for "cores used" (CPU seconds /
// wall seconds) and "gateway µs per operation".
import { cpuSeconds, machineCpu } from './proc.js';

/** CPU seconds so far: per named process still running, `bench` (this process), and `machine`/`steal` when asked for. */
export type CpuSnap = Record<string, number>;

export function cpuSnap(pids: Record<string, number | undefined>, opts: { machine?: boolean } = {}): CpuSnap {
  const out: CpuSnap = {};
  for (const [name, pid] of Object.entries(pids)) {
    const s = cpuSeconds(pid ?? 0);
    if (s !== undefined) out[name] = s;
  }
  const u = process.cpuUsage();
  out.bench = (u.user + u.system) / 1e6;
  if (opts.machine) Object.assign(out, machineCpu());
  return out;
}

const ORDER = ['gateway', 'prosody', 'echo', 'bench', 'machine', 'steal'];

/** CPU seconds between two snapshots, for the names in both (in a fixed order: the JSON keeps it). */
export function cpuDelta(a: CpuSnap, b: CpuSnap): Record<string, number> {
  const out: Record<string, number> = {};
  const keys = [...ORDER, ...Object.keys(a).filter((k) => !ORDER.includes(k))];
  for (const k of keys) {
    const x = a[k];
    const y = b[k];
    if (x !== undefined && y !== undefined) out[k] = y - x;
  }
  return out;
}
