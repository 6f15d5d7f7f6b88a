// Inbound stanza routing for the component. Order of the middleware chain
// (set by @xmpp/component): its error handler, the iq caller (results and
// errors of our own requests), the iq callee (answers get/set; unknown ones
// get service-unavailable, RFC 6120 §8.4), then what is installed here.
import { xml } from '@xmpp/component';
import type { Element } from '@xmpp/xml';
import type { IncomingContext } from '@xmpp/component';
import type { InFlight } from '../core/inflight.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../http/metrics.js';
import type { XmppLink } from './link.js';
import { NS_STANZAS, errorReply, parseJid, type ErrorType } from './stanza.js';

const STANZA_NAMES = new Set(['message', 'presence', 'iq']);
const PRESENCE_TYPES = new Set(['available', 'unavailable', 'subscribe', 'subscribed', 'unsubscribe', 'unsubscribed', 'probe', 'error']);
const IQ_TYPES = new Set(['get', 'set', 'result', 'error']);

export type StanzaHandler = (stanza: Element, log: Logger) => Promise<void> | void;

export interface RouterHandlers {
  /** A valid message of any type but error. Default: service-unavailable (no message service yet). */
  message?: StanzaHandler;
  /** A valid presence of any type but error. Default: logged and dropped (RFC 6121 §4.3.2 lets servers ignore what they cannot handle). */
  presence?: StanzaHandler;
  /** An error stanza addressed to us: never answered (RFC 6120 §8.3.1); flows correlate it by id. */
  error?: StanzaHandler;
}

export class StanzaRouter {
  private readonly handlers: RouterHandlers = {};

  constructor(
    private readonly link: XmppLink,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly inflight: InFlight,
  ) {
    this.guardParse();
    link.entity.middleware.use((ctx, next) => this.inflight.track(this.route(ctx, next)));
  }

  on<K extends keyof RouterHandlers>(kind: K, handler: RouterHandlers[K]): void {
    this.handlers[kind] = handler;
  }

  private async route(ctx: IncomingContext, next: () => Promise<unknown>): Promise<unknown> {
    const stanza = ctx.stanza;
    if (!STANZA_NAMES.has(stanza.name)) return next();
    const kind = stanza.name as 'message' | 'presence' | 'iq';
    const type = (stanza.attrs.type as string | undefined) ?? '';
    const log = this.log.child({ dir: 'X->S', stanzaId: stanza.attrs.id, kind, type: type || undefined, from: stanza.attrs.from });

    if (type === 'error') {
      if (log.isDebugEnabled()) log.debug('error stanza received');
      await this.handlers.error?.(stanza, log);
      return undefined; // never answer an error with an error
    }

    const problem = this.validate(stanza, kind, type);
    if (problem !== null) {
      this.metrics.errors.inc({ side: 'xmpp', kind: 'bad-stanza' });
      log.warn('malformed stanza refused', { condition: problem.condition, reason: problem.text });
      if (kind === 'iq') {
        // The iq callee turns a returned <error/> into the error reply.
        return xml('error', { type: problem.type }, xml(problem.condition, { xmlns: NS_STANZAS }),
          xml('text', { xmlns: NS_STANZAS, 'xml:lang': 'en' }, problem.text));
      }
      if (parseJid(stanza.attrs.from as string | undefined) !== null) {
        await this.reply(errorReply(stanza, problem.type, problem.condition, problem.text), log);
      }
      return undefined;
    }

    if (kind === 'iq') return next(); // iq callee routes get/set by namespace; results go to the iq caller
    try {
      if (kind === 'message') {
        if (this.handlers.message) await this.handlers.message(stanza, log);
        else {
          log.info('message refused: no message service on this gateway yet');
          await this.reply(errorReply(stanza, 'cancel', 'service-unavailable'), log);
        }
      } else if (this.handlers.presence) {
        await this.handlers.presence(stanza, log);
      } else {
        if (log.isDebugEnabled()) log.debug('presence ignored: no presence service on this gateway yet');
      }
    } catch (err) {
      this.metrics.errors.inc({ side: 'xmpp', kind: 'handler' });
      log.error('stanza handler failed', { err: err instanceof Error ? err.stack : String(err) });
      if (kind === 'message') await this.reply(errorReply(stanza, 'wait', 'internal-server-error'), log);
    }
    return undefined;
  }

  private validate(stanza: Element, kind: string, type: string): { type: ErrorType; condition: string; text: string } | null {
    const to = stanza.attrs.to as string | undefined;
    const toJid = parseJid(to);
    if (toJid === null) return { type: 'modify', condition: 'jid-malformed', text: `malformed 'to' address` };
    if (toJid.domain !== this.link.domain) {
      return { type: 'cancel', condition: 'item-not-found', text: `'to' is outside ${this.link.domain}` };
    }
    if (parseJid(stanza.attrs.from as string | undefined) === null) {
      return { type: 'modify', condition: 'jid-malformed', text: `malformed or missing 'from' address` };
    }
    if (kind === 'iq') {
      if (!IQ_TYPES.has(type)) return { type: 'modify', condition: 'bad-request', text: 'iq type must be get, set, result or error' };
      if (!stanza.attrs.id) return { type: 'modify', condition: 'bad-request', text: 'iq without id (RFC 6120 §8.2.3)' };
    }
    if (kind === 'presence' && type !== '' && !PRESENCE_TYPES.has(type)) {
      return { type: 'modify', condition: 'bad-request', text: `unknown presence type '${type}'` };
    }
    return null;
  }

  private async reply(el: Element, log: Logger): Promise<void> {
    try {
      await this.link.send(el);
    } catch (err) {
      log.warn('could not send reply', { err: String(err) });
    }
  }

  /**
   * @xmpp/middleware parses 'to'/'from' with @xmpp/jid inside the socket's
   * data handler; a malformed JID there throws out of the event emitter and
   * would end the process. Wrap that listener so such a stanza is answered
   * with jid-malformed instead (RFC 6120 §8.3.3.8).
   */
  private guardParse(): void {
    const entity = this.link.entity;
    for (const listener of entity.listeners('element') as Array<(el: Element) => unknown>) {
      entity.off('element', listener);
      entity.on('element', (el: Element) => {
        try {
          const r = listener(el);
          if (r instanceof Promise) r.catch((err: unknown) => this.onUnparsable(el, err));
        } catch (err) {
          this.onUnparsable(el, err);
        }
      });
    }
  }

  private onUnparsable(el: Element, err: unknown): void {
    this.metrics.errors.inc({ side: 'xmpp', kind: 'bad-stanza' });
    const log = this.log.child({ dir: 'X->S', stanzaId: el.attrs.id, kind: el.name });
    log.warn('unparsable stanza refused', { err: String(err) });
    if (!STANZA_NAMES.has(el.name) || el.attrs.type === 'error' || parseJid(el.attrs.from as string | undefined) === null) return;
    if (el.name === 'iq' && el.attrs.type !== 'get' && el.attrs.type !== 'set') return;
    void this.reply(errorReply(el, 'modify', 'jid-malformed'), log);
  }
}
