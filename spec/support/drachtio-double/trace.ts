// Reader for the captured drachtio traces (drachtio-traces/*.log): blocks
// `----- <DIR> <ISO time> len=<N>` followed by the payload, where every CRLF
// is written as a literal `\r\n` followed by a newline.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitPayload } from './framing.js';

export interface TraceFrame {
  file: string;
  /** Position among the frames of the file (0-based). */
  index: number;
  /** Normalised: in wire-outbound.log the labels are swapped (A.11). */
  direction: 'app->server' | 'server->app';
  at: string;
  payload: string;
  tokens: string[];
  body: string | undefined;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Repository root (this file lives in spec/support/drachtio-double). */
export const repoRoot = path.resolve(HERE, '..', '..', '..');

export function tracesDir(): string {
  return path.resolve(repoRoot, '..', 'shared', 'specs', 'drachtio-traces');
}

export function readTrace(file: string): TraceFrame[] {
  const text = readFileSync(path.join(tracesDir(), file), 'utf8');
  const header = /^----- (\S+) (\S+)(?: len=(\d+))?$/gm;
  const heads: Array<{ label: string; at: string; len: number | undefined; start: number; end: number }> = [];
  for (let m = header.exec(text); m; m = header.exec(text)) {
    heads.push({ label: m[1]!, at: m[2]!, len: m[3] === undefined ? undefined : Number(m[3]), start: m.index, end: header.lastIndex });
  }
  const swapped = file.includes('outbound');
  const frames: TraceFrame[] = [];
  heads.forEach((h, i) => {
    if (h.len === undefined) return; // "----- APP closed"
    let payload = text.slice(h.end + 1, heads[i + 1]?.start ?? text.length).replace(/\\r\\n\n/g, '\r\n');
    if (payload.endsWith('\n')) payload = payload.slice(0, -1);
    if (Buffer.byteLength(payload, 'utf8') !== h.len) {
      throw new Error(`${file}: frame at ${h.at} has ${Buffer.byteLength(payload, 'utf8')} bytes, header says ${h.len}`);
    }
    const fromApp = h.label === 'APP->SERVER';
    const { tokens, body } = splitPayload(payload);
    frames.push({
      file, index: frames.length, at: h.at, payload, tokens, body,
      direction: fromApp !== swapped ? 'app->server' : 'server->app',
    });
  });
  return frames;
}

/**
 * The "kind" of a leader token, so frames of the double and of the real server
 * can be compared position by position: ids, sizes, times, addresses and
 * dialog ids become placeholders, everything else stays literal.
 */
export function tokenKind(token: string): string {
  if (token === '') return '';
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(token)) return '<uuid>';
  if (/^\d+$/.test(token)) return '<int>';
  if (/^\d\d:\d\d:\d\d\.\d{6}$/.test(token)) return '<time>';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(token)) return '<ip>';
  if (token.includes(';from-tag=')) return '<dialog-id>';
  if (/^(tcp|udp|tls|ws|wss)\/[^,]+(,(tcp|udp|tls|ws|wss)\/[^,]+)*$/.test(token)) return '<hostports>';
  if (/^v\d+\.\d+\.\d+/.test(token)) return '<version>';
  return token;
}

export function leaderShape(tokens: readonly string[]): string[] {
  return tokens.map(tokenKind);
}
