/**
 * Splitting an outgoing message into SEND requests (RFC 4975 §5.1, §7.1.1).
 *
 * Every chunk carries the same Message-ID, Content-Type, Success-Report and
 * Failure-Report (§7.1.1: "All chunks of the same message MUST use the same
 * Failure-Report and Success-Report values"), a Byte-Range with the exact
 * positions and the total, and a new transaction id. The last chunk ends with
 * "$", the others with "+".
 *
 * Chunks are at most 2048 bytes: §7.1.1 requires any larger chunk to be
 * interruptible ("*" as range-end and really interrupted when responses or
 * REPORTs wait). Sending small chunks meets that rule without interrupting a
 * write half-way, which is the strategy §7.1.1 explicitly allows ("the sender
 * MAY simply send chunks in 2048-octet increments until the final chunk").
 */
import { type OutgoingRequest, bodyContainsEndLine } from './frame.js';
import type { FailureReport } from './headers.js';
import { isValidTid, newMessageId, newTid } from './ids.js';
import type { MsrpUri } from './uri.js';

/** §7.1.1: chunks above this size would have to be interruptible. */
export const MAX_UNINTERRUPTIBLE_CHUNK = 2048;
export const DEFAULT_CHUNK_SIZE = 2048;

export interface ChunkSource {
  messageId: string;
  contentType: string;
  body: Buffer;
  successReport: boolean;
  failureReport: FailureReport;
  /** Wanted tid of the first chunk (RFC 7573's examples reuse the XMPP id); used only when it can be. */
  tid?: string;
}

export interface ChunkContext {
  toPath: readonly MsrpUri[];
  fromPath: readonly MsrpUri[];
  chunkSize: number;
  /** True when the tid is already used by a transaction in progress on the connection (§7.1). */
  tidInUse: (tid: string) => boolean;
}

/** A tid that frames `body`: fresh randomness unless the wanted one is usable. */
export function pickTid(body: Buffer, inUse: (tid: string) => boolean, wanted?: string): string {
  if (wanted !== undefined && isValidTid(wanted) && !inUse(wanted) && !bodyContainsEndLine(body, wanted)) return wanted;
  for (;;) {
    // §7.1: if the end-line is in the body, "the sender MUST choose a new transaction identifier".
    const tid = newTid();
    if (!inUse(tid) && !bodyContainsEndLine(body, tid)) return tid;
  }
}

/**
 * Lazily yields one SEND per chunk, so that a sender told to stop (413, §10.5)
 * simply stops pulling. An empty body gives one chunk with Byte-Range 1-0/0
 * (§7.1.1: zero-length content "MUST still have a range-start value of 1").
 */
export function* chunkMessage(src: ChunkSource, ctx: ChunkContext): Generator<OutgoingRequest, void, void> {
  const size = Math.max(1, Math.min(ctx.chunkSize, MAX_UNINTERRUPTIBLE_CHUNK));
  const total = src.body.length;
  let offset = 0;
  let first = true;
  do {
    const end = Math.min(total, offset + size);
    const body = src.body.subarray(offset, end);
    const req: OutgoingRequest = {
      tid: pickTid(body, ctx.tidInUse, first ? src.tid : undefined),
      method: 'SEND',
      toPath: ctx.toPath,
      fromPath: ctx.fromPath,
      messageId: src.messageId,
      byteRange: { start: offset + 1, end, total },
      failureReport: src.failureReport,
      contentType: src.contentType,
      body,
      flag: end === total ? '$' : '+',
    };
    // Success-Report absent means "no" (§7.1.1); write it only when asked for.
    if (src.successReport) req.successReport = 'yes';
    yield req;
    first = false;
    offset = end;
  } while (offset < total);
}

/**
 * A bodiless SEND (§5.4 connection binding, §7.1 keepalive): no Content-Type,
 * a Message-ID and Byte-Range 1-0/0 (§7.1.1: zero-length content still has
 * range-start 1), and Failure-Report "yes" so that silence or an error shows.
 */
export function bodilessSend(tid: string, toPath: readonly MsrpUri[], self: MsrpUri): OutgoingRequest {
  return {
    tid,
    method: 'SEND',
    toPath,
    fromPath: [self],
    messageId: newMessageId(),
    byteRange: { start: 1, end: 0, total: 0 },
    failureReport: 'yes',
    body: null,
  };
}
