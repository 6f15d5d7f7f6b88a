// INVITE dialogs for chat sessions (RFC 7573 §4, §5) over drachtio-srf:
// the gateway as UAC (an XMPP user starts a conversation) and as UAS (an
// INVITE with an MSRP offer from SIP). SDP content is the media port's; this
// file only carries it. Dialogs do not survive the drachtio connection
// (drachtio-protocol.md A.4): when the link goes down every dialog ends.
import type { EventEmitter } from 'node:events';
import { uriFromNameAddr } from '../core/address.js';
import type { ChatDialog, ChatSipPort, InviteDecision, InviteOffer, InviteOutcome, InviteRequest } from '../core/chat/ports.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../http/metrics.js';
import { parseContentType } from './bodies/content-type.js';
import { headerSafe } from './im-send.js';
import type { SipLink } from './link.js';
import type { SrfRequest, SrfResponse } from './srf-types.js';

/** srf's Dialog as an INVITE dialog uses it (lib/dialog.js). */
interface InviteDialog extends EventEmitter {
  readonly sip: { callId: string };
  readonly remote: { sdp: string; uri?: string };
  destroy(opts?: { headers?: Record<string, string> }): Promise<unknown>;
  on(event: 'destroy', listener: () => void): this;
}

type SipError = Error & { status?: number; reason?: string };

interface SrfInvite {
  createUAC(uri: string, opts: { headers: Record<string, string>; localSdp: string; proxy?: string }): Promise<InviteDialog>;
  createUAS(req: SrfRequest, res: SrfResponse, opts: { localSdp: string }): Promise<InviteDialog>;
}

export interface ChatInviteHandlers {
  onInvite(offer: InviteOffer, log: Logger): Promise<InviteDecision>;
}

export class SipChatInvite implements ChatSipPort {
  private readonly live = new Set<LiveDialog>();
  private handlers: ChatInviteHandlers | undefined;

  constructor(
    private readonly link: SipLink,
    private readonly outboundProxy: string,
    private readonly timeoutMs: number,
    private readonly metrics: Metrics,
  ) {
    link.on('down', () => {
      for (const d of [...this.live]) d.ended();
    });
  }

  setHandlers(h: ChatInviteHandlers): void {
    this.handlers = h;
  }

  get size(): number {
    return this.live.size;
  }

  private get srf(): SrfInvite {
    return this.link.srf as unknown as SrfInvite;
  }

  async invite(req: InviteRequest, log: Logger): Promise<InviteOutcome> {
    if (!this.link.isUp) return { kind: 'unavailable', why: 'drachtio link down' };
    const headers: Record<string, string> = { From: `<${req.fromUri}>`, To: `<${req.targetUri}>`, Contact: `<${req.contact}>` };
    if (req.callId !== undefined) headers['Call-ID'] = req.callId;
    if (req.subject !== undefined) headers.Subject = headerSafe(req.subject);
    this.metrics.sipRequests.inc({ direction: 'out', method: 'INVITE' });
    const attempt = this.srf.createUAC(req.targetUri, { headers, localSdp: req.sdp, ...(this.outboundProxy ? { proxy: this.outboundProxy } : {}) });
    let timer: NodeJS.Timeout | undefined;
    const guard = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.timeoutMs);
    });
    try {
      const r = await Promise.race([attempt, guard]);
      if (r === 'timeout') {
        // A 2xx that still comes is hung up at once.
        attempt.then((late) => void late.destroy().catch(() => undefined), () => undefined);
        return { kind: 'timeout' };
      }
      this.metrics.sipResponses.inc({ direction: 'in', status: '200' });
      return { kind: 'answered', sdp: r.remote.sdp, dialog: this.track(r, log), ...(r.remote.uri ? { contact: r.remote.uri } : {}) };
    } catch (err) {
      const e = err as SipError;
      if (typeof e.status !== 'number') return { kind: 'unavailable', why: e.message ?? String(err) };
      this.metrics.sipResponses.inc({ direction: 'in', status: String(e.status) });
      // drachtio-server answers 408 itself after Timer B (A.7).
      if (e.status === 408) return { kind: 'timeout' };
      log.info('INVITE refused', { status: e.status, reason: e.reason });
      return { kind: 'rejected', status: e.status, reason: e.reason ?? '' };
    } finally {
      clearTimeout(timer);
    }
  }

  /** SipRouter handler for INVITE. */
  readonly handler = async (req: SrfRequest, res: SrfResponse, log: Logger): Promise<void> => {
    const handlers = this.handlers;
    if (handlers === undefined) {
      res.send(503, 'Service Unavailable', { headers: { 'Retry-After': '30' } });
      return;
    }
    const ct = parseContentType(req.get('Content-Type'));
    if (!req.body || ct?.mime !== 'application/sdp') {
      // No offer in the INVITE: the gateway makes no offers in a 2xx (RFC 3264 late offer is not supported).
      res.send(488, 'Not Acceptable Here', { headers: { Warning: '399 gateway "An SDP offer is required"' } });
      return;
    }
    const fromUri = uriFromNameAddr(req.get('From') ?? '');
    const contactUri = uriFromNameAddr(req.get('Contact') ?? '');
    if (fromUri === undefined) {
      res.send(400, 'Malformed From');
      return;
    }
    const decision = await handlers.onInvite({
      fromUri, targetUri: req.uri, callId: req.get('Call-ID') ?? '', sdp: req.body, ...(contactUri !== undefined ? { contactUri } : {}),
    }, log);
    if (!decision.accept) {
      res.send(decision.status, decision.reason, decision.headers ? { headers: decision.headers } : {});
      return;
    }
    try {
      const dlg = await this.srf.createUAS(req, res, { localSdp: decision.sdp });
      decision.established(this.track(dlg, log));
    } catch (err) {
      log.info('INVITE could not be answered', { err: err instanceof Error ? err.message : String(err) });
      decision.failed(err instanceof Error ? err.message : String(err));
    }
  };

  private track(dlg: InviteDialog, log: Logger): ChatDialog {
    const d = new LiveDialog(dlg, log, () => this.live.delete(d));
    this.live.add(d);
    return d;
  }
}

class LiveDialog implements ChatDialog {
  readonly callId: string;
  private listeners: Array<() => void> = [];
  private done = false;

  constructor(private readonly dlg: InviteDialog, private readonly log: Logger, private readonly forget: () => void) {
    this.callId = dlg.sip.callId;
    dlg.on('destroy', () => this.ended());
  }

  onEnded(listener: () => void): void {
    if (this.done) listener();
    else this.listeners.push(listener);
  }

  /** The far end hung up, or the dialog died with the connection. */
  ended(): void {
    if (this.done) return;
    this.done = true;
    this.forget();
    for (const l of this.listeners.splice(0)) l();
  }

  async bye(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.forget();
    this.listeners = [];
    try {
      await this.dlg.destroy();
    } catch (err) {
      this.log.info('BYE failed', { callId: this.callId, err: err instanceof Error ? err.message : String(err) });
    }
  }
}
