// srf's keep-alive (drachtio-protocol.md A.3/A.4): srf only pings when the
// version looks like vX.Y.Z >= v0.8.2, so the double reports v0.9.5-double.
// Own file, tests run concurrently: each waits for srf's minimum ping
// interval (5 s) while the other files run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { harness } from './helpers.js';

describe('ping (A.4)', { concurrency: true }, () => {
  it('srf pings a double that reports v0.9.5-double and gets OK|pong', { timeout: 10_000 }, async (t) => {
    assert.notEqual(process.env.NODE_ENV, 'test', 'NODE_ENV=test would skip srf\'s version check');
    const { dd } = await harness(t, { connect: { enablePing: true, pingInterval: 5000 } });
    const ping = await dd.waitForFrame((f) => f.direction === 'app->server' && f.tokens[1] === 'ping', { timeoutMs: 6500 });
    assert.equal(ping.tokens.length, 2);
    const pong = await dd.waitForFrame((f) => f.tokens[1] === 'response' && f.tokens[2] === ping.tokens[0]);
    assert.deepEqual(pong.tokens.slice(3), ['OK', 'pong']);
  });

  it('srf does not ping a server whose version is too old', { timeout: 10_000 }, async (t) => {
    const { dd } = await harness(t, { version: 'v0.8.1', connect: { enablePing: true, pingInterval: 5000 } });
    await new Promise((r) => setTimeout(r, 5500));
    assert.equal(dd.frames.some((f) => f.tokens[1] === 'ping'), false);
  });
});
