// The gateway as the SIP *notifier* for presence (RFC 8048 §5.3, RFC 6665,
// RFC 3856): checks and answers SUBSCRIBEs, keeps the bounded table of
// accepted subscriptions by dialog id, and hands the presence service a
// Watcher per subscription; the service decides and supplies the documents,
// the adapter owns the SIP obligations. How srf routes the requests: see
// ../presence-uas.ts.
import type { EventEmitter } from 'node:events';
import type { Logger } from '../../log/logger.js';
import type { Metrics } from '../../http/metrics.js';
import type { SipLink } from '../link.js';
import type { SipHandler } from '../router.js';
import type { SrfApp, SrfRequest, SrfResponse } from '../srf-types.js';
import { checkNewSubscribe, checkOptions, checkRefresh, serviceRefusal, type Refusal } from './checks.js';
import type { FinalDoc, GoneReason, PresenceNotifierOptions, WatcherHandlers, WatcherRequest } from './types.js';
import { WatcherImpl, bodyOf, type SrfDialog, type WatcherHost } from './watcher.js';

/** srf's createUAS and removeDialog (lib/srf.js), which srf-types.ts does not cover. */
interface SrfDialogApi {
  createUAS(req: SrfRequest, res: SrfResponse, opts: { headers: Record<string, string> }): Promise<SrfDialog>;
  removeDialog(dlg: SrfDialog): void;
}

/** 503 with Retry-After when the table is full or no service is attached (RFC 3261 §21.5.4). */
const UNAVAILABLE: Refusal = { status: 503, reason: 'Service Unavailable', headers: { 'Retry-After': '60' } };
const TIMED_OUT = Symbol('timed out');

function within<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function isSipLink(x: SipLink | SrfApp): x is SipLink {
  return 'srf' in x && typeof (x as SipLink).start === 'function';
}

export class PresenceNotifier implements WatcherHost {
  /** Install with `router.handle('SUBSCRIBE', notifier.handler)`. */
  readonly handler: SipHandler = (req, res, log) => this.onSubscribe(req, res, log);
  readonly rateLimitMs: number;
  private readonly srf: SrfApp & SrfDialogApi;
  private readonly watchers = new Map<string, WatcherImpl>();
  /** Fetches between their 2xx and their only NOTIFY (not Watchers of the service). */
  private readonly fetching = new Set<WatcherImpl>();
  /** SUBSCRIBEs being decided: they count against maxWatchers. */
  private reserved = 0;
  private handlers: WatcherHandlers | undefined;
  private linkUp: boolean;
  private closed = false;
  private readonly unlisten: () => void;
  private readonly decisionTimeoutMs: number;
  private readonly docTimeoutMs: number;

  constructor(
    link: SipLink | SrfApp,
    private readonly opts: PresenceNotifierOptions,
    readonly log: Logger,
    readonly metrics?: Metrics,
  ) {
    checkOptions(opts);
    this.rateLimitMs = opts.rateLimitMs;
    this.decisionTimeoutMs = opts.decisionTimeoutMs ?? 2000;
    this.docTimeoutMs = opts.docTimeoutMs ?? 2000;
    // A SipLink says 'up'/'down'; a bare srf 'connect' (with an Error when refused) and 'close'.
    const sipLink = isSipLink(link) ? link : undefined;
    this.srf = (sipLink ? sipLink.srf : link) as SrfApp & SrfDialogApi;
    this.linkUp = sipLink ? sipLink.isUp : true;
    const [emitter, upEvent, downEvent]: [EventEmitter, string, string] = sipLink ? [sipLink, 'up', 'down'] : [this.srf, 'connect', 'close'];
    const up = (err?: unknown) => { if (!(err instanceof Error)) this.linkUp = true; };
    const down = () => this.linkDown();
    emitter.on(upEvent, up);
    emitter.on(downEvent, down);
    this.unlisten = () => { emitter.off(upEvent, up); emitter.off(downEvent, down); };
  }

  /** Attaches the presence service; until then SUBSCRIBEs get 503. */
  setHandlers(handlers: WatcherHandlers): void {
    this.handlers = handlers;
  }

  /** Subscriptions held (the bounded table). */
  get size(): number {
    return this.watchers.size;
  }

  /** For Metrics.watchTables. */
  get tableSizes(): Record<string, number> {
    return { presence_watchers: this.watchers.size };
  }

