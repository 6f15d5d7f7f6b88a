// Parameters of the benchmarks, from the environment.
import { resolve as resolvePath } from 'node:path';

/** An integer >= min from the environment, or dflt when unset or empty; exits 2 on anything else. */
export function envInt(name: string, dflt: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`${name} must be an integer >= ${min} (got ${JSON.stringify(raw)})`);
    process.exit(2);
  }
  return n;
}

/** A directory from the environment, made absolute, or undefined when unset or empty. */
export function envDir(name: string): string | undefined {
  const raw = process.env[name];
  return raw ? resolvePath(raw) : undefined;
}
