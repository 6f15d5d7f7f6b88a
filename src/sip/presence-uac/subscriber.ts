// The SIP subscriber side of presence: the gateway subscribes to a SIP
// contact's presence on behalf of an XMPP user (RFC 8048 §5.2, RFC 6665,
// RFC 3856). A protocol adapter: the presence service decides when to
// subscribe, refresh, unsubscribe or poll, and maps what it is told.
import { SipLink } from '../link.js';
import type { SrfApp, SrfRequest, SrfResponse } from '../srf-types.js';
import { parseDeltaSeconds, parseRetryAfter } from './headers.js';
import { answer, readNotify } from './notify.js';
import { checkRequest, initialHeaders } from './request.js';
import { absorbTerminatingNotify, dropDialog, sendInitialSubscribe, type SrfDialogs, type SubscribeDialog } from './srf-uac.js';
import { LiveSubscription, grantedExpires, type SubscriptionHost } from './subscription.js';
import {
  MAX_EXPIRES, type FetchOutcome, type PresenceSubscriberOptions, type SubscribeOutcome, type SubscribeRequest,
  type Subscription, type SubscriptionEvent,
} from './types.js';

const DEFAULT_REQUEST_TIMEOUT_MS = 40_000;
/** 64*T1 (RFC 3261 §17.1.2.2): time enough for the terminating NOTIFY's own transaction. */
const DEFAULT_UNSUBSCRIBE_GRACE_MS = 32_000;

const rethrowLater = (err: unknown): void => {
  setImmediate(() => {
    throw err;
  });
};

/** An initial SUBSCRIBE (or poll) still waiting for its outcome. */
interface Attempt {
  abandon(why: string): void;
}

export class PresenceSubscriber {
  private readonly srf: SrfDialogs;
  private readonly live = new Map<string, LiveSubscription>();
  private readonly attempts = new Set<Attempt>();
  private readonly host: SubscriptionHost;
  private readonly requestTimeoutMs: number;
  private readonly unwatch: () => void;
  private closed = false;
  /** Bare srf only: between 'close' and the next 'connect'. */
  private srfUp = true;

  /**
   * One per gateway. `link` is the SipLink (its 'down' ends every
   * subscription, A.4) or, in tests and tools, a connected srf (its 'close').
   */
  constructor(private readonly link: SipLink | SrfApp, private readonly opts: PresenceSubscriberOptions) {
    if (!Number.isInteger(opts.maxSubscriptions) || opts.maxSubscriptions < 1) {
      throw new TypeError('maxSubscriptions must be a positive integer');
    }
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const srf = link instanceof SipLink ? link.srf : link;
    this.srf = srf as unknown as SrfDialogs;
    const lost = (): void => this.connectionLost();
    if (link instanceof SipLink) {
      link.on('down', lost);
      this.unwatch = () => link.off('down', lost);
    } else {
      const onConnect = (err: Error | null): void => {
        if (!err) this.srfUp = true;
      };
      const onClose = (): void => {
        this.srfUp = false;
        lost();
      };
      link.on('connect', onConnect);
      link.on('close', onClose);
      this.unwatch = () => {
        link.off('connect', onConnect);
        link.off('close', onClose);
      };
    }
    this.host = {
      srf: this.srf,
      requestTimeoutMs: this.requestTimeoutMs,
      unsubscribeGraceMs: opts.unsubscribeGraceMs ?? DEFAULT_UNSUBSCRIBE_GRACE_MS,
      isUp: () => this.isUp(),
      forget: (sub) => {
        if (this.live.get(sub.dialogId) === sub) this.live.delete(sub.dialogId);
      },
      deliver: (onEvent, e) => this.deliver(onEvent, e),
      count: (direction, what) => this.count(direction, what),
    };
  }

  /** Live subscriptions plus initial SUBSCRIBEs and polls in progress (what the cap bounds). */
  get size(): number {
    return this.live.size + this.attempts.size;
  }

  /** The live subscription of a dialog, if any. */
  find(dialogId: string): Subscription | undefined {
    return this.live.get(dialogId);
  }

  /** For Metrics.watchTables. */
  get tableSizes(): Record<string, number> {
    return { presence_subscriptions: this.live.size, presence_subscribes_pending: this.attempts.size };
  }