  /**
   * Graceful stop: every watcher gets `terminated;reason=deactivated` (RFC
   * 6665 §4.1.3: re-subscribe at once, e.g. to another instance) while the
   * link is up, within `withinMs` (default docTimeoutMs); then everything is forgotten.
   */
  async close(withinMs = this.docTimeoutMs): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.watchers.values()];
    if (this.linkUp && all.length > 0) {
      await within(Promise.allSettled(all.map((w) => w.terminate('deactivated'))), withinMs);
    }
    for (const w of [...this.watchers.values(), ...this.fetching]) {
      w.drop();
      this.release(w);
    }
    this.unlisten();
  }

  // ---------------------------------------------------------------- new SUBSCRIBE

  private async onSubscribe(req: SrfRequest, res: SrfResponse, log: Logger): Promise<void> {
    const answer = (a: Refusal) => res.send(a.status, a.reason, a.headers ? { headers: a.headers } : {});
    const checked = checkNewSubscribe(req, this.opts);
    if ('status' in checked) {
      if (checked.status === 481) log.info('SUBSCRIBE in an unknown dialog');
      answer(checked);
      return;
    }
    const handlers = this.handlers;
    if (!handlers || this.closed || !this.linkUp) {
      answer(UNAVAILABLE);
      return;
    }
    // The table is bounded; 503 is transient, unlike 403 or 603, which RFC
    // 8048 §5.2.2 makes a subscriber read as a cancelled authorization.
    if (this.watchers.size + this.fetching.size + this.reserved >= this.opts.maxWatchers) {
      log.warn('presence subscription refused: table full', { size: this.watchers.size, max: this.opts.maxWatchers });
      this.metrics?.errors.inc({ side: 'sip', kind: 'presence-table-full' });
      answer(UNAVAILABLE);
      return;
    }
    const { event, lang, ...rest } = checked;
    const wreq: WatcherRequest = { ...rest, targetUri: req.uri, isFetch: checked.expires === 0, ...(lang ? { lang } : {}) };
    this.reserved += 1;
    try {
      await this.decideAndAnswer(wreq, event, handlers, req, res, log);
    } finally {
      this.reserved -= 1;
    }
  }

  private async decideAndAnswer(
    wreq: WatcherRequest, event: string, handlers: WatcherHandlers, req: SrfRequest, res: SrfResponse, log: Logger,
  ): Promise<void> {
    const decision = await within(Promise.resolve().then(() => handlers.onSubscribe(wreq)), this.decisionTimeoutMs);
    if (decision === TIMED_OUT) {
      log.warn('presence service did not decide in time', { timeoutMs: this.decisionTimeoutMs });
      res.send(408, 'Request Timeout');
      return;
    }
    if (!decision.accept) {
      const { answer, valid } = serviceRefusal(decision);
      if (!valid) log.error('presence service refused with an invalid status', { status: decision.status });
      res.send(answer.status, answer.reason, { headers: answer.headers ?? {} });
      return;
    }
    // The service may shorten the interval, not lengthen it (RFC 6665 §4.2.1.1).
    let granted = wreq.expires;
    if (!wreq.isFetch && typeof decision.expires === 'number' && Number.isFinite(decision.expires)) {
      granted = Math.min(granted, Math.max(1, Math.floor(decision.expires)));
    }
    const initialBody = wreq.isFetch ? undefined : bodyOf(decision.doc); // a bad document throws: the router's 500
    if (this.closed || !this.linkUp) {
      res.send(UNAVAILABLE.status, UNAVAILABLE.reason, { headers: UNAVAILABLE.headers ?? {} });
      return;
    }
    let dlg: SrfDialog;
    try {
      // srf answers 202 (its createUAS does for every SUBSCRIBE); RFC 6665
      // deprecates 202 for SUBSCRIBE, and subscribers treat it as 200.
      dlg = await this.srf.createUAS(req, res, { headers: { Expires: String(granted) } });
    } catch (err) {
      if (!res.finalResponseSent) throw err;
      log.warn('presence subscription: the 2xx could not be sent', { err: err instanceof Error ? err.message : String(err) });
      return;
    }
    const w = new WatcherImpl(this, dlg, wreq.watcherUri, wreq.targetUri, wreq.callId, event, granted);
    if (wreq.isFetch) {
      await this.fetch(w, wreq, handlers, log);
      return;
    }
    this.watchers.set(w.dialogId, w);
    dlg.on('subscribe', (r, s) => this.onRefresh(w, r, s));
    dlg.on('unsubscribe', () => this.onUnsubscribe(w));
    log.info('presence subscription accepted', { dialogId: w.dialogId, expires: granted, state: decision.state ?? 'pending' });
    // RFC 6665 §4.2.1.1 and §4.2.2: a NOTIFY right after the 2xx, pending unless the service says active.
    void w.enqueue(decision.state === 'active' ? 'active' : 'pending', initialBody, decision.lang ?? decision.doc?.lang);
    this.callService(() => handlers.onWatcher?.(w), 'onWatcher');
  }

  /** RFC 6665 §4.4.3: one NOTIFY, terminated;reason=timeout, with what the service had (RFC 8048 §7.2). */
  private async fetch(w: WatcherImpl, wreq: WatcherRequest, handlers: WatcherHandlers, log: Logger): Promise<void> {
    this.fetching.add(w);
    try {
      const doc = await this.finalDoc(() => handlers.onFetch?.(wreq), 'onFetch');
      await w.terminate('timeout', doc);
      log.info('presence fetch answered', { dialogId: w.dialogId, withBody: doc !== undefined });
    } finally {
      this.fetching.delete(w);
    }
  }

  // ---------------------------------------------------------------- in the dialog

  private onRefresh(w: WatcherImpl, req: SrfRequest, res: SrfResponse): void {
    this.metrics?.sipRequests.inc({ direction: 'in', method: 'SUBSCRIBE' });
    const answer = (a: Refusal) => {
      this.metrics?.sipResponses.inc({ direction: 'out', status: String(a.status) });
      res.send(a.status, a.reason, a.headers ? { headers: a.headers } : {});
    };
    // Already ending (its terminating NOTIFY on the way): nothing to refresh.
    const expires = w.alive ? checkRefresh(req, this.opts) : { status: 481, reason: 'Call/Transaction Does Not Exist' };
    if (typeof expires !== 'number') {
      answer(expires);
      return;
    }
    answer({ status: 200, reason: 'OK', headers: { Expires: String(expires) } });
    w.refreshed(expires);
    this.log.debug('presence subscription refreshed', { dialogId: w.dialogId, expires });
    // RFC 6665 §4.2.1.2: a NOTIFY follows every accepted refresh; RFC 8048
    // §5.3.2: with the state the gateway has. The service may send a fresher one.
    const before = w.notifyCalls;
    this.callService(() => this.handlers?.onRefresh?.(w, expires), 'onRefresh');
    if (w.notifyCalls === before) w.resendLast();
  }

  /** Expires: 0 in the dialog (srf already answered 202): closed PIDF + terminated;reason=timeout (RFC 8048 §5.3.3). */
  private onUnsubscribe(w: WatcherImpl): void {
    this.metrics?.sipRequests.inc({ direction: 'in', method: 'SUBSCRIBE' });
    if (!w.alive) return;
    this.log.info('presence subscription ended by the watcher', { dialogId: w.dialogId });
    void this.end(w, () => this.handlers?.onUnsubscribe?.(w), 'onUnsubscribe');
  }

  private async end(w: WatcherImpl, ask: () => FinalDoc, what: string): Promise<void> {
    w.quiesce();
    const doc = await this.finalDoc(ask, what);
    await w.terminate('timeout', doc).catch((err: unknown) => this.log.error('terminating NOTIFY failed', { dialogId: w.dialogId, err: String(err) }));
  }

  /** A document from the service, within docTimeoutMs; undefined when none, late, failed or not buildable. */
  private async finalDoc(ask: () => FinalDoc, what: string): Promise<Awaited<FinalDoc>> {
    try {
      const doc = await within(Promise.resolve().then(ask), this.docTimeoutMs);
      if (doc === TIMED_OUT) {
        this.log.warn(`presence service: ${what} did not answer in time; NOTIFY without a body`, { timeoutMs: this.docTimeoutMs });
        return undefined;
      }
      bodyOf(doc);
      return doc;
    } catch (err) {
      this.log.error(`presence service: ${what} failed; NOTIFY without a body`, { err: err instanceof Error ? err.message : String(err) });
      return undefined;
    }
  }

  private callService(fn: () => void, what: string): void {
    try {
      fn();
    } catch (err) {
      this.log.error(`presence service: ${what} threw`, { err: err instanceof Error ? err.stack : String(err) });
    }
  }

  // ---------------------------------------------------------------- WatcherHost

  release(w: WatcherImpl): void {
    if (this.watchers.get(w.dialogId) === w) this.watchers.delete(w.dialogId);
    // srf drops the Dialog itself after a 2xx to a terminating NOTIFY, not
    // after a failure or a lost link; removing it twice is harmless.
    this.srf.removeDialog(w.dlg);
  }

  expired(w: WatcherImpl): void {
    this.log.info('presence subscription expired without a refresh', { dialogId: w.dialogId });
    // RFC 6665 §4.2.2: the notifier ends it with terminated;reason=timeout.
    void this.end(w, () => this.handlers?.onExpire?.(w), 'onExpire');
  }

  gone(w: WatcherImpl, why: GoneReason): void {
    this.release(w);
    this.callService(() => this.handlers?.onGone?.(w, why), 'onGone');
  }

  /** The drachtio connection is lost: srf's dialogs are dead (A.4), so is every subscription. */
  private linkDown(): void {
    this.linkUp = false;
    const all = [...this.watchers.values()];
    if (all.length > 0) this.log.warn('drachtio link lost: dropping presence subscriptions', { count: all.length });
    for (const w of this.fetching) w.drop();
    for (const w of all) {
      w.drop();
      this.gone(w, 'link-down');
    }
  }
}
