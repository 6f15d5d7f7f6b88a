// One live presence subscription: its SUBSCRIBE dialog, state, timers,
// refresh and unsubscribe (RFC 6665 §4.1.2, §4.1.3; RFC 8048 §5.2).
import type { SrfRequest, SrfResponse } from '../srf-types.js';
import { parseDeltaSeconds, parseRetryAfter } from './headers.js';
import { answer, readNotify } from './notify.js';
import { checkExpires, dialogHeaders } from './request.js';
import { absorbTerminatingNotify, dropDialog, type SrfCallbackError, type SrfDialogs, type SubscribeDialog, type UacResponse } from './srf-uac.js';
import {
  MAX_EXPIRES, type EndReason, type RefreshOutcome, type Subscription, type SubscriptionEvent, type SubscriptionState,
} from './types.js';

/** What a subscription needs from its PresenceSubscriber. */
export interface SubscriptionHost {
  readonly srf: SrfDialogs;
  readonly requestTimeoutMs: number;
  readonly unsubscribeGraceMs: number;
  isUp(): boolean;
  /** Drops the subscription from the registry. */
  forget(sub: LiveSubscription): void;
  /** Calls the caller's onEvent, containing what it throws. */
  deliver(onEvent: (e: SubscriptionEvent) => void, e: SubscriptionEvent): void;
  count(direction: 'in' | 'out', what: { method?: string; status?: number }): void;
}

/** The granted duration: the 2xx Expires, never beyond what was asked (RFC 6665 §4.1.2.1); absent → as asked. */
export function grantedExpires(res: UacResponse, asked: number): number {
  const e = parseDeltaSeconds(res.get('Expires'));
  return e === undefined ? asked : Math.min(e, asked);
}

type InDialogResult = { kind: 'response'; res: UacResponse } | { kind: 'timeout' } | { kind: 'error'; err: SrfCallbackError };

export class LiveSubscription implements Subscription {
  readonly dialogId: string;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string | undefined;
  private current: SubscriptionState = 'pending';
  private until: number;
  /** Latest moment the notifier may keep it: when the last SUBSCRIBE was sent plus what it asked. */
  private ceiling: number;
  private expiryTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private done = false;
  private unsubscribing = false;
  /** Events wait until subscribe() has resolved, so the caller holds the Subscription first. */
  private queue: SubscriptionEvent[] | undefined = [];

  constructor(
    private readonly host: SubscriptionHost,
    private readonly dialog: SubscribeDialog,
    private readonly onEvent: (e: SubscriptionEvent) => void,
    sentAt: number,
    asked: number,
    granted: number,
  ) {
    this.dialogId = dialog.id;
    this.callId = dialog.sip.callId;
    this.localTag = dialog.sip.localTag;
    this.remoteTag = dialog.sip.remoteTag || undefined;
    this.ceiling = sentAt + asked * 1000;
    this.until = sentAt + granted * 1000;
    this.armExpiry();
  }

  get expiresAt(): number {
    return this.until;
  }
  get state(): SubscriptionState {
    return this.current;
  }
  get ended(): boolean {
    return this.done;
  }

  /** The dialog's NOTIFY listener. */
  readonly sink = (req: SrfRequest, res: SrfResponse): void => this.onNotify(req, res);

  /** Starts delivering events (queued ones first). */
  release(): void {
    const queued = this.queue ?? [];
    this.queue = undefined;
    for (const e of queued) this.host.deliver(this.onEvent, e);
  }

  refresh(expires: number): Promise<RefreshOutcome> {
    checkExpires(expires, 'refresh expires');
    return this.refreshWith(expires, false);
  }

  private async refreshWith(expires: number, retried: boolean): Promise<RefreshOutcome> {
    if (this.done || this.unsubscribing) return { kind: 'ended' };
    if (!this.host.isUp()) return { kind: 'unavailable', why: 'drachtio link down' };
    const sentAt = Date.now();
    const r = await this.inDialog(expires);
    if (r.kind === 'timeout') return r;
    if (r.kind === 'error') {
      // A.8: drachtio-server no longer has the dialog (e.g. it dropped it on a terminating NOTIFY, A.12).
      if (r.err.code === 'ENODIALOG') {
        this.finish('terminated');
        return { kind: 'ended' };
      }
      return { kind: 'unavailable', why: r.err.message };
    }
    const { res } = r;
    if (this.done) return { kind: 'ended' };
    if (res.status < 300) {
      const granted = grantedExpires(res, expires);
      if (!this.unsubscribing) {
        this.ceiling = sentAt + expires * 1000;
        this.until = sentAt + granted * 1000;
        this.armExpiry();
      }
      return { kind: 'refreshed', expires: granted };
    }
    // RFC 6665 §4.1.2.2: a 481 ends the subscription; other failures leave it valid until it expires.
    if (res.status === 481) {
      this.finish('terminated');
      return { kind: 'ended' };
    }
    if (res.status === 408) return { kind: 'timeout' };
    const minExpires = parseDeltaSeconds(res.get('Min-Expires'));
    // RFC 6665 §4.2.1.1 / RFC 3261 §21.4.17: 423 names the shortest interval the notifier takes; one retry.
    if (res.status === 423 && !retried && minExpires !== undefined && minExpires > expires && minExpires <= MAX_EXPIRES) {
      return this.refreshWith(minExpires, true);
    }
    const retryAfter = parseRetryAfter(res.get('Retry-After'));
    return {
      kind: 'rejected', status: res.status, reason: res.reason,
      ...(minExpires !== undefined ? { minExpires } : {}), ...(retryAfter !== undefined ? { retryAfter } : {}),
    };
  }

