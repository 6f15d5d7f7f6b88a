// What the gateway answers on the SIP side, through drachtio-srf and the
// drachtio test double, spoken to as a SIP peer would.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PROXY_PEER as PROXY, sipRequest, startBed, type Bed } from '../support/bed.js';
import { xmppServerKinds } from '../support/xmpp-servers/index.js';

function request(method: string, extra: { body?: string } = {}): string {
  const headers = method === 'SUBSCRIBE' ? { Event: 'presence', Expires: '600' } : undefined;
  return sipRequest(method, { ...(headers ? { headers } : {}), ...extra });
}

describe('SIP protocol basics', () => {
  let bed: Bed;
  before(async () => {
    bed = await startBed(xmppServerKinds[0]!.start);
    for (const verb of ['invite', 'register', 'message', 'options', 'info', 'notify', 'subscribe', 'publish']) {
      await bed.sip.waitForRoute(verb);
    }
  });
  after(async () => {
    await bed?.stop();
  });

  test('OPTIONS from the proxy gets 200 with Allow and Accept (a health probe for the proxy)', async () => {
    const res = await bed.sip.inject(request('OPTIONS'), PROXY).response();
    assert.equal(res.status, 200);
    assert.equal(res.get('allow'), 'INVITE, MESSAGE, NOTIFY, OPTIONS, SUBSCRIBE');
    assert.equal(res.get('accept'), 'text/plain, text/html, message/cpim, application/im-iscomposing+xml, message/imdn+xml');
    assert.ok(res.get('to')?.includes('tag='), 'the server adds a To-tag');
    assert.match(res.get('via') ?? '', /127\.0\.0\.1:5060/);
  });

  test('methods drachtio hands over but the gateway does not implement yet get 405 with Allow', async () => {
    for (const method of ['REGISTER', 'PUBLISH', 'INFO']) {
      const res = await bed.sip.inject(request(method), PROXY).response();
      assert.equal(res.status, 405, method);
      assert.equal(res.get('allow'), 'INVITE, MESSAGE, NOTIFY, OPTIONS, SUBSCRIBE', method);
    }
  });

  test('a NOTIFY outside any subscription of ours gets 481 (RFC 6665 §4.1.3)', async () => {
    const res = await bed.sip.inject(request('NOTIFY'), PROXY).response();
    assert.equal(res.status, 481);
  });

  test('an INVITE whose MSRP offer is unusable (no a=path) gets 100 Trying from the server, then 488', async () => {
    const tx = bed.sip.inject(request('INVITE', { body: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=message 7394 TCP/MSRP *\r\n' }), PROXY);
    assert.equal((await tx.response({ final: false })).status, 100);
    assert.equal((await tx.response()).status, 488);
  });

  test('a request from an untrusted source gets 403 and a log line', async () => {
    const untrusted = { transport: 'udp' as const, address: '127.0.0.9', port: 5099 };
    const res = await bed.sip.inject(sipRequest('OPTIONS', { peer: untrusted }), untrusted).response();
    assert.equal(res.status, 403);
    const callId = res.get('call-id');
    const line = await bed.gw.waitForMessage('request from untrusted source refused');
    assert.equal(line.callId, callId);
    assert.equal(line.dir, 'S->X');
    assert.equal(line.source, '127.0.0.9:5099');
  });

  test('metrics count SIP requests by method and responses by status', async () => {
    const text = await (await fetch(`http://127.0.0.1:${await bed.gw.httpPort()}/metrics`)).text();
    assert.match(text, /gateway_sip_requests_total\{direction="in",method="OPTIONS"\} [2-9]/);
    assert.match(text, /gateway_sip_responses_total\{direction="out",status="405"\} 3/);
    assert.match(text, /gateway_errors_total\{side="sip",kind="untrusted-source"\} 1/);
  });
});
