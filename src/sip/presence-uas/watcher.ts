// One accepted presence subscription: the NOTIFYs of its dialog, one at a
// time and at most one per rate window (RFC 3856 §6.10), the latest state
// winning; the terminating NOTIFY (RFC 6665 §4.1.3); and the expiry timer.
import type { EventEmitter } from 'node:events';
import type { PresenceDoc } from '../../core/presence/model.js';
import type { Logger } from '../../log/logger.js';
import type { Metrics } from '../../http/metrics.js';
import { PIDF_CONTENT_TYPE, buildPidf } from '../bodies/pidf.js';
import type { SrfRequest, SrfResponse } from '../srf-types.js';
import { safeLanguage } from './headers.js';
import type { GoneReason, NotifyOutcome, SubscriptionState, TerminationReason, Watcher } from './types.js';

/** The response srf resolves dlg.request() with. */
export interface SrfUacResponse {
  status: number;
  reason?: string;
}

/** The part of srf's Dialog (lib/dialog.js) a SUBSCRIBE dialog uses. */
export interface SrfDialog extends EventEmitter {
  readonly id: string;
  /** srf keeps the dialog's tags here (lib/dialog.js). */
  readonly sip: { callId: string; localTag: string; remoteTag: string };
  readonly local: { uri: string; contact?: string };
  readonly remote: { uri: string };
  request(opts: { method: string; headers?: Record<string, string>; body?: string }): Promise<SrfUacResponse>;
  /** In-dialog SUBSCRIBE with Expires != 0; with no listener srf answers 489 (A.8). */
  on(event: 'subscribe', listener: (req: SrfRequest, res: SrfResponse) => void): this;
  /** In-dialog SUBSCRIBE with Expires: 0, already answered 202 by srf (A.8). */
  on(event: 'unsubscribe', listener: (req: SrfRequest, reason: string) => void): this;
}

/**
 * A NOTIFY whose response never comes back (srf drops pending requests with
 * its connection, A.4) counts as failed after this; drachtio-server's own
 * Timer F (32 s) answers 408 before it in every other case.
 */
const NOTIFY_GUARD_MS = 40_000;

interface Job {
  state: SubscriptionState;
  body: string | undefined;
  lang: string | undefined;
  waiters: Array<(o: NotifyOutcome) => void>;
}

/** What the watcher needs from the notifier that owns it. */
export interface WatcherHost {
  readonly rateLimitMs: number;
  readonly log: Logger;
  readonly metrics?: Metrics | undefined;
  /** Forget the watcher (registry, srf dialog). */
  release(w: WatcherImpl): void;
  /** The expiry timer fired. */
  expired(w: WatcherImpl): void;
  /** A NOTIFY failed: the watcher is gone. */
  gone(w: WatcherImpl, why: GoneReason): void;
}

export function bodyOf(doc: PresenceDoc | undefined): string | undefined {
  return doc === undefined ? undefined : buildPidf(doc);
}

export class WatcherImpl implements Watcher {
  readonly dialogId: string;
  readonly contactUri: string;
  readonly localTag: string;
  readonly remoteTag: string;
  private expiry: number;
  private ended = false;
  private dead = false;
  private closing: Promise<void> | undefined;
  private pending: Job | undefined;
  private inFlight: Promise<NotifyOutcome> | undefined;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private windowTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  /** The last state requested (sent or queued), re-sent after a refresh (RFC 6665 §4.2.1.2). */
  private last: { state: SubscriptionState; body: string | undefined; lang: string | undefined } = {
    state: 'pending', body: undefined, lang: undefined,
  };
  /** Settles the NOTIFY in flight as failed (the link is gone). */
  private abortSend: (() => void) | undefined;
  /** notify() calls so far; the notifier compares it around onRefresh. */
  notifyCalls = 0;

  constructor(
    private readonly host: WatcherHost,
    readonly dlg: SrfDialog,
    readonly watcherUri: string,
    readonly targetUri: string,
    readonly callId: string,
    /** The SUBSCRIBE's Event value, echoed in every NOTIFY (RFC 6665 §8.2.1, `id` included). */
    private readonly event: string,
    expiresSec: number,
  ) {
    this.dialogId = dlg.id;
    this.contactUri = dlg.remote.uri;
    this.localTag = dlg.sip.localTag;
    this.remoteTag = dlg.sip.remoteTag;
    this.expiry = Date.now() + expiresSec * 1000;
    // A fetch (0) ends with its only NOTIFY, not by a timer.
    if (expiresSec > 0) this.armExpiry();
  }

  get expiresAt(): number {
    return this.expiry;
  }

  get alive(): boolean {
    return !this.ended;
  }

  notify(s: { state: SubscriptionState }, doc?: PresenceDoc, lang?: string): Promise<NotifyOutcome> {
    if (s.state !== 'pending' && s.state !== 'active') throw new TypeError(`invalid subscription state ${JSON.stringify(s.state)}`);
    const body = bodyOf(doc); // throws for a document PIDF cannot carry, before anything changes
    this.notifyCalls += 1;
    if (this.ended) return Promise.resolve('gone');
    return this.enqueue(s.state, body, lang ?? doc?.lang);
  }

  /** Queues a NOTIFY; the latest queued one replaces an earlier one still waiting. */
  enqueue(state: SubscriptionState, body: string | undefined, lang: string | undefined): Promise<NotifyOutcome> {
    this.last = { state, body, lang };
    return new Promise<NotifyOutcome>((resolve) => {
      const waiters = this.pending ? [...this.pending.waiters, resolve] : [resolve];
      this.pending = { state, body, lang, waiters };
      this.pump();
    });
  }