  async unsubscribe(): Promise<void> {
    if (this.done || this.unsubscribing) return;
    this.unsubscribing = true;
    this.clearTimers();
    // RFC 6665 §4.1.2.3: the notifier answers, then sends a NOTIFY with terminated (reason=timeout).
    this.graceTimer = setTimeout(() => this.finish('unsubscribed'), this.host.unsubscribeGraceMs);
    this.graceTimer.unref();
    if (!this.host.isUp()) {
      this.finish('unsubscribed');
      return;
    }
    const r = await this.inDialog(0);
    // Anything but a 2xx: no terminating NOTIFY is coming (481, no dialog) or we cannot tell; end it here.
    if (r.kind !== 'response' || r.res.status >= 300) this.finish('unsubscribed');
  }

  /** Ends it because of something outside the dialog (connection loss). */
  endBy(why: EndReason): void {
    this.finish(why);
  }

  /** Stops it without events (the PresenceSubscriber is closing). */
  discard(): void {
    if (this.done) return;
    this.done = true;
    this.queue = undefined;
    this.clearTimers();
    dropDialog(this.host.srf, this.dialog);
    this.dialog.removeAllListeners('notify');
  }

  private onNotify(req: SrfRequest, res: SrfResponse): void {
    this.host.count('in', { method: 'NOTIFY' });
    const v = readNotify(req);
    const status = v.ok ? 200 : v.status;
    if (v.ok ? answer(res, 200, 'OK') : answer(res, v.status, v.reason, v.headers)) this.host.count('out', { status });
    absorbTerminatingNotify(this.dialog, req);
    if (this.done) return;
    if (!v.ok) {
      this.emit({ kind: 'refused-notify', status: v.status, why: v.why });
      // A.12 Quirk 1: drachtio-server drops the dialog on any terminating NOTIFY.
      if (v.terminated) this.finish(this.unsubscribing ? 'unsubscribed' : 'terminated');
      return;
    }
    const s = v.state;
    // An extension substate (RFC 6665 §8.4) neither ends the subscription (only
    // "terminated" does) nor grants or withdraws authorization: keep the last state.
    const state = s.known ?? this.current;
    const e: Extract<SubscriptionEvent, { kind: 'notify' }> = { kind: 'notify', state, substate: s.substate };
    if (state === 'terminated') {
      if (s.reason !== undefined) e.reason = s.reason;
      if (s.retryAfter !== undefined) e.retryAfter = s.retryAfter;
    } else if (s.expires !== undefined && !this.unsubscribing) {
      // RFC 6665 §4.1.3: the NOTIFY's expires is authoritative; it may shorten, not lengthen
      // (rounded up: the ms since our SUBSCRIBE went out are not the notifier's doing).
      const now = Date.now();
      const left = Math.min(s.expires, Math.max(0, Math.ceil((this.ceiling - now) / 1000)));
      this.until = now + left * 1000;
      this.armExpiry();
      e.expires = left;
    }
    if (v.doc) e.doc = v.doc;
    if (v.lang) e.lang = v.lang;
    this.current = state;
    this.emit(e);
    if (state === 'terminated') this.finish(this.unsubscribing ? 'unsubscribed' : 'terminated');
  }

  private inDialog(expires: number): Promise<InDialogResult> {
    this.host.count('out', { method: 'SUBSCRIBE' });
    return new Promise<InDialogResult>((resolve) => {
      let settled = false;
      const settle = (r: InDialogResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (r.kind === 'response') this.host.count('in', { status: r.res.status });
        resolve(r);
      };
      // Covers a response lost with the drachtio connection (srf forgets pending requests, A.4).
      const timer = setTimeout(() => settle({ kind: 'timeout' }), this.host.requestTimeoutMs);
      try {
        this.dialog.request({ method: 'SUBSCRIBE', headers: dialogHeaders(expires) }, (err, res) => {
          if (err) settle({ kind: 'error', err });
          else if (res && res.status >= 200) settle({ kind: 'response', res });
        });
      } catch (err) {
        settle({ kind: 'error', err: err instanceof Error ? err : new Error(String(err)) });
      }
    });
  }

  private armExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => this.finish('expired'), Math.max(0, this.until - Date.now()));
    this.expiryTimer.unref();
  }

  private clearTimers(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.expiryTimer = undefined;
    this.graceTimer = undefined;
  }

  private emit(e: SubscriptionEvent): void {
    if (this.queue) this.queue.push(e);
    else this.host.deliver(this.onEvent, e);
  }

  /** Ends it once: timers, srf's Dialog (A.12 Quirk 1: srf never removes it itself), registry, event. */
  private finish(why: EndReason): void {
    if (this.done) return;
    this.done = true;
    this.current = 'terminated';
    this.clearTimers();
    dropDialog(this.host.srf, this.dialog);
    this.dialog.removeAllListeners('notify');
    this.host.forget(this);
    this.emit({ kind: 'ended', why });
  }
}