  /**
   * SUBSCRIBE in a new dialog (RFC 8048 §5.2.1, RFC 6665 §4.1.2.1). A 423 is
   * retried once, inside, with its Min-Expires when that is longer than asked
   * (RFC 6665 §4.2.1.1); the outcome is the final one. `onEvent` is never
   * called before the returned promise has resolved. Throws a TypeError only
   * for a malformed request.
   */
  subscribe(req: SubscribeRequest, onEvent: (e: SubscriptionEvent) => void): Promise<SubscribeOutcome> {
    checkRequest(req, true);
    if (typeof onEvent !== 'function') throw new TypeError('onEvent must be a function');
    return this.subscribeWithRetry(req, onEvent);
  }

  private async subscribeWithRetry(req: SubscribeRequest, onEvent: (e: SubscriptionEvent) => void): Promise<SubscribeOutcome> {
    const first = await this.attempt(req, req.expires, onEvent);
    if (first.kind !== 'rejected' || first.status !== 423) return first;
    const min = first.minExpires;
    if (min === undefined || min <= req.expires || min > MAX_EXPIRES) return first;
    return this.attempt(req, min, onEvent);
  }

  /**
   * A poll: SUBSCRIBE Expires: 0 in a new dialog (RFC 8048 §7.1, RFC 6665
   * §4.4.3); resolves with the first NOTIFY's body, then forgets the dialog.
   */
  fetch(req: Omit<SubscribeRequest, 'expires'>, timeoutMs: number): Promise<FetchOutcome> {
    checkRequest(req, false);
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new TypeError('timeoutMs must be a positive number');
    }
    const refused = this.refusal();
    if (refused) return Promise.resolve({ kind: 'unavailable', why: refused });
    return new Promise<FetchOutcome>((resolve) => {
      let finished = false;
      let dialog: SubscribeDialog | undefined;
      const finish = (o: FetchOutcome): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        this.attempts.delete(attempt);
        if (dialog) {
          // The poll's subscription is over (expires 0); drachtio-server drops its side on the terminated NOTIFY.
          dropDialog(this.srf, dialog);
          dialog.removeAllListeners('notify');
        }
        resolve(o);
      };
      this.count('out', { method: 'SUBSCRIBE' });
      const initial = sendInitialSubscribe(this.srf, req.targetUri, initialHeaders(req, 0), req.proxy, (d) => {
        dialog = d;
        return (nreq, nres) => finish(this.pollNotify(d, nreq, nres));
      });
      const attempt: Attempt = {
        abandon: (why) => {
          initial.abandon();
          finish({ kind: 'unavailable', why });
        },
      };
      this.attempts.add(attempt);
      const timer = setTimeout(() => {
        initial.abandon();
        finish({ kind: 'timeout' });
      }, timeoutMs);
      void initial.done.then((r) => {
        if (r.kind === 'dialog') this.count('in', { status: r.dialog.res.status });
        else if (r.kind === 'failed') {
          this.count('in', { status: r.status });
          finish(r.status === 408 ? { kind: 'timeout' } : { kind: 'rejected', status: r.status, reason: r.reason });
        } else finish({ kind: 'unavailable', why: r.why });
      });
    });
  }

  /**
   * A SipRouter handler for NOTIFYs that reach the router, i.e. in no dialog
   * srf knows (after the subscription ended here): 481, so that the notifier
   * ends its side (RFC 6665 §4.1.3).
   */
  readonly handleStrayNotify = (_req: SrfRequest, res: SrfResponse): void => {
    this.count('in', { method: 'NOTIFY' });
    if (answer(res, 481, 'Subscription Does Not Exist')) this.count('out', { status: 481 });
  };

  /** Stops everything without events: in-progress requests resolve 'unavailable', timers are cleared, dialogs forgotten. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch();
    for (const a of [...this.attempts]) a.abandon('presence subscriber closed');
    for (const sub of this.live.values()) sub.discard();
    this.live.clear();
  }

  private attempt(req: SubscribeRequest, expires: number, onEvent: (e: SubscriptionEvent) => void): Promise<SubscribeOutcome> {
    const refused = this.refusal();
    if (refused) return Promise.resolve({ kind: 'unavailable', why: refused });
    return new Promise<SubscribeOutcome>((resolve) => {
      let finished = false;
      let sub: LiveSubscription | undefined;
      let granted = expires;
      const sentAt = Date.now();
      const finish = (o: SubscribeOutcome): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        this.attempts.delete(attempt);
        resolve(o);
        // Events start after the caller has the outcome (its await resumes in a microtask).
        if (sub) setImmediate(() => sub?.release());
      };
      this.count('out', { method: 'SUBSCRIBE' });
      const initial = sendInitialSubscribe(this.srf, req.targetUri, initialHeaders(req, expires), req.proxy, (dialog) => {
        granted = grantedExpires(dialog.res, expires);
        sub = new LiveSubscription(this.host, dialog, onEvent, sentAt, expires, granted);
        this.live.set(sub.dialogId, sub);
        return sub.sink;
      });
      const attempt: Attempt = {
        abandon: (why) => {
          initial.abandon();
          finish({ kind: 'unavailable', why });
        },
      };
      this.attempts.add(attempt);
      const timer = setTimeout(() => {
        initial.abandon();
        finish({ kind: 'timeout' });
      }, this.requestTimeoutMs);
      void initial.done.then((r) => {
        if (r.kind === 'dialog') {
          this.count('in', { status: r.dialog.res.status });
          if (sub) finish({ kind: 'accepted', subscription: sub, expires: granted });
          return;
        }
        if (r.kind === 'error') {
          finish({ kind: 'unavailable', why: r.why });
          return;
        }
        this.count('in', { status: r.status });
        // A.7: drachtio-server answers 408 itself when nothing came back (Timer F).
        if (r.status === 408) {
          finish({ kind: 'timeout' });
          return;
        }
        const minExpires = parseDeltaSeconds(r.res?.get('Min-Expires'));
        const retryAfter = parseRetryAfter(r.res?.get('Retry-After'));
        finish({
          kind: 'rejected', status: r.status, reason: r.reason,
          ...(minExpires !== undefined ? { minExpires } : {}), ...(retryAfter !== undefined ? { retryAfter } : {}),
        });
      });
    });
  }

  /** The first NOTIFY of a poll: answered like any other, its body is the result. */
  private pollNotify(dialog: SubscribeDialog, req: SrfRequest, res: SrfResponse): FetchOutcome {
    this.count('in', { method: 'NOTIFY' });
    const v = readNotify(req);
    const status = v.ok ? 200 : v.status;
    if (v.ok ? answer(res, 200, 'OK') : answer(res, v.status, v.reason, v.headers)) this.count('out', { status });
    absorbTerminatingNotify(dialog, req);
    if (!v.ok) return { kind: 'doc', invalid: v.why };
    const out: FetchOutcome = { kind: 'doc' };
    if (v.state.known) out.state = v.state.known;
    if (v.doc) out.doc = v.doc;
    if (v.lang) out.lang = v.lang;
    return out;
  }

  private refusal(): string | undefined {
    if (this.closed) return 'presence subscriber closed';
    if (this.link instanceof SipLink && this.link.mode === 'outbound') {
      // A.11: one drachtio connection per request; a dialog cannot outlive it.
      return 'drachtio outbound mode cannot hold subscriptions';
    }
    if (!this.isUp()) return 'drachtio link down';
    if (this.size >= this.opts.maxSubscriptions) return `too many presence subscriptions (${this.opts.maxSubscriptions})`;
    return undefined;
  }

  private isUp(): boolean {
    if (this.closed) return false;
    return this.link instanceof SipLink ? this.link.isUp : this.srfUp;
  }

  /** A.4: dialogs die with the drachtio connection on the app side; in-progress requests are forgotten by srf. */
  private connectionLost(): void {
    for (const a of [...this.attempts]) a.abandon('drachtio connection lost');
    for (const sub of [...this.live.values()]) sub.endBy('connection-lost');
  }

  private deliver(onEvent: (e: SubscriptionEvent) => void, e: SubscriptionEvent): void {
    try {
      onEvent(e);
    } catch (err) {
      (this.opts.onListenerError ?? rethrowLater)(err);
    }
  }

  private count(direction: 'in' | 'out', what: { method?: string; status?: number }): void {
    const m = this.opts.metrics;
    if (!m) return;
    if (what.method !== undefined) m.sipRequests.inc({ direction, method: what.method });
    if (what.status !== undefined) m.sipResponses.inc({ direction, status: String(what.status) });
  }
}
