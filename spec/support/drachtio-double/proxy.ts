// Minimal stateful proxy for `proxy|…` (drachtio-protocol.md A.10): serial
// forking only, no provisional/final timers (tests call timeout() instead).
import { randomUUID } from 'node:crypto';
import { stackTime } from './framing.js';
import type { Engine } from './engine.js';
import { hopByHopAck, viaFor } from './sofia.js';
import { SipHeaders, buildSip, peerFromUri, type Peer, type SipMessage } from './sip-text.js';
import { ClientTxn, type AppLink, type ServerTxn } from './state.js';
import { putOnWire } from './uac.js';
import { sendOnWire } from './uas.js';

/** `id|proxy|<txnId>|<remainInDialog>|<fullResponse>|<followRedirects>|<serial>|<prov>|<final>|<dest1>|…` */
export function onAppProxy(e: Engine, app: AppLink, msgId: string, tokens: string[], partial: SipMessage): void {
  const txn = e.serverTxns.get(tokens[2] ?? '');
  if (!txn || txn.finalStatus !== undefined || txn.terminated) {
    app.reply(msgId, 'NOK|unknown transaction'); // not observed
    return;
  }
  const destinations = tokens.slice(9).filter((d) => d !== '');
  const recordRoute = tokens[3] === 'remainInDialog';
  const fullResponse = tokens[4] === 'fullResponse';
  txn.terminated = true; // the app no longer answers this request itself
  forward(e, app, msgId, txn, partial, destinations, 0, { recordRoute, fullResponse });
  e.changed();
}

interface ProxyFlags {
  recordRoute: boolean;
  fullResponse: boolean;
}

function forward(e: Engine, app: AppLink, msgId: string, txn: ServerTxn, partial: SipMessage,
  destinations: string[], index: number, flags: ProxyFlags): void {
  const dest = destinations[index] ?? '';
  const target = peerFromUri(dest);
  if (!target) {
    app.reply(msgId, `NOK|invalid destination: ${dest}`);
    return;
  }
  // The server adds its Via, decrements Max-Forwards, optionally Record-Routes.
  const orig = txn.request;
  const h = new SipHeaders();
  h.append('Via', viaFor(e.local, target.transport, `z9hG4bK${randomUUID()}`));
  if (flags.recordRoute) h.append('Record-Route', `<sip:${e.local.address}:${e.local.port};lr>`);
  for (const [n, v] of orig.headers) {
    if (/^max-forwards$/i.test(n)) h.append(n, String(Math.max(0, Number(v) - 1)));
    else h.append(n, v);
  }
  for (const [n, v] of partial.headers) if (!/^content-length$/i.test(n)) h.set(n, v);
  const req = buildSip(`${orig.method} ${dest} SIP/2.0`, h, orig.body);
  const ctxn = new ClientTxn(randomUUID(), req, undefined, target, target.transport, '', undefined, true);
  ctxn.relay = (res, peer, local) => {
    const status = res.status;
    const upstream = withoutTopVia(res);
    if (status < 200) {
      if (status > 100) sendOnWire(e, txn, upstream);
      return;
    }
    if (orig.method === 'INVITE' && status >= 300 && !local) putOnWire(e, autoAck(ctxn, res), true);
    if (flags.fullResponse) report(app, msgId, res, peer, local);
    if (status >= 300 && index + 1 < destinations.length) {
      forward(e, app, msgId, txn, partial, destinations, index + 1, flags);
      return;
    }
    sendOnWire(e, txn, upstream);
    txn.finalStatus = status;
    app.reply(msgId, 'OK|done');
  };
  e.clientTxns.set(ctxn.txnId, ctxn);
  putOnWire(e, ctxn, false);
}

/** `OK|network|<bytes>|<proto>|<addr>|<port>|<time>|||continue` + the response (A.10). */
function report(app: AppLink, msgId: string, res: SipMessage, peer: Peer, local: boolean): void {
  const src = local ? `0|${peer.transport}||0` : `${res.bytes}|${peer.transport}|${peer.address}|${peer.port}`;
  app.reply(msgId, `OK|network|${src}|${stackTime()}|||continue`, res.raw);
}

function withoutTopVia(res: SipMessage): SipMessage {
  const h = new SipHeaders();
  let dropped = false;
  for (const [n, v] of res.headers) {
    if (!dropped && /^(via|v)$/i.test(n)) {
      dropped = true;
      const rest = v.split(',').slice(1).join(',').trim();
      if (rest) h.append(n, rest);
      continue;
    }
    h.append(n, v);
  }
  return buildSip(res.startLine, h, res.body);
}

function autoAck(ctxn: ClientTxn, res: SipMessage): ClientTxn {
  return new ClientTxn(randomUUID(), hopByHopAck(ctxn.request, res), undefined, ctxn.target, ctxn.transport, '',
    undefined, true);
}
