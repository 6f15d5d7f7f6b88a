// Start-up as an operator meets it: configuration errors, and refusals from
// either server, end the process with a clear message instead of a retry loop.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DrachtioDouble } from '../support/drachtio-double/index.js';
import { DRACHTIO_SECRET, gatewayConfig } from '../support/bed.js';
import { GatewayProcess, REPO_ROOT } from '../support/gateway-process.js';
import { allocatePorts, xmppServerKinds, type XmppServer } from '../support/xmpp-servers/index.js';

function runMain(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src', 'main.ts'), ...args], {
    cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 30000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function configFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gw-startup-')), 'gateway.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
}

/** Spawns the gateway and waits for it to exit; returns the exit code, the time it took and what it said. */
async function expectExit(config: Record<string, unknown>): Promise<{ code: number | null; ms: number; said: string }> {
  const t0 = Date.now();
  const gw = GatewayProcess.spawn(config);
  const timer = setTimeout(() => gw.child.kill('SIGKILL'), 20000);
  const { code } = await gw.exited;
  clearTimeout(timer);
  const ms = Date.now() - t0;
  const said = [...gw.stderr, ...gw.lines.map((l) => JSON.stringify(l))].join('\n');
  await gw.stop();
  return { code, ms, said };
}

describe('configuration errors', () => {
  test('--check-config accepts the example file and masks the secrets', () => {
    const r = runMain(['--config', 'conf/gateway.example.json', '--check-config']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /configuration OK/);
    assert.ok(!r.stdout.includes('change-me-component-secret'), 'secret printed');
    assert.match(r.stdout, /"secret": "\*+"/);
  });

  test('--check-config rejects a bad file with exit 2 and the key named', () => {
    const r = runMain(['--config', configFile({ xmpp: { port: 'not-a-port', secret: 'x' } }), '--check-config']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /xmpp\.port/);
    const unknown = runMain(['--config', configFile({ xmpp: { secret: 'x' }, sip: { drachtio: { secret: 'y', mdoe: 'inbound' } } }), '--check-config']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /sip\.drachtio\.mdoe/);
  });

  test('a missing secret stops a normal start with exit 2; so does a bad argument', () => {
    const r = runMain(['--config', configFile({ xmpp: { componentDomain: 'sip.example.test' } })]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /xmpp\.secret/);
    const env = runMain(['--check-config'], { GW_XMPP_SECRET: 'a', GW_DRACHTIO_SECRET: 'b', GW_LOG_LEVEL: 'loud' });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /log\.level/);
    const arg = runMain(['--bogus']);
    assert.equal(arg.code, 2);
    assert.match(arg.stderr, /usage/);
  });
});

for (const { kind, start } of xmppServerKinds) {
  describe(`start-up against ${kind}`, () => {
    let xmpp: XmppServer;
    let sip: DrachtioDouble;
    before(async () => {
      xmpp = await start({ users: [] });
      sip = await DrachtioDouble.start({ secret: DRACHTIO_SECRET });
    });
    after(async () => {
      await sip?.stop();
      await xmpp?.stop();
    });

    test('a wrong component secret exits 1 within 10 s, naming the cause', async () => {
      const r = await expectExit(gatewayConfig(xmpp, sip, { xmpp: { secret: 'wrong-secret' } }));
      assert.equal(r.code, 1, r.said);
      assert.ok(r.ms < 10000, `took ${r.ms} ms`);
      assert.match(r.said, /refused the component secret|not-authorized/);
    });

    test('an unknown component domain exits 1, naming the cause', async () => {
      const r = await expectExit(gatewayConfig(xmpp, sip, { xmpp: { componentDomain: 'nosuch.example.test' } }));
      assert.equal(r.code, 1, r.said);
      assert.ok(r.ms < 10000, `took ${r.ms} ms`);
      assert.match(r.said, /host-unknown|not-authorized|does not know the component domain|refused/);
    });

    test('the right secret starts, and the health endpoint says 200', async () => {
      const gw = GatewayProcess.spawn(gatewayConfig(xmpp, sip));
      try {
        await gw.waitForHealth(200);
        const h = await gw.health();
        assert.deepEqual(h.body.down, []);
      } finally {
        assert.equal((await gw.stop()).code, 0);
      }
    });
  });
}

describe('start-up against drachtio', () => {
  let xmpp: XmppServer;
  let sip: DrachtioDouble;
  before(async () => {
    xmpp = await xmppServerKinds[0]!.start({ users: [] });
    sip = await DrachtioDouble.start({ secret: DRACHTIO_SECRET });
  });
  after(async () => {
    await sip?.stop();
    await xmpp?.stop();
  });

  test('a wrong drachtio secret exits 1, naming the cause', async () => {
    const r = await expectExit(gatewayConfig(xmpp, sip, { sip: { drachtio: { secret: 'wrong' } } }));
    assert.equal(r.code, 1, r.said);
    assert.ok(r.ms < 10000, `took ${r.ms} ms`);
    assert.match(r.said, /refused the secret/);
  });

  test('unreachable servers exit 1 after their start timeout, naming the address', async () => {
    const [deadXmpp, deadSip] = await allocatePorts(2);
    const r1 = await expectExit(gatewayConfig({ ...xmpp, componentPort: deadXmpp! }, sip, { xmpp: { startTimeoutMs: 1000 } }));
    assert.equal(r1.code, 1, r1.said);
    assert.match(r1.said, new RegExp(`could not connect to 127\\.0\\.0\\.1:${deadXmpp}`));
    const r2 = await expectExit(gatewayConfig(xmpp, { port: deadSip! }, { sip: { drachtio: { startTimeoutMs: 1000 } } }));
    assert.equal(r2.code, 1, r2.said);
    assert.match(r2.said, new RegExp(`could not connect to 127\\.0\\.0\\.1:${deadSip}`));
  });
});
