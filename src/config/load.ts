// Loads the configuration: schema defaults, then the JSON file, then the
// environment, validated strictly. The only module that reads process.env.
import convict from 'convict';
import { readFileSync } from 'node:fs';
import { AddressMapper } from '../core/address.js';
import { schema, type GatewayConfig } from './schema.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface LoadOptions {
  /** Path of a JSON config file; when undefined, GW_CONFIG names it, else defaults plus environment only. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

export function loadConfig(opts: LoadOptions = {}): GatewayConfig {
  const env = opts.env ?? process.env;
  const file = opts.file ?? (env.GW_CONFIG || undefined);
  // args: [] so convict never reads process.argv behind our back.
  const config = convict<GatewayConfig>(schema as never, { env: env as Record<string, string>, args: [] });
  if (file !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ConfigError(`config file ${file} must hold a JSON object`);
    }
    rejectUnknownKeys(parsed as Record<string, unknown>);
    try {
      config.load(parsed as never);
    } catch (err) {
      throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
    }
  }
  try {
    config.validate({ allowed: 'strict' });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const result = config.getProperties();
  crossCheck(result);
  return result;
}

/** Strict validation: every key in the file must be a schema key (or inside a map-valued one). */
function rejectUnknownKeys(obj: Record<string, unknown>, prefix: string[] = []): void {
  const defaults = new Map(schemaLeaves().map((l) => [l.path.join('.'), l.node.default]));
  const leaves = new Set(defaults.keys());
  const walk = (node: Record<string, unknown>, path: string[]) => {
    for (const [key, value] of Object.entries(node)) {
      const here = [...path, key];
      const name = here.join('.');
      if (leaves.has(name)) {
        // convict would merge an object into a list- or scalar-valued key
        // instead of refusing it; catch that shape error here.
        const isList = Array.isArray(defaults.get(name));
        if (value !== null && typeof value === 'object' && Array.isArray(value) !== isList) {
          throw new ConfigError(`${name}: must be ${isList ? 'a list' : 'a single value'}, got ${JSON.stringify(value)}`);
        }
        continue;
      }
      const isBranch = [...leaves].some((l) => l.startsWith(`${name}.`));
      if (!isBranch) throw new ConfigError(`${name}: not a configuration key (see docs/configuration.md)`);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new ConfigError(`${name}: must be an object holding ${[...leaves].filter((l) => l.startsWith(`${name}.`)).join(', ')}`);
      }
      walk(value as Record<string, unknown>, here);
    }
  };
  walk(obj, prefix);
}

function crossCheck(c: GatewayConfig): void {
  if (c.xmpp.reconnect.initialDelayMs > c.xmpp.reconnect.maxDelayMs) {
    throw new ConfigError('xmpp.reconnect.initialDelayMs: must not exceed xmpp.reconnect.maxDelayMs');
  }
  if (c.xmpp.keepalive.intervalMs > 0 && c.xmpp.keepalive.timeoutMs === 0) {
    throw new ConfigError('xmpp.keepalive.timeoutMs: must be positive when keepalive is enabled');
  }
  if (c.domains.homeSipDomain.toLowerCase() === c.xmpp.componentDomain.toLowerCase()) {
    throw new ConfigError('domains.homeSipDomain: must differ from xmpp.componentDomain (RFC 7247 §4: the gateway maps between two domains)');
  }
  const p = c.presence;
  for (const [key, v] of [['expires', p.expires], ['maxExpires', p.maxExpires], ['maxPerUser', p.maxPerUser], ['maxSubscriptions', p.maxSubscriptions],
    ['restoreRate', p.restoreRate], ['fetchTimeoutMs', p.fetchTimeoutMs], ['retryMaxDelayMs', p.retryMaxDelayMs]] as const) {
    if (v < 1) throw new ConfigError(`presence.${key}: must be at least 1`);
  }
  // Timers must fit a Node.js timeout (2^31-1 ms); RFC 6665 §4.2.1.1 caps Min-Expires at 3600.
  if (p.expires > 2_147_483 || p.maxExpires > 2_147_483) throw new ConfigError('presence.expires/maxExpires: at most 2147483 seconds');
  if (p.minExpires < 1 || p.minExpires > 3600) throw new ConfigError('presence.minExpires: must be between 1 and 3600');
  if (p.minExpires > p.maxExpires) throw new ConfigError('presence.minExpires: must not exceed presence.maxExpires');
  const m = c.msrp;
  if (m.host === '' && (m.listenHost === '0.0.0.0' || m.listenHost === '::')) {
    throw new ConfigError('msrp.host: must be set when msrp.listenHost is a wildcard address (peers need a host to connect to, RFC 4975 §8.1)');
  }
  if ((m.tlsCert === '') !== (m.tlsKey === '')) throw new ConfigError('msrp.tlsCert/tlsKey: give both or neither');
  if (m.maxMessageBytes < 1) throw new ConfigError('msrp.maxMessageBytes: must be at least 1');
  if (c.chat.inactivityMs < 1000 || c.chat.inviteTimeoutMs < 1000) throw new ConfigError('chat.inactivityMs/inviteTimeoutMs: at least 1000');
  try {
    // The address mapper refuses domain sets that would make addresses ambiguous.
    new AddressMapper({ componentDomain: c.xmpp.componentDomain, ...c.domains });
  } catch (err) {
    throw new ConfigError(`domains.xmppToSip: ${(err as Error).message}`);
  }
}

export interface SchemaLeaf {
  path: string[];
  node: { doc: string; default: unknown; env: string; format: unknown; sensitive?: boolean };
}

/** Every configurable key, in schema order; used by the doc generator and its test. */
export function schemaLeaves(node: Record<string, unknown> = schema, prefix: string[] = []): SchemaLeaf[] {
  const leaves: SchemaLeaf[] = [];
  for (const [key, value] of Object.entries(node)) {
    const v = value as Record<string, unknown>;
    if (typeof v === 'object' && v !== null && 'doc' in v && 'default' in v) {
      leaves.push({ path: [...prefix, key], node: v as SchemaLeaf['node'] });
    } else {
      leaves.push(...schemaLeaves(v, [...prefix, key]));
    }
  }
  return leaves;
}
