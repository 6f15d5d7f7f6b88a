// A gateway in the test process (not spawned), for tests that add handlers
// or watch its internals; its JSON log lines are collected.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { Gateway } from '../../src/gateway.js';
import { gatewayConfig } from './bed.js';
import type { XmppServer } from './xmpp-servers/index.js';

export function inProcessGateway(
  xmpp: XmppServer,
  sip: { port: number },
  overrides: Record<string, unknown> = {},
): { gateway: Gateway; logLines: Array<Record<string, unknown>> } {
  const dir = mkdtempSync(join(tmpdir(), 'gw-inproc-'));
  const file = join(dir, 'gateway.json');
  writeFileSync(file, JSON.stringify({ ...gatewayConfig(xmpp, sip, overrides), dataDir: join(dir, 'data') }));
  const logLines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _e, cb) {
      logLines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      cb();
    },
  });
  const gateway = new Gateway(loadConfig({ file, env: {} }), createLogger({ level: 'debug', format: 'json', stream }));
  return { gateway, logLines };
}
