import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const REQUIRED = { GW_XMPP_SECRET: 's1', GW_DRACHTIO_SECRET: 's2' };

function file(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'gwcfg-'));
  const path = join(dir, 'gateway.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function expectKeyError(fn: () => unknown, key: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.match(err.message, new RegExp(key.replace(/\./g, '\\.')), `message should name ${key}: ${err.message}`);
    return true;
  });
}

test('defaults plus required secrets from the environment load', () => {
  const cfg = loadConfig({ env: REQUIRED });
  assert.equal(cfg.xmpp.port, 5347);
  assert.equal(cfg.xmpp.secret, 's1');
  assert.equal(cfg.sip.drachtio.mode, 'inbound');
  assert.deepEqual(cfg.sip.trustedSources, ['127.0.0.0/8', '::1']);
});

test('a missing secret is refused with the key named', () => {
  expectKeyError(() => loadConfig({ env: { GW_DRACHTIO_SECRET: 'x' } }), 'xmpp.secret');
  expectKeyError(() => loadConfig({ env: { GW_XMPP_SECRET: 'x' } }), 'sip.drachtio.secret');
});

test('file values load and environment variables override them', () => {
  const path = file({ xmpp: { componentDomain: 'sip.example.com', port: 15347, secret: 'fromfile' }, sip: { drachtio: { secret: 'd' } } });
  const cfg = loadConfig({ file: path, env: { GW_XMPP_PORT: '25347' } });
  assert.equal(cfg.xmpp.componentDomain, 'sip.example.com');
  assert.equal(cfg.xmpp.secret, 'fromfile');
  assert.equal(cfg.xmpp.port, 25347);
});

test('GW_CONFIG names the file when no path is given', () => {
  const path = file({ xmpp: { secret: 'a' }, sip: { drachtio: { secret: 'b' } }, log: { level: 'debug' } });
  assert.equal(loadConfig({ env: { GW_CONFIG: path } }).log.level, 'debug');
});

test('an unknown key in the file is refused by name', () => {
  expectKeyError(() => loadConfig({ file: file({ xmpp: { secret: 'a', prot: 1 } }), env: REQUIRED }), 'xmpp.prot');
  expectKeyError(() => loadConfig({ file: file({ bogus: true }), env: REQUIRED }), 'bogus');
});

test('bad values are refused with the key named', () => {
  const cases: Array<[unknown, string]> = [
    [{ xmpp: { port: 70000 } }, 'xmpp.port'],
    [{ xmpp: { componentDomain: 'not a domain' } }, 'xmpp.componentDomain'],
    [{ sip: { drachtio: { mode: 'sideways' } } }, 'sip.drachtio.mode'],
    [{ sip: { drachtio: { pingIntervalMs: 100 } } }, 'sip.drachtio.pingIntervalMs'],
    [{ sip: { trustedSources: ['10.0.0.0/33'] } }, 'sip.trustedSources'],
    [{ sip: { trustedSources: 'nope' } }, 'sip.trustedSources'],
    [{ sip: { outboundProxy: 'http://proxy' } }, 'sip.outboundProxy'],
    [{ domains: { xmppToSip: [{ xmpp: 'example.com' }] } }, 'domains.xmppToSip'],
    [{ domains: { xmppToSip: [{ xmpp: 'a.com', sip: 'b.com' }, { xmpp: 'A.com', sip: 'c.com' }] } }, 'domains.xmppToSip'],
    [{ domains: { xmppToSip: { 'example.com': 'example.com' } } }, 'domains.xmppToSip'],
    [{ log: { format: 'xml' } }, 'log.format'],
    [{ log: { level: 'trace' } }, 'log.level'],
    [{ xmpp: { reconnect: { initialDelayMs: 5000, maxDelayMs: 1000 } } }, 'xmpp.reconnect.initialDelayMs'],
    [{ domains: { homeSipDomain: 'sip.localhost' } }, 'domains.homeSipDomain'],
    [{ domains: { homeSipDomain: 'example.org', xmppToSip: [{ xmpp: 'example.com', sip: 'example.org' }] } }, 'domains.xmppToSip'],
    [{ xmpp: 5 }, 'xmpp'],
  ];
  for (const [content, key] of cases) {
    expectKeyError(() => loadConfig({ file: file(content), env: REQUIRED }), key);
  }
});

test('a file that is not JSON is refused with its path', () => {
  const path = file('{ not json');
  assert.throws(() => loadConfig({ file: path, env: REQUIRED }), (err: unknown) => err instanceof ConfigError && err.message.includes(path));
});

test('lists and maps come from the environment as JSON or comma lists', () => {
  const cfg = loadConfig({
    env: {
      ...REQUIRED,
      GW_SIP_TRUSTED_SOURCES: '192.0.2.0/24, 2001:db8::/32',
      GW_XMPP_TO_SIP_DOMAINS: '[{"xmpp":"example.com","sip":"sip.example.com"}]',
    },
  });
  assert.deepEqual(cfg.sip.trustedSources, ['192.0.2.0/24', '2001:db8::/32']);
  assert.deepEqual(cfg.domains.xmppToSip, [{ xmpp: 'example.com', sip: 'sip.example.com' }]);
  expectKeyError(() => loadConfig({ env: { ...REQUIRED, GW_XMPP_TO_SIP_DOMAINS: '{broken' } }), 'domains.xmppToSip');
  expectKeyError(() => loadConfig({ env: { ...REQUIRED, GW_XMPP_PORT: 'abc' } }), 'xmpp.port');
});
