// Custom convict formats. Each validator throws with a message that says what
// is wrong; convict prefixes it with the key's name, so an operator sees
// "sip.trustedSources: ..." and not a stack trace.
import convict from 'convict';
import { isIP } from 'node:net';
import { parseCidr } from '../core/cidr.js';

const DOMAIN_RE = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/i;

export function isDomainName(value: unknown): value is string {
  return typeof value === 'string' && DOMAIN_RE.test(value) && isIP(value) === 0;
}

export function registerFormats(): void {
  convict.addFormats({
    'domain-name': {
      validate(val: unknown) {
        if (!isDomainName(val)) throw new Error(`must be a DNS domain name, got ${JSON.stringify(val)}`);
      },
    },
    'non-empty-string': {
      validate(val: unknown) {
        if (typeof val !== 'string' || val.length === 0) throw new Error('must be a non-empty string');
      },
    },
    'sip-uri-or-empty': {
      validate(val: unknown) {
        if (val === '') return;
        // RFC 3261 §19.1: an outbound proxy is a sip: or sips: URI with a host part.
        if (typeof val !== 'string' || !/^sips?:([^@\s]+@)?[^\s@;?]+(;[^\s]*)?$/i.test(val)) {
          throw new Error(`must be empty or a sip:/sips: URI such as "sip:proxy.example.org;lr", got ${JSON.stringify(val)}`);
        }
      },
    },
    'cidr-list': {
      coerce: (val: unknown) => (typeof val === 'string' && !val.trim().startsWith('[')
        ? val.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
        : val),
      validate(val: unknown) {
        if (!Array.isArray(val)) throw new Error('must be a list of addresses or CIDR blocks');
        for (const entry of val) {
          if (typeof entry !== 'string' || parseCidr(entry) === null) {
            throw new Error(`${JSON.stringify(entry)} is not an IPv4/IPv6 address or CIDR block`);
          }
        }
      },
    },
    'domain-map': {
      coerce: (val: unknown) => {
        if (typeof val !== 'string') return val;
        try {
          return JSON.parse(val);
        } catch {
          return val; // validate() names the key and the problem
        }
      },
      validate(val: unknown) {
        if (!Array.isArray(val)) throw new Error('must be a list like [{"xmpp": "example.com", "sip": "example.com"}]');
        const seen = new Set<string>();
        for (const entry of val as unknown[]) {
          const e = entry as { xmpp?: unknown; sip?: unknown } | null;
          if (e === null || typeof e !== 'object' || Object.keys(e).some((k) => k !== 'xmpp' && k !== 'sip')) {
            throw new Error(`each entry must be {"xmpp": DOMAIN, "sip": DOMAIN}, got ${JSON.stringify(entry)}`);
          }
          if (!isDomainName(e.xmpp)) throw new Error(`"xmpp" is not a domain name in ${JSON.stringify(entry)}`);
          if (!isDomainName(e.sip)) throw new Error(`"sip" is not a domain name in ${JSON.stringify(entry)}`);
          const key = e.xmpp.toLowerCase();
          if (seen.has(key)) throw new Error(`XMPP domain ${e.xmpp} is listed twice`);
          seen.add(key);
        }
      },
    },
    'chat-modes': {
      coerce: (val: unknown) => {
        if (typeof val !== 'string') return val;
        try {
          return JSON.parse(val);
        } catch {
          return val;
        }
      },
      validate(val: unknown) {
        if (!Array.isArray(val)) throw new Error('must be a list like [{"sip": "example.org", "mode": "session"}]');
        const seen = new Set<string>();
        for (const entry of val as unknown[]) {
          const e = entry as { sip?: unknown; mode?: unknown } | null;
          if (e === null || typeof e !== 'object' || Object.keys(e).some((k) => k !== 'sip' && k !== 'mode')) {
            throw new Error(`each entry must be {"sip": DOMAIN, "mode": "pager"|"session"}, got ${JSON.stringify(entry)}`);
          }
          if (!isDomainName(e.sip)) throw new Error(`"sip" is not a domain name in ${JSON.stringify(entry)}`);
          if (e.mode !== 'pager' && e.mode !== 'session') throw new Error(`"mode" must be "pager" or "session" in ${JSON.stringify(entry)}`);
          const key = e.sip.toLowerCase();
          if (seen.has(key)) throw new Error(`SIP domain ${e.sip} is listed twice`);
          seen.add(key);
        }
      },
    },
  });
}
