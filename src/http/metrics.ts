// Prometheus metrics on a registry of the gateway's own (not prom-client's
// global one), so several gateways can live in one test process.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export type Side = 'xmpp' | 'sip';

export class Metrics {
  readonly registry = new Registry();

  readonly connectionUp = new Gauge({
    name: 'gateway_connection_up',
    help: '1 while the side is connected and authenticated, else 0',
    labelNames: ['side'] as const,
    registers: [this.registry],
  });

  readonly reconnects = new Counter({
    name: 'gateway_reconnects_total',
    help: 'Connections re-established after a loss, per side',
    labelNames: ['side'] as const,
    registers: [this.registry],
  });

  readonly stanzas = new Counter({
    name: 'gateway_xmpp_stanzas_total',
    help: 'XMPP stanzas received (in) and sent (out), by stanza kind',
    labelNames: ['direction', 'kind'] as const,
    registers: [this.registry],
  });

  readonly sipRequests = new Counter({
    name: 'gateway_sip_requests_total',
    help: 'SIP requests received (in) and sent (out), by method',
    labelNames: ['direction', 'method'] as const,
    registers: [this.registry],
  });

  readonly sipResponses = new Counter({
    name: 'gateway_sip_responses_total',
    help: 'SIP final responses the gateway sent (out) or received (in), by status code',
    labelNames: ['direction', 'status'] as const,
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: 'gateway_errors_total',
    help: 'Errors by side and kind (bad input, handler failure, keepalive timeout, ...)',
    labelNames: ['side', 'kind'] as const,
    registers: [this.registry],
  });

  readonly imMessages = new Counter({
    name: 'gateway_im_messages_total',
    help: 'Pager messages by direction (x2s, s2x) and outcome (delivered, a SIP status, an XMPP condition, ...)',
    labelNames: ['direction', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly presenceEvents = new Counter({
    name: 'gateway_presence_events_total',
    help: 'Presence events by direction of the event (x2s: from XMPP, s2x: from SIP) and case (subscribe, notify-active, probe, ...)',
    labelNames: ['direction', 'what'] as const,
    registers: [this.registry],
  });

  readonly chatEvents = new Counter({
    name: 'gateway_chat_events_total',
    help: 'Chat-session events (RFC 7573): up-x2s, up-s2x, ended, fallback-pager, x2s-message, s2x-message, invite-<status>, ...',
    labelNames: ['what'] as const,
    registers: [this.registry],
  });

  /** Where gateway_chat_sessions reads the number of open sessions (set by the gateway). */
  chatSessionCount: () => number = () => 0;

  readonly chatSessions: Gauge = new Gauge({
    name: 'gateway_chat_sessions',
    help: 'Chat sessions (INVITE dialog + MSRP session) open now',
    registers: [this.registry],
    collect: () => this.chatSessions.set(this.chatSessionCount()),
  });

  private readonly tableSources: Array<() => Record<string, number>> = [];

  /** Sizes of bounded tables (pending transactions, receipt maps, ...), read at scrape time. */
  readonly tableSize: Gauge<'table'> = new Gauge({
    name: 'gateway_table_entries',
    help: 'Entries in the gateway\'s bounded correlation tables',
    labelNames: ['table'] as const,
    registers: [this.registry],
    collect: () => {
      for (const source of this.tableSources) for (const [table, n] of Object.entries(source())) this.tableSize.set({ table }, n);
    },
  });

  /** Registers a source of table sizes for the gateway_table_entries gauge. */
  watchTables(source: () => Record<string, number>): void {
    this.tableSources.push(source);
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gateway_' });
    for (const side of ['xmpp', 'sip'] as const) {
      this.connectionUp.set({ side }, 0);
      this.reconnects.inc({ side }, 0);
    }
  }
}
