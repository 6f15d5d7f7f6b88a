// The drachtio test double driven from the benchmark process: it answers the
// gateway's requests and reads the gateway's final responses to the requests
// the benchmark injected (the double plays every SIP user).
import type {
  DrachtioDouble, FrameRecord, InboundTransaction, OutboundRequest, SipMessage, WireRecord,
} from '../spec/support/drachtio-double/index.js';

/** Requests the benchmark injected, by the double's transaction id, until their final response. */
export class Injected<R extends { tx: InboundTransaction }> {
  private readonly byTxn = new Map<string, R>();

  /** Tracks `rec`; returns why not when the double did not route the request (`what`) to the gateway. */
  track(rec: R, what: string): string | undefined {
    const txnId = rec.tx.txnId;
    if (!txnId || !rec.tx.routed) {
      const final = rec.tx.responses.find((r) => r.status >= 200);
      return `double did not route the ${what}${final ? ` (${final.status})` : ''}`;
    }
    this.byTxn.set(txnId, rec);
    return undefined;
  }

  /** The record of transaction `txnId` and its final response, once it has one; the record is then forgotten. */
  takeFinal(txnId: string): { rec: R; final: SipMessage } | undefined {
    const rec = this.byTxn.get(txnId);
    const final = rec?.tx.responses.find((r) => r.status >= 200);
    if (!rec || !final) return undefined;
    this.byTxn.delete(txnId);
    return { rec, final };
  }
}

export interface ServeOptions<R extends { tx: InboundTransaction }> {
  /** A request the gateway sent (not those the double answers itself); it must be answered. */
  onRequest(req: OutboundRequest): void;
  /** What onRequest threw; without it, the error is thrown on. */
  onError?(req: OutboundRequest, err: Error): void;
  injected?: Injected<R>;
  /** The gateway's final response to an injected request. */
  onFinal?(rec: R, final: SipMessage): void;
  /**
   * Trim the double's records (every frame and SIP message, kept for tests)
   * that the benchmark does not read: at tens of thousands of dialogs they are
   * hundreds of MB in this process.
   */
  trim?: boolean;
}

/**
 * Answers from the double's `frame` events: frames from the gateway are
 * handled synchronously by the double after this event, so a microtask runs
 * once the whole chunk has been processed and handles every new request and
 * final response at once.
 */
export function serveDouble<R extends { tx: InboundTransaction }>(double: DrachtioDouble, opts: ServeOptions<R>): void {
  let cursor = 0;
  let scheduled = false;
  const responseTxns: string[] = [];
  const drain = (): void => {
    scheduled = false;
    const reqs = double.requests as OutboundRequest[];
    while (cursor < reqs.length) {
      const req = reqs[cursor++]!;
      if (req.auto) continue;
      try {
        opts.onRequest(req);
      } catch (err) {
        if (!opts.onError) throw err;
        opts.onError(req, err as Error);
      }
    }
    for (const txnId of responseTxns.splice(0)) {
      const done = opts.injected?.takeFinal(txnId);
      if (done) opts.onFinal?.(done.rec, done.final);
    }
    if (!opts.trim) return;
    if (cursor > 2000) {
      reqs.splice(0, cursor);
      cursor = 0;
    }
    if (double.frames.length > 20000) double.frames.length = 0;
    const wire = double.wire as WireRecord[];
    if (wire.length > 20000) wire.length = 0;
  };
  double.on('frame', (f: FrameRecord) => {
    if (f.direction !== 'app->server' || f.tokens[1] !== 'sip') return;
    if (f.body?.startsWith('SIP/2.0 ')) responseTxns.push(f.tokens[2] ?? '');
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(drain);
    }
  });
}
