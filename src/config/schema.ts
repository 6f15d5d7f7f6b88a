// The one configuration schema. Every key has doc, format, default and env;
// docs/configuration.md and conf/gateway.example.json are checked against it
// by spec/unit/config-docs.test.ts so they cannot drift.
import { registerFormats } from './formats.js';

registerFormats();

export const schema = {
  xmpp: {
    componentDomain: {
      doc: 'XEP-0114 component domain the gateway serves; SIP users appear as JIDs under it (e.g. bob@sip.example.com).',
      format: 'domain-name',
      default: 'sip.localhost',
      env: 'GW_XMPP_COMPONENT_DOMAIN',
    },
    host: {
      doc: 'Host of the XMPP server\'s component port.',
      format: 'non-empty-string',
      default: '127.0.0.1',
      env: 'GW_XMPP_HOST',
    },
    port: {
      doc: 'TCP port of the XMPP server\'s component listener (Prosody component_ports, ejabberd ejabberd_service).',
      format: 'port',
      default: 5347,
      env: 'GW_XMPP_PORT',
    },
    secret: {
      doc: 'Component secret shared with the XMPP server (XEP-0114 handshake). Required.',
      format: 'non-empty-string',
      default: '',
      env: 'GW_XMPP_SECRET',
      sensitive: true,
    },
    startTimeoutMs: {
      doc: 'At start, how long to keep retrying an unreachable XMPP server before exiting non-zero. A refused secret or unknown domain exits at once.',
      format: 'nat',
      default: 30000,
      env: 'GW_XMPP_START_TIMEOUT_MS',
    },
    reconnect: {
      initialDelayMs: {
        doc: 'First delay before reconnecting after a lost XMPP connection; doubles on each failure, with full jitter.',
        format: 'nat',
        default: 500,
        env: 'GW_XMPP_RECONNECT_INITIAL_DELAY_MS',
      },
      maxDelayMs: {
        doc: 'Cap on the XMPP reconnect delay.',
        format: 'nat',
        default: 30000,
        env: 'GW_XMPP_RECONNECT_MAX_DELAY_MS',
      },
    },
    keepalive: {
      intervalMs: {
        doc: 'Idle time after which the gateway pings itself through the XMPP server (XEP-0199) to detect a half-open link. 0 disables.',
        format: 'nat',
        default: 30000,
        env: 'GW_XMPP_KEEPALIVE_INTERVAL_MS',
      },
      timeoutMs: {
        doc: 'How long a keepalive ping may go unanswered before the link is declared dead and reconnected.',
        format: 'nat',
        default: 10000,
        env: 'GW_XMPP_KEEPALIVE_TIMEOUT_MS',
      },
    },
  },
  sip: {
    drachtio: {
      mode: {
        doc: 'inbound: the gateway connects to drachtio-server\'s admin port; outbound: drachtio-server connects to the gateway for each new request.',
        format: ['inbound', 'outbound'],
        default: 'inbound',
        env: 'GW_DRACHTIO_MODE',
      },
      host: {
        doc: 'inbound mode: host of drachtio-server\'s admin port.',
        format: 'non-empty-string',
        default: '127.0.0.1',
        env: 'GW_DRACHTIO_HOST',
      },
      port: {
        doc: 'inbound mode: drachtio-server\'s admin port.',
        format: 'port',
        default: 9022,
        env: 'GW_DRACHTIO_PORT',
      },
      listenHost: {
        doc: 'outbound mode: address the gateway listens on for drachtio-server\'s connections.',
        format: 'non-empty-string',
        default: '127.0.0.1',
        env: 'GW_DRACHTIO_LISTEN_HOST',
      },
      listenPort: {
        doc: 'outbound mode: port the gateway listens on for drachtio-server\'s connections.',
        format: 'port',
        default: 9023,
        env: 'GW_DRACHTIO_LISTEN_PORT',
      },
      secret: {
        doc: 'drachtio admin secret (both modes). Required.',
        format: 'non-empty-string',
        default: '',
        env: 'GW_DRACHTIO_SECRET',
        sensitive: true,
      },
      pingIntervalMs: {
        doc: 'inbound mode: interval of drachtio-srf keepalive pings (5000 to 300000).',
        format: (val: unknown) => {
          if (typeof val !== 'number' || !Number.isInteger(val) || val < 5000 || val > 300000) {
            throw new Error('must be an integer from 5000 to 300000');
          }
        },
        default: 15000,
        env: 'GW_DRACHTIO_PING_INTERVAL_MS',
      },
      reconnectMaxDelayMs: {
        doc: 'inbound mode: cap on drachtio-srf\'s exponential reconnect delay (150 ms x 1.7^n).',
        format: 'nat',
        default: 10000,
        env: 'GW_DRACHTIO_RECONNECT_MAX_DELAY_MS',
      },
      startTimeoutMs: {
        doc: 'At start, how long to wait for drachtio-server (inbound: connected and authenticated; outbound: listening) before exiting non-zero. A refused secret exits at once.',
        format: 'nat',
        default: 30000,
        env: 'GW_DRACHTIO_START_TIMEOUT_MS',
      },
    },
    outboundProxy: {
      doc: 'SIP URI of the proxy that requests from the gateway are sent through (e.g. "sip:kamailio:5060;lr"); empty sends to the Request-URI.',
      format: 'sip-uri-or-empty',
      default: '',
      env: 'GW_SIP_OUTBOUND_PROXY',
    },
    trustedSources: {
      doc: 'Addresses or CIDR blocks (JSON list or comma-separated) allowed to send SIP requests to the gateway, normally the SIP proxy; others get 403.',
      format: 'cidr-list',
      default: ['127.0.0.0/8', '::1'],
      env: 'GW_SIP_TRUSTED_SOURCES',
    },
  },
  domains: {
    homeSipDomain: {
      doc: 'The "home" SIP domain whose users appear directly under the component domain (sip:bob@HOME ⇄ bob@COMPONENT).',
      format: 'domain-name',
      default: 'localhost',
      env: 'GW_HOME_SIP_DOMAIN',
    },
    xmppToSip: {
      doc: 'XMPP domains allowed to reach SIP, each with the SIP domain its users appear under (JSON list of {"xmpp": ..., "sip": ...}). XMPP domains not listed cannot use the gateway.',
      // A list, not an object keyed by domain: convict splits keys on dots.
      format: 'domain-map',
      default: [] as Array<{ xmpp: string; sip: string }>,
      env: 'GW_XMPP_TO_SIP_DOMAINS',
    },
  },
  im: {
    maxMessageBytes: {
      doc: 'Largest SIP MESSAGE the gateway sends (whole request, RFC 3428 §8 / RFC 7572 §6); a larger XMPP message is refused with policy-violation.',
      format: 'nat',
      default: 1300,
      env: 'GW_IM_MAX_MESSAGE_BYTES',
    },
    deliveryWindowMs: {
      doc: 'SIP to XMPP: how long a MESSAGE transaction waits for the XMPP server to bounce the stanza before answering 202 Accepted. The wait ends early when the server has visibly processed it.',
      format: 'nat',
      default: 3000,
      env: 'GW_IM_DELIVERY_WINDOW_MS',
    },
    sipTimeoutMs: {
      doc: 'XMPP to SIP: how long to wait for a final response to a MESSAGE before telling the sender remote-server-timeout (drachtio-server itself gives up after 32 s).',
      format: 'nat',
      default: 40000,
      env: 'GW_IM_SIP_TIMEOUT_MS',
    },
    defaultResource: {
      doc: 'Resource of a SIP sender whose GRUU is unknown, so that all its messages come from one stable full JID.',
      format: 'non-empty-string',
      default: 'sip',
      env: 'GW_IM_DEFAULT_RESOURCE',
    },
    maxPending: {
      doc: 'Cap on messages awaiting a response in each direction (and on remembered message ids); beyond it new messages are refused with resource-constraint / 503.',
      format: 'nat',
      default: 10000,
      env: 'GW_IM_MAX_PENDING',
    },
  },
  presence: {
    expires: {
      doc: 'Expires the gateway asks for in its presence SUBSCRIBEs to SIP contacts (RFC 3856 §6.4 suggests 3600); dialogs are refreshed before they run out while the XMPP user is online.',
      format: 'nat',
      default: 3600,
      env: 'GW_PRESENCE_EXPIRES',
    },
    minExpires: {
      doc: 'Shortest subscription a SIP watcher may ask for; a shorter non-zero Expires gets 423 Interval Too Brief (RFC 6665 §4.2.1.1). At most 3600.',
      format: 'nat',
      default: 60,
      env: 'GW_PRESENCE_MIN_EXPIRES',
    },
    maxExpires: {
      doc: 'Longest subscription granted to a SIP watcher; longer requests are shortened to it. A SUBSCRIBE without Expires gets 3600 (RFC 3856 §6.4) within these bounds.',
      format: 'nat',
      default: 7200,
      env: 'GW_PRESENCE_MAX_EXPIRES',
    },
    maxPerUser: {
      doc: 'Cap on SIP contacts one XMPP user may watch, and on XMPP users one SIP user may watch; beyond it subscribe gets policy-violation, SUBSCRIBE 403.',
      format: 'nat',
      default: 1000,
      env: 'GW_PRESENCE_MAX_PER_USER',
    },
    maxSubscriptions: {
      doc: 'Cap on SIP subscription dialogs held at once in each direction (and on the presence caches); beyond it new ones are refused (503 to SIP watchers).',
      format: 'nat',
      default: 50000,
      env: 'GW_PRESENCE_MAX_SUBSCRIPTIONS',
    },
    notifyIntervalMs: {
      doc: 'At most one NOTIFY per SIP watcher per this many milliseconds; within it the latest state wins (RFC 3856 §6.10: 5 s).',
      format: 'nat',
      default: 5000,
      env: 'GW_PRESENCE_NOTIFY_INTERVAL_MS',
    },
    restoreRate: {
      doc: 'At start, resubscriptions to SIP contacts and probes of watched XMPP users sent per second while re-establishing the stored subscriptions.',
      format: 'nat',
      default: 100,
      env: 'GW_PRESENCE_RESTORE_RATE',
    },
    retryMaxDelayMs: {
      doc: 'Longest wait between attempts to re-establish a SIP subscription that failed for a transient reason (timeouts, 5xx, 423, SIP link down); the wait doubles from 2 s with jitter.',
      format: 'nat',
      default: 300000,
      env: 'GW_PRESENCE_RETRY_MAX_DELAY_MS',
    },
    fetchTimeoutMs: {
      doc: 'How long a presence probe or fetch waits for the other side: the first NOTIFY of a SIP fetch, or the XMPP server\'s answer to a probe.',
      format: 'nat',
      default: 3000,
      env: 'GW_PRESENCE_FETCH_TIMEOUT_MS',
    },
  },
  chat: {
    defaultMode: {
      doc: 'How an XMPP chat reaches SIP users of domains not listed in chat.modes: pager (one SIP MESSAGE per message, RFC 7572) or session (an INVITE with an MSRP session per conversation, RFC 7573; falls back to pager when the SIP side cannot do MSRP).',
      format: ['pager', 'session'],
      default: 'pager',
      env: 'GW_CHAT_DEFAULT_MODE',
    },
    modes: {
      doc: 'Per SIP domain (of SIP users; A-labels for international names), pager or session: JSON list of {"sip": ..., "mode": ...}.',
      format: 'chat-modes',
      default: [] as Array<{ sip: string; mode: 'pager' | 'session' }>,
      env: 'GW_CHAT_MODES',
    },
    inactivityMs: {
      doc: 'A chat session with no message either way for this long is ended with BYE (RFC 7573 §4; XEP-0085 suggests 10 minutes).',
      format: 'nat',
      default: 600000,
      env: 'GW_CHAT_INACTIVITY_MS',
    },
    maxSessions: {
      doc: 'Cap on chat sessions at once; beyond it XMPP messages go in pager mode and INVITEs get 503.',
      format: 'nat',
      default: 10000,
      env: 'GW_CHAT_MAX_SESSIONS',
    },
    maxPerUser: {
      doc: 'Cap on chat sessions of one XMPP user; beyond it their messages go in pager mode and INVITEs to them get 486.',
      format: 'nat',
      default: 100,
      env: 'GW_CHAT_MAX_PER_USER',
    },
    fallbackMs: {
      doc: 'After an INVITE is refused with 415/488/606 or answered without MSRP, how long that pair of users stays in pager mode.',
      format: 'nat',
      default: 3600000,
      env: 'GW_CHAT_FALLBACK_MS',
    },
    inviteTimeoutMs: {
      doc: 'How long an INVITE for a chat session waits for a final response (drachtio-server gives up after 32 s); queued messages then get remote-server-timeout.',
      format: 'nat',
      default: 40000,
      env: 'GW_CHAT_INVITE_TIMEOUT_MS',
    },
  },
  msrp: {
    listenHost: {
      doc: 'Address the MSRP listener (RFC 4975) binds to.',
      format: 'non-empty-string',
      default: '127.0.0.1',
      env: 'GW_MSRP_LISTEN_HOST',
    },
    port: {
      doc: 'MSRP listening port (2855 is the registered one; 0 picks a free port).',
      format: 'port',
      default: 2855,
      env: 'GW_MSRP_PORT',
    },
    host: {
      doc: 'Host SIP peers reach the MSRP listener at, written in a=path and c= (RFC 4975 §8.1); empty means msrp.listenHost, which must then not be a wildcard address.',
      format: String,
      default: '',
      env: 'GW_MSRP_HOST',
    },
    tlsCert: {
      doc: 'PEM certificate file; with msrp.tlsKey the listener speaks TLS and the gateway\'s URIs are msrps: (RFC 4975 §6).',
      format: String,
      default: '',
      env: 'GW_MSRP_TLS_CERT',
    },
    tlsKey: {
      doc: 'PEM private key file for msrp.tlsCert.',
      format: String,
      default: '',
      env: 'GW_MSRP_TLS_KEY',
      sensitive: true,
    },
    maxMessageBytes: {
      doc: 'Largest MSRP message accepted (the SDP max-size; larger ones get 413, RFC 7573 §8). Keep it below the XMPP server\'s stanza size limit.',
      format: 'nat',
      default: 65536,
      env: 'GW_MSRP_MAX_MESSAGE_BYTES',
    },
  },
  log: {
    level: {
      doc: 'Lowest level logged.',
      format: ['error', 'warn', 'info', 'debug'],
      default: 'info',
      env: 'GW_LOG_LEVEL',
    },
    format: {
      doc: 'json: one JSON object per line (for log shippers); text: human-readable lines.',
      format: ['json', 'text'],
      default: 'json',
      env: 'GW_LOG_FORMAT',
    },
  },
  http: {
    host: {
      doc: 'Address of the HTTP listener for /healthz and /metrics.',
      format: 'non-empty-string',
      default: '127.0.0.1',
      env: 'GW_HTTP_HOST',
    },
    port: {
      doc: 'Port of the HTTP listener for /healthz and /metrics (0 picks a free port).',
      format: 'port',
      default: 8080,
      env: 'GW_HTTP_PORT',
    },
  },
  dataDir: {
    doc: 'Directory for the gateway\'s persistent state; created at start if missing.',
    format: 'non-empty-string',
    default: './data',
    env: 'GW_DATA_DIR',
  },
  shutdown: {
    graceMs: {
      doc: 'On SIGTERM/SIGINT, how long in-flight work may take to finish before it is failed and the connections are closed.',
      format: 'nat',
      default: 5000,
      env: 'GW_SHUTDOWN_GRACE_MS',
    },
  },
};

