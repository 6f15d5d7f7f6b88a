// Network -> app: requests from SIP peers (drachtio-protocol.md A.5, A.9,
// A.12 Quirk 1) and the app's answers to them (A.6).
import { randomUUID } from 'node:crypto';
import { stackTime } from './framing.js';
import type { Engine } from './engine.js';
import { InboundTransaction } from './handles.js';
import { NokError, completeResponse } from './sofia.js';
import {
  cseqOf, headerKey, newTag, parseSip, parseVia, reasonPhrase, stripTag, tagOf, uriOf,
  type Peer, type SipMessage,
} from './sip-text.js';
import { Dialog, ServerTxn, type AppLink } from './state.js';

// A.5: new requests drachtio accepts outside a dialog.
const NEW_REQUEST_METHODS = ['INVITE', 'REGISTER', 'MESSAGE', 'OPTIONS', 'INFO', 'NOTIFY', 'SUBSCRIBE', 'PUBLISH'];

/** sofia adds `;rport=<port>` (and `;received=` for another address) to the top Via. */
function addRport(text: string, peer: Peer): string {
  const sep = text.indexOf('\r\n\r\n');
  const head = sep === -1 ? text : text.slice(0, sep);
  const lines = head.split('\r\n');
  const idx = lines.findIndex((l, i) => i > 0 && headerKey(l.slice(0, l.indexOf(':'))) === 'via');
  if (idx === -1) return text;
  const line = lines[idx]!;
  const colon = line.indexOf(':');
  const value = line.slice(colon + 1);
  const comma = value.indexOf(',');
  let first = comma === -1 ? value : value.slice(0, comma);
  const rest = comma === -1 ? '' : value.slice(comma);
  const via = parseVia(first);
  if (!via) return text;
  const trailing = /\s*$/.exec(first)![0];
  first = first.slice(0, first.length - trailing.length);
  if (via.host !== peer.address && !('received' in via.params)) first += `;received=${peer.address}`;
  if (via.params['rport'] === null) first = first.replace(/;\s*rport(?=;|$)/i, '') + `;rport=${peer.port}`;
  else if (!('rport' in via.params)) first += `;rport=${peer.port}`;
  lines[idx] = line.slice(0, colon + 1) + first + trailing + rest;
  return lines.join('\r\n') + (sep === -1 ? '' : text.slice(sep));
}

/** A SIP request arrives from `peer` (DrachtioDouble.inject). */
export function receiveRequest(e: Engine, text: string, peerIn: Partial<Peer> = {}, forceApp?: AppLink): InboundTransaction {
  const sent = parseSip(text);
  if (sent.kind !== 'request') throw new Error('inject() takes a SIP request');
  const via = parseVia(sent.headers.getAll('via')[0] ?? '');
  if (!via?.branch) throw new Error('inject(): the request needs a Via with a branch');
  const peer: Peer = {
    transport: peerIn.transport ?? via.transport,
    address: peerIn.address ?? via.host,
    port: peerIn.port ?? via.port ?? 5060,
  };
  const delivered = parseSip(addRport(text, peer));
  const handle = new InboundTransaction(e, sent, delivered, peer);
  e.logWire('from-network', peer, sent);
  const method = delivered.method;
  try {
    if (method === 'ACK') return onAck(e, handle, via.branch);
    const existing = e.serverByKey.get(`${via.branch}|${method}`);
    if (existing) {
      // A.5: retransmissions (same branch) are absorbed; sofia re-sends the last response.
      existing.handle.retransmissions++;
      const last = existing.responses[existing.responses.length - 1];
      if (last) sendOnWire(e, existing, last);
      return existing.handle;
    }
    if (method === 'CANCEL') return onCancel(e, handle, via.branch);
    if (tagOf(delivered.get('to'))) return onInDialog(e, handle, via.branch);
    return onNewRequest(e, handle, via.branch, forceApp);
  } finally {
    e.changed();
  }
}

