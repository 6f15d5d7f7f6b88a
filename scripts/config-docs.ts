// npm run docs:config — rewrites the generated configuration reference in
// README.md and docs/configuration.md from the schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { spliceReference } from '../src/config/reference.js';

for (const path of ['README.md', 'docs/configuration.md']) {
  const before = readFileSync(path, 'utf8');
  const after = spliceReference(before);
  if (after !== before) {
    writeFileSync(path, after);
    process.stdout.write(`updated ${path}\n`);
  }
}
