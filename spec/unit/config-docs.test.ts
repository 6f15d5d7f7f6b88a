// The documentation of the configuration must name every key the schema has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadConfig, schemaLeaves } from '../../src/config/load.js';
import { renderConfigReference } from '../../src/config/reference.js';

const EXAMPLE = 'conf/gateway.example.json';

function get(obj: unknown, path: string[]): unknown {
  return path.reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

test('conf/gateway.example.json sets every key and is valid', () => {
  const example = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as unknown;
  const missing = schemaLeaves().filter(({ path }) => get(example, path) === undefined).map(({ path }) => path.join('.'));
  assert.deepEqual(missing, [], `keys missing from ${EXAMPLE}`);
  const cfg = loadConfig({ file: EXAMPLE, env: {} });
  assert.equal(cfg.xmpp.componentDomain, 'sip.example.com');
});

test('README and docs/configuration.md carry the reference generated from the schema', () => {
  const reference = renderConfigReference();
  for (const path of ['README.md', 'docs/configuration.md']) {
    const doc = readFileSync(path, 'utf8');
    assert.ok(doc.includes(reference), `${path} is out of date with the schema: run npm run docs:config`);
  }
  for (const { path, node } of schemaLeaves()) {
    assert.ok(reference.includes(`\`${path.join('.')}\``) && reference.includes(node.env), `reference lacks ${path.join('.')}`);
  }
});