function openTxn(e: Engine, handle: InboundTransaction, branch: string): ServerTxn {
  const txn = new ServerTxn(randomUUID(), handle.request, handle.sent.bytes, handle.peer,
    `${branch}|${handle.request.method}`, handle);
  e.serverTxns.set(txn.txnId, txn);
  e.serverByKey.set(txn.key, txn);
  handle.txn = txn;
  return txn;
}

export function sendOnWire(e: Engine, txn: ServerTxn, res: SipMessage): void {
  txn.responses.push(res);
  e.logWire('to-network', txn.peer, res);
}

/** A response the server generates itself (100 Trying, 487, 503, 481, 500 ...). */
function serverResponds(e: Engine, txn: ServerTxn, status: number): SipMessage {
  if (status > 100) txn.toTag ??= newTag();
  const res = completeResponse({
    request: txn.request, status, reason: reasonPhrase(status), toTag: txn.toTag ?? '',
    local: e.local, transport: txn.peer.transport,
  });
  sendOnWire(e, txn, res);
  if (status >= 200) txn.finalStatus = status;
  return res;
}

function deliverToApp(e: Engine, txn: ServerTxn, app: AppLink, dialogId: string, newRequest: boolean): void {
  txn.app = app;
  app.send(e.networkFrame({
    bytes: txn.receivedBytes, transport: txn.peer.transport, address: txn.peer.address, port: txn.peer.port,
    txnId: txn.txnId, dialogId, receivedOn: newRequest ? e.local : undefined,
  }, txn.request.raw));
}

function onNewRequest(e: Engine, handle: InboundTransaction, branch: string, forceApp?: AppLink): InboundTransaction {
  const req = handle.request;
  const method = req.method;
  if (method === 'BYE' || method === 'UPDATE') {
    serverResponds(e, openTxn(e, handle, branch), 481); // A.5: BYE/UPDATE outside a dialog
    return handle;
  }
  if (!NEW_REQUEST_METHODS.includes(method)) return handle; // A.5: other methods are discarded
  const txn = openTxn(e, handle, branch);
  if (method === 'INVITE') serverResponds(e, txn, 100); // A.5: automatic 100 Trying
  if (method === 'REGISTER') {
    // A.5 pre-checks: Contact without scheme, or `*` with Expires != 0 -> 400
    const contacts = req.headers.getAll('contact');
    const star = contacts.some((c) => c.trim() === '*');
    const noScheme = contacts.some((c) => c.trim() !== '*' && !/^[a-z][a-z0-9+.-]*:/i.test(uriOf(c)));
    if (noScheme || (star && (req.get('expires') ?? '').trim() !== '0')) {
      serverResponds(e, txn, 400);
      return handle;
    }
  }
  const app = forceApp ?? e.router(method.toLowerCase());
  if (!app) {
    serverResponds(e, txn, 503); // A.4: nobody routed the verb
    return handle;
  }
  deliverToApp(e, txn, app, '', true);
  return handle;
}

/** NOTIFY racing ahead of the 2xx to a SUBSCRIBE the app sent: the dialog starts now. */
function dialogFromEarlyNotify(e: Engine, req: SipMessage, peer: Peer): Dialog | undefined {
  if (req.method !== 'NOTIFY') return undefined;
  const callId = req.get('call-id');
  const ourTag = tagOf(req.get('to'));
  for (const c of e.clientTxns.values()) {
    if (c.method !== 'SUBSCRIBE' || c.inDialog || c.request.get('call-id') !== callId) continue;
    if (tagOf(c.request.get('from')) !== ourTag) continue;
    const from = req.get('from') ?? '';
    const contact = req.get('contact');
    const localContact = c.request.get('contact') ?? '';
    const d = new Dialog({
      id: c.reportDialogId, role: 'uac', kind: 'SUBSCRIBE', callId: callId ?? '', localTag: ourTag ?? '',
      remoteTag: tagOf(from) ?? '', localParty: c.request.get('from') ?? '', remoteParty: from,
      remoteTarget: contact ? uriOf(contact) : uriOf(from), remoteContact: contact, routeSet: [],
      localContact, localContactUri: uriOf(localContact), app: c.app, peer, transport: c.transport,
      localCseq: cseqOf(c.request).seq, remoteCseq: 0,
    });
    e.dialogs.set(d.id, d);
    return d;
  }
  return undefined;
}

