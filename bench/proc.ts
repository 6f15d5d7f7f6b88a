// Small readers of /proc for the benchmarks: CPU time and memory of a
// process by pid, CPU time of the whole machine (Linux only), a description
// of the machine and the other benchmarks running on it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

let clockTicks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat times (getconf CLK_TCK, normally 100). */
export function clkTck(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds of a process (all its threads), or undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) is in parentheses and may contain spaces: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return (utime + stime) / clkTck();
  } catch {
    return undefined;
  }
}

/** VmHWM (peak resident set) and VmRSS of a process in MiB, or undefined when it is gone. */
export function memoryMiB(pid: number): { peak: number; rss: number } | undefined {
  if (!pid) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { peak: kb('VmHWM') / 1024, rss: kb('VmRSS') / 1024 };
  } catch {
    return undefined;
  }
}

export interface MachineInfo {
  cpus: number;
  model: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  prosody: string;
}

/** The machine the figures were taken on. */
export function machineInfo(): MachineInfo {
  let model = os.cpus()[0]?.model ?? 'unknown';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    // keep os.cpus()'s answer
  }
  let prosody = 'unknown';
  try {
    // dpkg-query does not start anything (prosody --version would start a server).
    prosody = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'prosody'], { encoding: 'utf8' }).trim() || prosody;
  } catch {
    // not a Debian package
  }
  return {
    cpus: os.availableParallelism(),
    model,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
    node: process.version,
    prosody,
  };
}

/** All CPUs from /proc/stat, in CPU seconds: busy (user..softirq, guest included in user) and steal (taken by the hypervisor). */
export function machineCpu(): { machine: number; steal: number } | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    const hz = clkTck();
    return { machine: (user + nice + system + irq + softirq) / hz, steal: steal / hz };
  } catch {
    return undefined;
  }
}

/**
 * Other benchmarks and test runs on this machine (their load and ours would
 * distort each other's figures): `pid command` lines, the command cut short.
 */
export function otherBenchmarks(opts: { warn?: boolean } = {}): string[] {
  let found: string[];
  try {
    found = execFileSync('pgrep', ['-af', 'bench/(presence|im|chat)\\.ts|node .*--test '], { encoding: 'utf8' })
      .split('\n').filter((l) => l.trim() !== '' && !l.startsWith(`${process.pid} `) && !l.includes('pgrep'))
      // npm and tsx wrappers of this very run are our ancestors, not other benchmarks.
      .filter((l) => !ancestors().has(Number(l.split(' ')[0])))
      .map((l) => (l.length > 120 ? `${l.slice(0, 117)}...` : l));
  } catch {
    found = []; // pgrep exits 1 when nothing matches
  }
  if (opts.warn && found.length) process.stderr.write(`bench: WARNING: other benchmarks are running: ${found.join(' ; ')}\n`);
  return found;
}

let ancestorPids: Set<number> | undefined;
function ancestors(): Set<number> {
  if (ancestorPids) return ancestorPids;
  ancestorPids = new Set();
  let pid = process.ppid;
  for (let k = 0; k < 10 && pid > 1; k++) {
    ancestorPids.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return ancestorPids;
}
