/**
 * Reassembly of chunked messages on the receiving side (RFC 4975 §5.1, §7.3.1).
 *
 * - A SEND with no Byte-Range, or range-start 1 and the "$" flag, holds the
 *   whole message (§7.3.1); its payload is the message, whatever range-end and
 *   total claimed.
 * - Other chunks are placed by Message-ID and range-start into a per-message
 *   buffer, in any order (§7.3.1: "Receivers MUST not assume that the chunks will
 *   be delivered in order"). Overlapping data: the last chunk received wins
 *   (§7.3.1 SHOULD). The chunk length is the payload length, not range-end.
 * - The total is the numeric Byte-Range total, or, once the "$" chunk has
 *   arrived, the end of that chunk ("the chunk that has a termination character
 *   of '$' defines the total length of the message"). "*" totals are fine until then.
 * - "#" aborts the message: what was buffered is dropped (§7.1).
 * - 413 as soon as a declared total or the actual data goes past the size we
 *   advertised (§10.5, RFC 7573 §8 "in response to the first SEND request whose
 *   Byte-Range header field indicates a byte total exceeding the limit"), and to
 *   every later chunk of that message.
 * - Memory is bounded: partial messages per session, buffered bytes per session,
 *   and fragments per message (§14.5 warns about Byte-Range driven allocation).
 */
import type { FailureReport } from './headers.js';
import type { MsrpRequest } from './frame.js';
import { RecentIds } from './recent.js';

export interface ReassemblyLimits {
  /** Largest message accepted (the SDP max-size). */
  maxMessageBytes: number;
  /** Messages being reassembled at once. */
  maxPartialMessages: number;
  /** Bytes held by all partial messages together. */
  maxBufferedBytes: number;
  /** Disjoint received ranges per message (1-byte chunks at every other position would otherwise be cheap to send and costly to hold). */
  maxFragments?: number;
}

export interface ReassembledMessage {
  messageId: string;
  contentType: string;
  body: Buffer;
  /** tid of the chunk that carried byte 1 (or of the first chunk received when that is unknown). */
  tid: string;
  successReport: boolean;
  failureReport: FailureReport;
  /** Same Message-ID as a message completed earlier in this session (§5.4: "SHOULD assume that the messages are duplicates"). */
  duplicate: boolean;
}

export type ChunkOutcome =
  | { kind: 'complete'; message: ReassembledMessage }
  | { kind: 'partial' }
  | { kind: 'aborted' }
  | { kind: 'reject'; code: 400 | 413; reason: string };

interface Partial {
  data: Buffer;
  /** Highest end position written so far (the used part of `data`). */
  high: number;
  /** Sorted, disjoint, non-adjacent [start, end) ranges received. */
  ranges: Array<[number, number]>;
  declaredTotal?: number;
  finalTotal?: number;
  contentType: string;
  tid: string;
  tidIsFirst: boolean;
  successReport: boolean;
  failureReport: FailureReport;
}

/** Completed and refused Message-IDs remembered per session, to spot duplicates (§5.4) and later chunks of a refused message. */
const REMEMBERED_IDS = 128;
const DEFAULT_MAX_FRAGMENTS = 1024;

function addRange(ranges: Array<[number, number]>, start: number, end: number): void {
  if (end <= start) return;
  let s = start;
  let e = end;
  const kept: Array<[number, number]> = [];
  for (const r of ranges) {
    if (r[1] < s || r[0] > e) kept.push(r);
    else {
      s = Math.min(s, r[0]);
      e = Math.max(e, r[1]);
    }
  }
  kept.push([s, e]);
  kept.sort((a, b) => a[0] - b[0]);
  ranges.splice(0, ranges.length, ...kept);
}

export class Reassembler {
  private readonly partials = new Map<string, Partial>();
  private readonly refused = new RecentIds(REMEMBERED_IDS);
  private readonly completed = new RecentIds(REMEMBERED_IDS);
  private buffered = 0;

  constructor(private readonly limits: ReassemblyLimits) {}

  /** Messages being reassembled. */
  get partialCount(): number {
    return this.partials.size;
  }

  /** Bytes held for them. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Drops every partial message (session closed, §5.4). */
  clear(): void {
    this.partials.clear();
    this.buffered = 0;
  }