function onInDialog(e: Engine, handle: InboundTransaction, branch: string): InboundTransaction {
  const req = handle.request;
  const method = req.method;
  const d = e.findDialog(req.get('call-id') ?? '', tagOf(req.get('to')) ?? '', tagOf(req.get('from')))
    ?? dialogFromEarlyNotify(e, req, handle.peer);
  const txn = openTxn(e, handle, branch);
  if (!d) {
    serverResponds(e, txn, 481);
    return handle;
  }
  txn.dialogId = d.id;
  d.remoteCseq = cseqOf(req).seq;
  if (method === 'INVITE') {
    serverResponds(e, txn, 100);
    d.lastServerInvite = txn;
  }
  const terminating = method === 'NOTIFY' && /terminated/i.test(req.get('subscription-state') ?? '');
  if (!d.app?.alive) {
    // A.4 "What is lost on disconnect": 481 + dialog removed for BYE and
    // terminating NOTIFY; other in-dialog requests are not routed (v0.9.5).
    if (method === 'BYE' || terminating) {
      serverResponds(e, txn, 481);
      e.dialogs.delete(d.id);
    }
    return handle;
  }
  deliverToApp(e, txn, d.app, d.id, false);
  // The BYE removes the dialog: the echo of the app's 200 has an empty dialog id (observed).
  if (method === 'BYE') e.dialogs.delete(d.id);
  if (terminating && d.role === 'uac' && d.kind === 'SUBSCRIBE') {
    // A.12 Quirk 1: the server answers 500 itself and drops the dialog; the
    // app's own 200 then gets "Response not sent due to unknown transaction".
    serverResponds(e, txn, 500);
    txn.terminated = true;
    e.dialogs.delete(d.id);
  }
  return handle;
}

function onAck(e: Engine, handle: InboundTransaction, branch: string): InboundTransaction {
  const req = handle.request;
  const invite = e.serverByKey.get(`${branch}|INVITE`);
  if (invite && invite.finalStatus !== undefined && invite.finalStatus >= 300) return handle; // hop-by-hop ACK absorbed
  const d = e.findDialog(req.get('call-id') ?? '', tagOf(req.get('to')) ?? '', tagOf(req.get('from')));
  const inv = d?.lastServerInvite;
  if (!d || !inv || !d.app?.alive) return handle;
  // A.5: ACK for a 200 the app sent comes with the INVITE's txnId, the dialog
  // id, and an empty transport token (observed).
  d.app.send(e.networkFrame({
    bytes: handle.sent.bytes, transport: '', address: handle.peer.address, port: handle.peer.port,
    txnId: inv.txnId, dialogId: d.id,
  }, req.raw));
  return handle;
}

function onCancel(e: Engine, handle: InboundTransaction, branch: string): InboundTransaction {
  const invite = e.serverByKey.get(`${branch}|INVITE`);
  const cancelTxn = openTxn(e, handle, branch);
  if (!invite) {
    serverResponds(e, cancelTxn, 481);
    return handle;
  }
  serverResponds(e, cancelTxn, 200);
  if (invite.finalStatus !== undefined || invite.terminated) return handle;
  // A.9: 200 to the CANCEL, 487 to the INVITE, then the CANCEL goes to the app
  // with the INVITE's txnId (and the dialog id once a 1xx with a tag went out).
  serverResponds(e, invite, 487);
  invite.terminated = true;
  if (invite.app?.alive) {
    invite.app.send(e.networkFrame({
      // observed: the size token repeats the INVITE's size
      bytes: invite.receivedBytes, transport: handle.peer.transport, address: handle.peer.address,
      port: handle.peer.port, txnId: invite.txnId, dialogId: invite.earlyDialogId ?? '',
    }, handle.request.raw));
  }
  return handle;
}

