// What a SIP peer on the simulated network sends: responses to the requests
// the double put on the wire, and ACK/CANCEL/in-dialog requests towards the
// double. Plain RFC 3261 UA behaviour (sipp-like), no sofia rules.
import {
  SipHeaders, SipMessage, buildSip, cseqOf, newBranch, parseSipUri, tagOf, uriOf, withTag,
  type HeaderInit, type Peer,
} from './sip-text.js';

export interface PeerResponseOptions {
  headers?: HeaderInit;
  body?: string;
  /** Default when a body is given: application/sdp for `v=0`, else text/plain. */
  contentType?: string;
  /**
   * Contact of the responding UA. Default on 1xx/2xx to INVITE and 2xx to
   * SUBSCRIBE: `<sip:[user@]addr:port>` (srf needs it to build a Dialog, A.12).
   * `false` omits it.
   */
  contact?: string | false;
}

function contactFor(peer: Peer, user: string | undefined): string {
  return `<sip:${user ? `${user}@` : ''}${peer.address}:${peer.port}${peer.transport === 'udp' ? '' : `;transport=${peer.transport}`}>`;
}

/** Response of a UA to `request` (as the double sent it). */
export function peerResponse(
  request: SipMessage, status: number, reason: string, toTag: string, peer: Peer, o: PeerResponseOptions = {},
): SipMessage {
  const method = request.method;
  const h = new SipHeaders();
  for (const via of request.headers.getAll('via')) h.append('Via', via);
  for (const rr of request.headers.getAll('record-route')) h.append('Record-Route', rr);
  h.append('From', request.get('from') ?? '');
  const to = request.get('to') ?? '';
  h.append('To', tagOf(to) || status === 100 ? to : withTag(to, toTag));
  h.append('Call-ID', request.get('call-id') ?? '');
  h.append('CSeq', request.get('cseq') ?? '');
  const extra = new SipHeaders(o.headers);
  const wantsContact = (method === 'INVITE' && status > 100 && status < 300)
    || (method === 'SUBSCRIBE' && status >= 200 && status < 300);
  if (o.contact !== false && !extra.has('contact') && (o.contact || wantsContact)) {
    h.append('Contact', o.contact || contactFor(peer, parseSipUri(request.uri)?.user));
  }
  for (const [n, v] of extra) h.append(n, v);
  const body = o.body ?? '';
  if (body && !h.has('content-type')) {
    h.append('Content-Type', o.contentType ?? (body.startsWith('v=0') ? 'application/sdp' : 'text/plain'));
  }
  return buildSip(`SIP/2.0 ${status} ${reason}`, h, body);
}

function viaOf(peer: Peer, branch: string): string {
  return `SIP/2.0/${peer.transport.toUpperCase()} ${peer.address}:${peer.port};branch=${branch}`;
}

/** ACK for a non-2xx final response: same branch as the INVITE (RFC 3261 17.1.1.3). */
export function peerAckNon2xx(invite: SipMessage, response: SipMessage): string {
  const h = new SipHeaders();
  h.append('Via', invite.headers.getAll('via')[0] ?? '');
  h.append('Max-Forwards', '70');
  h.append('From', invite.get('from') ?? '');
  h.append('To', response.get('to') ?? '');
  h.append('Call-ID', invite.get('call-id') ?? '');
  h.append('CSeq', `${cseqOf(invite).seq} ACK`);
  return buildSip(`ACK ${invite.uri} SIP/2.0`, h, '').raw;
}

/** ACK for a 2xx: a new transaction to the remote target (RFC 3261 13.2.2.4). */
export function peerAck2xx(invite: SipMessage, response: SipMessage, peer: Peer, body = ''): string {
  const h = new SipHeaders();
  h.append('Via', viaOf(peer, newBranch()));
  for (const rr of response.headers.getAll('record-route').reverse()) h.append('Route', rr);
  h.append('Max-Forwards', '70');
  h.append('From', invite.get('from') ?? '');
  h.append('To', response.get('to') ?? '');
  h.append('Call-ID', invite.get('call-id') ?? '');
  h.append('CSeq', `${cseqOf(invite).seq} ACK`);
  const contact = invite.get('contact');
  if (contact) h.append('Contact', contact);
  if (body) h.append('Content-Type', 'application/sdp');
  const target = response.get('contact') ? uriOf(response.get('contact')!) : invite.uri;
  return buildSip(`ACK ${target} SIP/2.0`, h, body).raw;
}

/** CANCEL for a pending INVITE (RFC 3261 9.1): same Via, CSeq number. */
export function peerCancel(invite: SipMessage, headers?: HeaderInit): string {
  const h = new SipHeaders();
  h.append('Via', invite.headers.getAll('via')[0] ?? '');
  h.append('Max-Forwards', '70');
  h.append('From', invite.get('from') ?? '');
  h.append('To', invite.get('to') ?? '');
  h.append('Call-ID', invite.get('call-id') ?? '');
  h.append('CSeq', `${cseqOf(invite).seq} CANCEL`);
  for (const [n, v] of new SipHeaders(headers)) h.append(n, v);
  return buildSip(`CANCEL ${invite.uri} SIP/2.0`, h, '').raw;
}

/** The peer's view of a dialog with the double. */
export interface PeerDialogView {
  callId: string;
  /** The peer's own From/To value (with its tag). */
  peerParty: string;
  /** The double's From/To value (with the double's tag). */
  doubleParty: string;
  /** Where the peer sends in-dialog requests: the double's Contact URI. */
  doubleTarget: string;
  peerContact: string | undefined;
  peer: Peer;
}

export interface InDialogSpec {
  method: string;
  headers?: HeaderInit;
  body?: string;
  contentType?: string;
  /** Default: the next number after the last one the peer used. */
  cseq?: number;
}

/** An in-dialog request from the peer to the double (RFC 3261 12.2.1.1). */
export function peerInDialogRequest(d: PeerDialogView, spec: InDialogSpec, cseq: number): string {
  const method = spec.method.toUpperCase();
  const h = new SipHeaders();
  h.append('Via', viaOf(d.peer, newBranch()));
  h.append('Max-Forwards', '70');
  h.append('From', d.peerParty);
  h.append('To', d.doubleParty);
  h.append('Call-ID', d.callId);
  h.append('CSeq', `${spec.cseq ?? cseq} ${method}`);
  if (d.peerContact) h.append('Contact', d.peerContact);
  for (const [n, v] of new SipHeaders(spec.headers)) h.append(n, v);
  const body = spec.body ?? '';
  if (body && !h.has('content-type')) {
    h.append('Content-Type', spec.contentType ?? (body.startsWith('v=0') ? 'application/sdp' : 'text/plain'));
  }
  return buildSip(`${method} ${d.doubleTarget} SIP/2.0`, h, body).raw;
}