  /** Takes one SEND that has a body, a Message-ID and a Content-Type (the caller checked them). */
  accept(req: MsrpRequest & { body: Buffer; messageId: string }): ChunkOutcome {
    const id = req.messageId;
    const body = req.body;
    const range = req.byteRange ?? { start: 1, end: '*' as const, total: '*' as const };
    const max = this.limits.maxMessageBytes;
    if (this.refused.has(id)) return this.refuse(id, 'message already refused');
    const last = range.start - 1 + body.length;
    if ((range.total !== '*' && range.total > max) || last > max) return this.refuse(id, `message larger than ${max} bytes`);

    if (req.flag === '#') {
      this.drop(id);
      return { kind: 'aborted' };
    }
    const contentType = req.contentType ?? 'application/octet-stream';
    const successReport = req.successReport === 'yes';
    const failureReport = req.failureReport ?? 'yes';
    if (range.start === 1 && req.flag === '$') {
      // §7.3.1: the whole message in one request; any partial under that id is superseded.
      this.drop(id);
      return this.done(id, { contentType, body, tid: req.tid, successReport, failureReport });
    }
    if (range.end !== '*' && body.length > range.end - range.start + 1) return this.invalid(id, 'body longer than its Byte-Range');
    if (range.total !== '*' && last > range.total) return this.invalid(id, 'chunk goes past the Byte-Range total');

    let p = this.partials.get(id);
    if (!p) {
      if (this.partials.size >= this.limits.maxPartialMessages) return this.refuse(id, 'too many partial messages');
      p = { data: Buffer.alloc(0), high: 0, ranges: [], contentType, tid: req.tid, tidIsFirst: range.start === 1, successReport, failureReport };
      this.partials.set(id, p);
    } else if (range.start === 1 && !p.tidIsFirst) {
      p.tid = req.tid;
      p.tidIsFirst = true;
    }
    if (range.total !== '*') {
      if (p.declaredTotal !== undefined && p.declaredTotal !== range.total) return this.invalid(id, 'Byte-Range total changed between chunks');
      p.declaredTotal = range.total;
    }
    if (req.flag === '$') p.finalTotal = last;
    if (!this.store(p, range.start - 1, body)) return this.refuse(id, 'too much buffered data');
    if (p.ranges.length > (this.limits.maxFragments ?? DEFAULT_MAX_FRAGMENTS)) return this.refuse(id, 'message too fragmented');

    const total = p.finalTotal ?? p.declaredTotal;
    if (total === undefined) return { kind: 'partial' };
    if (p.high > total) return this.invalid(id, 'data received past the end of the message');
    const first = p.ranges[0];
    if (total > 0 && !(p.ranges.length === 1 && first !== undefined && first[0] === 0 && first[1] >= total)) return { kind: 'partial' };
    this.drop(id);
    return this.done(id, { contentType: p.contentType, body: Buffer.from(p.data.subarray(0, total)), tid: p.tid, successReport: p.successReport, failureReport: p.failureReport });
  }

  /** Writes a chunk at `offset` (later data wins over earlier); false when over the byte budget. */
  private store(p: Partial, offset: number, body: Buffer): boolean {
    const end = offset + body.length;
    if (end > p.data.length) {
      // Grow geometrically but never past the message limit, which was checked already.
      const size = Math.min(this.limits.maxMessageBytes, Math.max(end, p.data.length * 2, 1024));
      const growth = size - p.data.length;
      if (this.buffered + growth > this.limits.maxBufferedBytes) return false;
      const bigger = Buffer.alloc(size);
      p.data.copy(bigger, 0, 0, p.high);
      p.data = bigger;
      this.buffered += growth;
    }
    body.copy(p.data, offset);
    p.high = Math.max(p.high, end);
    addRange(p.ranges, offset, end);
    return true;
  }

  private done(id: string, m: Omit<ReassembledMessage, 'messageId' | 'duplicate'>): ChunkOutcome {
    const duplicate = this.completed.has(id);
    this.completed.add(id);
    return { kind: 'complete', message: { messageId: id, ...m, duplicate } };
  }

  private drop(id: string): void {
    const p = this.partials.get(id);
    if (!p) return;
    this.buffered -= p.data.length;
    this.partials.delete(id);
  }

  private refuse(id: string, reason: string): ChunkOutcome {
    // §10.5: after a 413 the sender "MUST NOT send any further chunks in the message"; any that still
    // arrive get 413 again instead of being buffered.
    this.drop(id);
    this.refused.add(id);
    return { kind: 'reject', code: 413, reason };
  }

  private invalid(id: string, reason: string): ChunkOutcome {
    this.drop(id);
    return { kind: 'reject', code: 400, reason };
  }
}