/** The app answers a request: `sip|<txnId>|` + partial response (A.6). */
export function onAppResponse(e: Engine, app: AppLink, msgId: string, txnId: string, partial: SipMessage): void {
  if (cseqOf(partial).method === 'CANCEL') {
    app.reply(msgId, 'NOK|200 OK to incoming CANCEL is automatically generated by the stack');
    return;
  }
  const txn = e.serverTxns.get(txnId);
  if (!txn || txn.finalStatus !== undefined || txn.terminated) {
    app.reply(msgId, 'NOK|Response not sent due to unknown transaction');
    return;
  }
  const status = partial.status;
  const req = txn.request;
  if (status > 100 && !tagOf(req.get('to'))) txn.toTag ??= tagOf(partial.get('to')) ?? newTag();
  let res: SipMessage;
  try {
    res = completeResponse({
      request: req, status, reason: partial.reason, app: partial, toTag: txn.toTag ?? '',
      local: e.local, transport: txn.peer.transport,
    });
  } catch (err) {
    if (err instanceof NokError) {
      app.reply(msgId, `NOK|${err.message}`);
      return;
    }
    throw err;
  }
  const method = txn.method;
  let dialogId = '';
  if (txn.dialogId) {
    dialogId = e.dialogs.has(txn.dialogId) ? txn.dialogId : '';
  } else if (method === 'INVITE' || method === 'SUBSCRIBE') {
    const id = `${req.get('call-id')};from-tag=${tagOf(req.get('from'))}`;
    if (status >= 200 && status < 300) {
      if (!e.dialogs.has(id)) e.dialogs.set(id, uasDialog(e, id, txn, res, app));
      txn.createdDialogId = id;
      dialogId = id;
    } else if (status > 100 && status < 200 && method === 'INVITE') {
      txn.earlyDialogId = id;
      dialogId = id;
    }
  }
  sendOnWire(e, txn, res);
  if (status >= 200) txn.finalStatus = status;
  // Echo: tokens 4 source, 5 bytes, 6 protocol (only filled for INVITE,
  // observed), 7/8 remote address, 9 time, 10 txnId, 11 dialogId (A.6).
  const proto = method === 'INVITE' ? txn.peer.transport : '';
  app.reply(msgId, `OK|application|${res.bytes}|${proto}|${txn.peer.address}|${txn.peer.port}|${stackTime()}|`
    + `${txn.txnId}|${dialogId}||Msg sent:|`, res.raw);
  e.changed();
}

/** A.12: the UAS dialog starts when the app sends the 2xx. */
function uasDialog(e: Engine, id: string, txn: ServerTxn, res: SipMessage, app: AppLink): Dialog {
  const req = txn.request;
  const contact = req.get('contact');
  const localContact = res.get('contact') ?? '';
  const seq = cseqOf(req).seq;
  const d = new Dialog({
    id, role: 'uas', kind: req.method as 'INVITE' | 'SUBSCRIBE', callId: req.get('call-id') ?? '',
    localTag: txn.toTag ?? '', remoteTag: tagOf(req.get('from')) ?? '', localParty: res.get('to') ?? '',
    remoteParty: req.get('from') ?? '', remoteTarget: contact ? uriOf(contact) : uriOf(stripTag(req.get('from') ?? '')),
    remoteContact: contact, routeSet: req.headers.getAll('record-route'), localContact,
    localContactUri: uriOf(localContact), app, peer: txn.peer, transport: txn.peer.transport,
    // observed: after SUBSCRIBE CSeq 1 the first NOTIFY the server sends has CSeq 2
    localCseq: seq, remoteCseq: seq,
  });
  if (req.method === 'INVITE') d.lastServerInvite = txn;
  return d;
}
