// The gateway's name and version, from package.json (XEP-0092, logs, User-Agent).
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageJson(): string {
  // src/version.ts when run with tsx, dist/src/version.js when built.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('package.json not found above the gateway sources');
}

const pkg = JSON.parse(readFileSync(findPackageJson(), 'utf8')) as { name: string; version: string };

export const SOFTWARE = { name: pkg.name, version: pkg.version } as const;