export interface GatewayConfig {
  xmpp: {
    componentDomain: string; host: string; port: number; secret: string; startTimeoutMs: number;
    reconnect: { initialDelayMs: number; maxDelayMs: number };
    keepalive: { intervalMs: number; timeoutMs: number };
  };
  sip: {
    drachtio: {
      mode: 'inbound' | 'outbound'; host: string; port: number; listenHost: string; listenPort: number;
      secret: string; pingIntervalMs: number; reconnectMaxDelayMs: number; startTimeoutMs: number;
    };
    outboundProxy: string;
    trustedSources: string[];
  };
  domains: { homeSipDomain: string; xmppToSip: Array<{ xmpp: string; sip: string }> };
  im: { maxMessageBytes: number; deliveryWindowMs: number; sipTimeoutMs: number; defaultResource: string; maxPending: number };
  presence: {
    expires: number; minExpires: number; maxExpires: number; maxPerUser: number; maxSubscriptions: number;
    notifyIntervalMs: number; restoreRate: number; retryMaxDelayMs: number; fetchTimeoutMs: number;
  };
  chat: {
    defaultMode: 'pager' | 'session'; modes: Array<{ sip: string; mode: 'pager' | 'session' }>; inactivityMs: number;
    maxSessions: number; maxPerUser: number; fallbackMs: number; inviteTimeoutMs: number;
  };
  msrp: { listenHost: string; port: number; host: string; tlsCert: string; tlsKey: string; maxMessageBytes: number };
  log: { level: 'error' | 'warn' | 'info' | 'debug'; format: 'json' | 'text' };
  http: { host: string; port: number };
  dataDir: string;
  shutdown: { graceMs: number };
}