  /** Re-sends the last state (after a refresh, when the service sent nothing itself). */
  resendLast(): void {
    if (this.ended || this.pending) return;
    void this.enqueue(this.last.state, this.last.body, this.last.lang);
  }

  /** A refresh was accepted: new expiry. */
  refreshed(expiresSec: number): void {
    this.expiry = Date.now() + expiresSec * 1000;
    this.armExpiry();
  }

  terminate(reason: TerminationReason, doc?: PresenceDoc, lang?: string): Promise<void> {
    if (this.closing) return this.closing;
    let body: string | undefined;
    try {
      body = bodyOf(doc);
    } catch (err) {
      return Promise.reject(err);
    }
    this.closing = this.finish(reason, body, lang ?? doc?.lang);
    return this.closing;
  }

  /** Forgets the watcher with no NOTIFY at all (the link is gone, A.4). */
  drop(): void {
    this.dead = true;
    this.quiesce();
    this.abortSend?.();
  }

  private async finish(reason: TerminationReason, body: string | undefined, lang: string | undefined): Promise<void> {
    this.quiesce();
    // One NOTIFY at a time (below); the terminating one skips the rate window.
    if (this.inFlight) await this.inFlight;
    if (!this.dead) await this.send(`terminated;reason=${reason}`, body, lang);
    this.host.release(this);
  }

  /**
   * No more NOTIFYs of the normal kind: timers off, waiting callers told
   * 'gone'. The notifier calls it as soon as the subscription is ending,
   * while it asks the service for the final body.
   */
  quiesce(): void {
    this.ended = true;
    clearTimeout(this.windowTimer);
    clearTimeout(this.expiryTimer);
    this.windowTimer = undefined;
    const waiting = this.pending;
    this.pending = undefined;
    for (const w of waiting?.waiters ?? []) w('gone');
  }

  private armExpiry(): void {
    clearTimeout(this.expiryTimer);
    const ms = Math.max(0, this.expiry - Date.now());
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      if (!this.ended) this.host.expired(this);
    }, ms);
  }

  private pump(): void {
    if (this.ended || this.inFlight || !this.pending) return;
    const wait = this.lastSentAt + this.host.rateLimitMs - Date.now();
    if (wait > 0) {
      this.windowTimer ??= setTimeout(() => {
        this.windowTimer = undefined;
        this.pump();
      }, wait);
      return;
    }
    const job = this.pending;
    this.pending = undefined;
    const remaining = Math.max(1, Math.ceil((this.expiry - Date.now()) / 1000));
    const sent = this.send(`${job.state};expires=${remaining}`, job.body, job.lang);
    this.inFlight = sent;
    void sent.then((outcome) => {
      this.inFlight = undefined;
      for (const w of job.waiters) w(outcome);
      if (outcome === 'gone') {
        this.dead = true;
        if (!this.ended) {
          this.quiesce();
          this.host.gone(this, 'notify-failed');
        }
        return;
      }
      this.pump();
    });
  }

  /**
   * One NOTIFY in the dialog. drachtio-server fills Request-URI (the remote
   * target), From/To with tags, Call-ID and CSeq (A.8); the Contact is the
   * one of our 2xx, as a target refresh request carries (RFC 3261 §12.2.1.1).
   * Any failure is 'gone': RFC 6665 §4.2.2 removes the subscription on 481
   * and on a timeout, and the gateway does not retry after Retry-After.
   */
  private send(subscriptionState: string, body: string | undefined, lang: string | undefined): Promise<NotifyOutcome> {
    this.lastSentAt = Date.now();
    const headers: Record<string, string> = { Event: this.event, 'Subscription-State': subscriptionState };
    if (this.dlg.local.contact) headers.Contact = this.dlg.local.contact;
    if (body !== undefined) {
      headers['Content-Type'] = PIDF_CONTENT_TYPE;
      const cl = safeLanguage(lang);
      if (cl !== undefined) headers['Content-Language'] = cl;
    }
    this.host.metrics?.sipRequests.inc({ direction: 'out', method: 'NOTIFY' });
    return new Promise<NotifyOutcome>((resolve) => {
      const guard = setTimeout(() => done('gone', 'no response'), NOTIFY_GUARD_MS);
      guard.unref();
      this.abortSend = () => done('gone', 'drachtio link lost');
      let settled = false;
      const done = (outcome: NotifyOutcome, why?: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(guard);
        this.abortSend = undefined;
        if (why !== undefined) this.host.log.info('presence NOTIFY failed', { dialogId: this.dialogId, state: subscriptionState, why });
        resolve(outcome);
      };
      let request: Promise<SrfUacResponse>;
      try {
        request = this.dlg.request({ method: 'NOTIFY', headers, ...(body !== undefined ? { body } : {}) });
      } catch (err) {
        done('gone', String(err));
        return;
      }
      request.then((res) => {
        this.host.metrics?.sipResponses.inc({ direction: 'in', status: String(res.status) });
        if (res.status >= 200 && res.status < 300) done('ok');
        else done('gone', `${res.status} ${res.reason ?? ''}`.trim());
      }, (err: unknown) => done('gone', err instanceof Error ? err.message : String(err)));
    });
  }
}
