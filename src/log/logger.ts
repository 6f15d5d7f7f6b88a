// winston root logger. Modules take a child logger ({ module }); a flow takes
// a further child with its ids and direction ({ dir: 'X->S' | 'S->X',
// stanzaId | callId }) so every line of it can be found with one grep
// (architecture rule 2).
import winston from 'winston';

export type Logger = winston.Logger;

export interface LogOptions {
  level: 'error' | 'warn' | 'info' | 'debug';
  format: 'json' | 'text';
  /** Where lines go; defaults to stdout. Tests pass a stream to read them back. */
  stream?: NodeJS.WritableStream;
}

const textFormat = winston.format.printf((info) => {
  const { level, message, timestamp, module, ...rest } = info as Record<string, unknown>;
  const meta = Object.entries(rest)
    .filter(([k]) => typeof k === 'string' && !k.startsWith('Symbol('))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${String(timestamp)} ${String(level).toUpperCase().padEnd(5)} [${String(module ?? 'main')}] ${String(message)}${meta ? ` ${meta}` : ''}`;
});

export function createLogger(opts: LogOptions): Logger {
  const format = opts.format === 'json'
    ? winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json())
    : winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), textFormat);
  const transport = opts.stream
    ? new winston.transports.Stream({ stream: opts.stream })
    : new winston.transports.Console();
  return winston.createLogger({ level: opts.level, format, transports: [transport] });
}
