// Replaying captured traces (drachtio-traces/*.log) against the double: the
// network input of a trace is re-injected, the app (srf) does what the traced
// app did, and the frames on both sides must match the real server's
// token by token, modulo identifiers the server generates at random.
import assert from 'node:assert/strict';
import type { FrameRecord, Peer, TraceFrame, Transport } from '../support/drachtio-double/index.js';
import { parseSip, parseVia, readTrace, tokenKind } from '../support/drachtio-double/index.js';

export type AnyFrame = Pick<FrameRecord, 'direction' | 'tokens' | 'body'>;

const traces = new Map<string, TraceFrame[]>();

/** Frames of a trace file, pings and pongs left out. */
export function trace(file: string): TraceFrame[] {
  if (!traces.has(file)) traces.set(file, readTrace(file));
  return traces.get(file)!.filter((f) => !isPing(f));
}

export function isPing(f: AnyFrame): boolean {
  return f.tokens[1] === 'ping' || (f.tokens[1] === 'response' && f.tokens[4] === 'pong');
}

/** Trace frames by original index (inclusive range). */
export function slice(file: string, from: number, to: number): TraceFrame[] {
  return trace(file).filter((f) => f.index >= from && f.index <= to);
}

export function frameAt(file: string, index: number): TraceFrame {
  const f = trace(file).find((x) => x.index === index);
  if (!f) throw new Error(`${file} has no frame ${index}`);
  return f;
}

/**
 * The request as the peer sent it: the frame shows it after sofia added
 * `;rport=<port>` to the top Via, and token 3 is the size as received, which
 * says whether the peer had sent a bare `;rport` (A.5).
 */
export function received(frame: TraceFrame): { raw: string; peer: Peer } {
  const delivered = frame.body ?? '';
  const via = parseVia(parseSip(delivered).headers.getAll('via')[0] ?? '')!;
  const rport = `;rport=${via.params['rport']}`;
  const added = Buffer.byteLength(delivered) - Number(frame.tokens[3]);
  let raw = delivered.replace(rport, '');
  if (added === rport.length - ';rport'.length) raw = delivered.replace(rport, ';rport');
  const transport = (frame.tokens[4] || via.transport) as Transport;
  return { raw, peer: { transport, address: frame.tokens[5]!, port: Number(frame.tokens[6]) } };
}

/** Replaces every `from` with `to` (identifier rebinding between trace and test run). */
export function rebind(text: string, pairs: ReadonlyArray<readonly [string | undefined, string | undefined]>): string {
  let out = text;
  for (const [from, to] of pairs) if (from && to !== undefined) out = out.split(from).join(to);
  return out;
}

/** Identifiers sofia/drachtio generate at random become placeholders. */
export function normalize(text: string): string {
  return text
    .replace(/z9hG4bK(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9]{13})(?![A-Za-z0-9-])/g, '<branch>')
    .replace(/tag=[A-Za-z0-9]{13}(?![A-Za-z0-9])/g, 'tag=<tag>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
    .replace(/CSeq: \d{9} /g, 'CSeq: <cseq> ')
    .replace(/\|\d\d:\d\d:\d\d\.\d{6}\|/g, '|<time>|');
}

function normalizeToken(token: string): string {
  const kind = tokenKind(token);
  if (kind === '<uuid>' || kind === '<time>' || kind === '<version>') return kind;
  return normalize(token);
}

/**
 * Same direction, same message type, same leader token by token (ids and
 * times as placeholders, sizes/addresses/ports/dialog ids exact) and the same
 * SIP text modulo random identifiers.
 */
export function assertSameFrame(actual: AnyFrame, expected: TraceFrame, what = ''): void {
  const label = `${expected.file}#${expected.index} ${what}`;
  assert.equal(actual.direction, expected.direction, `${label}: direction`);
  assert.deepEqual(actual.tokens.map(normalizeToken), expected.tokens.map(normalizeToken), `${label}: leader`);
  assert.equal(normalize(actual.body ?? ''), normalize(expected.body ?? ''), `${label}: SIP text`);
}

/**
 * Pairwise comparison, per direction: each direction is one ordered TCP
 * stream, while the interleaving of the two depends on timing (the traces
 * themselves differ there between runs).
 */
export function assertSameFrames(actual: readonly AnyFrame[], expected: readonly TraceFrame[]): void {
  const summary = (fs: readonly AnyFrame[]) => fs.map((f) => `${f.tokens[1]} ${(f.body ?? '').split('\r\n')[0]}`);
  for (const dir of ['app->server', 'server->app'] as const) {
    const a = actual.filter((f) => f.direction === dir);
    const e = expected.filter((f) => f.direction === dir);
    assert.deepEqual(summary(a), summary(e), `${expected[0]?.file}: ${dir} frame sequence`);
    a.forEach((f, i) => assertSameFrame(f, e[i]!));
  }
}

/** The double's frames since `seq`, pings left out. */
export function framesSince(frames: readonly FrameRecord[], seq: number): FrameRecord[] {
  return frames.filter((f) => f.seq > seq && !isPing(f));
}
