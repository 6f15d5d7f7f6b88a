// The chat service's media port over our MSRP endpoint (RFC 7573 §4-§8):
// one MSRP session per conversation, the SDP of offers and answers, and the
// payloads a chat carries (text/plain and RFC 3994 isComposing). Success
// REPORTs are held until the XMPP user's XEP-0184 <received/> (RFC 7573 §7).
import type { ChatMedia, ChatMediaPort, ChatPayload, MediaEvents, Result } from '../core/chat/ports.js';
import type { Logger } from '../log/logger.js';
import { parseContentType } from '../sip/bodies/content-type.js';
import { ISCOMPOSING_CONTENT_TYPE, buildIsComposing, parseIsComposing } from '../sip/bodies/iscomposing.js';
import { decodeText } from '../sip/bodies/text.js';
import type { MsrpEndpoint } from './endpoint.js';
import { answererRole, buildMsrpSdp, offererRole, parseMsrpSdp, type MsrpMedia } from './sdp.js';
import type { MsrpMessage, MsrpSession } from './session.js';

const TEXT = 'text/plain;charset=UTF-8';
/** What we take (RFC 7573 §4 Ex.2, plus isComposing: mapping §5.4 [derived], RFC 3994 §4). */
export const CHAT_ACCEPT_TYPES = ['text/plain', ISCOMPOSING_CONTENT_TYPE];

export class MsrpChatMedia implements ChatMediaPort {
  constructor(private readonly endpoint: MsrpEndpoint, private readonly log: Logger) {}

  check(sdp: string): Result<void> {
    const m = parseMsrpSdp(sdp);
    if (!m.ok) return m;
    if (m.value.port === 0) return { ok: false, error: 'the MSRP stream was refused (port 0)' };
    // RFC 7573 §4: the session carries text/plain; a peer that takes none of it is no chat peer.
    if (!m.value.acceptTypes.some((t) => t === '*' || t === 'text/*' || t.toLowerCase() === 'text/plain')) {
      return { ok: false, error: `the peer does not accept text/plain (${m.value.acceptTypes.join(' ')})` };
    }
    return { ok: true, value: undefined };
  }

  create(events: MediaEvents, peerOffer?: string): Result<{ media: ChatMedia; sdp: string }> {
    let offer: MsrpMedia | undefined;
    if (peerOffer !== undefined) {
      const parsed = parseMsrpSdp(peerOffer);
      if (!parsed.ok) return parsed;
      offer = parsed.value;
    }
    const created = this.endpoint.createSession({ acceptTypes: CHAT_ACCEPT_TYPES, deferSuccessReports: true });
    if (!created.ok) return created;
    const session = created.value;
    // RFC 4975 §5.4: the offerer is active; RFC 6135 a=setup may say otherwise.
    const setup = offer === undefined ? 'active' : answererRole(offer.setup);
    const sdp = buildMsrpSdp({ path: [session.localUri], acceptTypes: CHAT_ACCEPT_TYPES, maxSize: session.maxMessageBytes, setup });
    return { ok: true, value: { media: new MsrpChatSession(session, events, this.log), sdp } };
  }
}

class MsrpChatSession implements ChatMedia {
  peerMaxBytes: number | undefined;

  constructor(private readonly session: MsrpSession, events: MediaEvents, private readonly log: Logger) {
    session.on('message', (m) => this.deliver(m, events));
    session.on('report', (r) => {
      if (r.namespace === '000' && r.code === 200) events.delivered(r.messageId);
    });
    session.on('sendError', (e) => this.log.info('MSRP message not delivered', { code: e.code, reason: e.reason }));
    session.on('closed', (reason) => events.closed(reason));
  }

  async connect(peerSdp: string, weOffered: boolean): Promise<Result<void>> {
    const m = parseMsrpSdp(peerSdp);
    if (!m.ok) return m;
    if (m.value.maxSize !== undefined) this.peerMaxBytes = m.value.maxSize;
    const role = weOffered ? offererRole(m.value.setup) : answererRole(m.value.setup);
    return this.session.connect(m.value.path, role);
  }

  send(payload: ChatPayload, opts: { tid?: string; receipt?: boolean }): Result<string> {
    const base = { ...(opts.tid !== undefined ? { tid: opts.tid } : {}) };
    if (payload.kind === 'text') {
      // RFC 7573 §7: Success-Report for a receipt request; Failure-Report: no (the default).
      return this.session.send({ ...base, contentType: TEXT, body: payload.text, successReport: opts.receipt === true });
    }
    const body = buildIsComposing({
      state: payload.active ? 'active' : 'idle', contentType: 'text/plain', ...(payload.refreshS !== undefined ? { refresh: payload.refreshS } : {}),
    });
    return this.session.send({ ...base, contentType: ISCOMPOSING_CONTENT_TYPE, body });
  }

  reportDelivered(messageId: string): boolean {
    return this.session.reportSuccess(messageId);
  }

  close(reason: string): void {
    this.session.close(reason);
  }

  private deliver(m: MsrpMessage, events: MediaEvents): void {
    if (m.duplicate) return; // RFC 4975 §5.4: a resent message keeps its Message-ID
    const ct = parseContentType(m.contentType);
    const meta = { tid: m.tid, messageId: m.messageId, receiptRequested: m.successReport };
    if (ct?.mime === ISCOMPOSING_CONTENT_TYPE) {
      const parsed = parseIsComposing(m.body);
      if (!parsed.ok) {
        this.log.info('malformed isComposing over MSRP ignored', { why: parsed.error });
        return;
      }
      events.message({ ...meta, payload: { kind: 'composing', active: parsed.value.state === 'active' } });
      return;
    }
    const text = decodeText(m.body, ct?.params.charset);
    if (!text.ok) {
      this.log.info('undecodable MSRP text ignored', { why: text.error, contentType: m.contentType });
      return;
    }
    events.message({ ...meta, payload: { kind: 'text', text: text.value } });
  }
}
