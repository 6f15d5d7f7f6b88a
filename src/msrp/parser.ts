/**
 * Incremental, strict MSRP stream parser (RFC 4975 §7.1, §9).
 *
 * Bytes go in as they come off the socket (`push`), whole frames come out.
 * Framing is by end-line, not by length: a body ends at the first
 * CRLF "-------" tid flag CRLF (§7.1), which may be split across reads and may
 * be preceded by text that looks like the end-line of another transaction.
 *
 * Two kinds of problems:
 *  - framing errors (bad start line, bad tid, header line syntax, sizes, missing
 *    or unparseable To-Path/From-Path, end-line problems): the stream cannot be
 *    trusted any more, so `push` returns `error` and the parser stays failed. The
 *    connection owner closes the connection and logs the reason;
 *  - an unusable known header value (Byte-Range, Message-ID, duplicates…): the
 *    frame is still delimited correctly, so it comes out with `invalid` set and
 *    the request can be answered 400 (§10.2) without dropping other sessions on
 *    the connection.
 *
 * Nothing here throws on network input.
 */
import { describe as describeError } from '../sip/bodies/result.js';
import { type ContinuationFlag, END_LINE_DASHES, type MsrpFrame, type MsrpRequest, type MsrpResponse } from './frame.js';
import { type FrameHead, FramingError, markInvalid, parseHeaderLine, parseStartLine } from './frame-head.js';
import type { MsrpUri } from './uri.js';

export interface ParserLimits {
  /** Start line + header fields + the line that ends them. Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Header fields per frame, paths included. Default 64. */
  maxHeaders?: number;
  /** Body of one request (one chunk). Default 1 MiB. */
  maxBodyBytes?: number;
}

export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
export const DEFAULT_MAX_HEADERS = 64;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** §7.1: "Non-SEND request bodies MUST NOT be larger than 10240 octets." */
export const MAX_NON_SEND_BODY_BYTES = 10240;

export interface ParseResult {
  frames: MsrpFrame[];
  /** Set once the stream is unusable; every later push returns the same error. */
  error?: string;
}

const PREFIX = Buffer.from('MSRP ', 'latin1');
const CR = 0x0d;
const LF = 0x0a;
const CONTROL = /[\x00-\x08\x0A-\x1F\x7F]/;
const FLAGS = new Set([0x24, 0x2b, 0x23]); // $ + #

export class MsrpParser {
  /** Grows on demand: an idle connection holds no buffer (thousands of connections, one per SIP client). */
  private buf = Buffer.alloc(0);
  private len = 0;
  /** Start of the frame being parsed. */
  private pos = 0;
  private lineStart = 0;
  /** Where the search for the next CRLF resumes: bytes before it were searched already (no rescans on slow input). */
  private eolScan = 0;
  private head: FrameHead | null = null;
  private inBody = false;
  private bodyStart = 0;
  private scanFrom = 0;
  private bodyLimit = 0;
  private failure: string | undefined;
  private readonly maxHeaderBytes: number;
  private readonly maxHeaders: number;
  private readonly maxBodyBytes: number;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  constructor(limits: ParserLimits = {}) {
    this.maxHeaderBytes = limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    this.maxHeaders = limits.maxHeaders ?? DEFAULT_MAX_HEADERS;
    this.maxBodyBytes = limits.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  /** The framing error that stopped the parser, if any. */
  get error(): string | undefined {
    return this.failure;
  }

  /** Bytes received but not yet part of a complete frame. */
  get buffered(): number {
    return this.len - this.pos;
  }

  push(data: Uint8Array): ParseResult {
    if (this.failure !== undefined) return { frames: [], error: this.failure };
    this.append(data);
    const frames: MsrpFrame[] = [];
    try {
      for (;;) {
        const frame = this.inBody ? this.stepBody() : this.stepHead();
        if (frame === null) break;
        frames.push(frame);
      }
    } catch (e) {
      // FramingError is the expected path; anything else is a bug, still kept inside.
      this.failure = e instanceof FramingError ? e.message : `parser failure: ${describeError(e)}`;
      return { frames, error: this.failure };
    }
    this.compact();
    return { frames };
  }

  /** End of stream: an error when it cut a frame in half. */
  end(): string | undefined {
    if (this.failure !== undefined) return this.failure;
    return this.len > this.pos ? `stream ended inside a frame (${this.len - this.pos} bytes pending)` : undefined;
  }

  private append(data: Uint8Array): void {
    const need = this.len + data.byteLength;
    if (need > this.buf.length) {
      const bigger = Buffer.alloc(Math.max(need, this.buf.length * 2, 4096));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    this.buf.set(data, this.len);
    this.len = need;
  }

  /** Drops consumed bytes, once per push (not per frame, which would be quadratic). */
  private compact(): void {
    if (this.pos === 0) return;
    this.buf.copy(this.buf, 0, this.pos, this.len);
    this.len -= this.pos;
    // A large message grew the buffer; an idle connection should not keep it.
    if (this.len === 0 && this.buf.length > 16 * 1024) this.buf = Buffer.alloc(0);
    this.lineStart -= this.pos;
    this.eolScan -= this.pos;
    this.bodyStart -= this.pos;
    this.scanFrom -= this.pos;
    this.pos = 0;
  }

  private view(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  private stepHead(): MsrpFrame | null {
    if (this.head === null && this.lineStart === this.pos) {
      // Refuse garbage (an HTTP client, TLS on a TCP port…) without waiting for a line end.
      const n = Math.min(PREFIX.length, this.len - this.pos);
      if (n === 0) return null;
      if (this.buf.compare(PREFIX, 0, n, this.pos, this.pos + n) !== 0) throw new FramingError('not an MSRP frame (expected "MSRP ")');
    }
    for (;;) {
      const eol = this.view().indexOf('\r\n', this.eolScan, 'latin1');
      if (eol < 0) {
        if (this.len - this.pos > this.maxHeaderBytes) throw new FramingError(`header section larger than ${this.maxHeaderBytes} bytes`);
        if (this.view().indexOf(LF, this.eolScan) >= 0) throw new FramingError('bare LF in header section (CRLF required)');
        // The last byte may be the CR of a CRLF split across reads.
        this.eolScan = Math.max(this.lineStart, this.len - 1);
        return null;
      }
      if (eol + 2 - this.pos > this.maxHeaderBytes) throw new FramingError(`header section larger than ${this.maxHeaderBytes} bytes`);
      const line = this.decodeLine(this.lineStart, eol);
      this.lineStart = eol + 2;
      this.eolScan = this.lineStart;
      if (this.head === null) {
        this.head = parseStartLine(line);
        continue;
      }
      const head = this.head;
      if (line.startsWith(END_LINE_DASHES)) return this.endLineWithoutBody(head, line);
      if (line === '') {
        this.beginBody(head);
        return this.stepBody();
      }
      parseHeaderLine(head, line, this.maxHeaders);
    }
  }

  private decodeLine(from: number, to: number): string {
    let line: string;
    try {
      line = this.decoder.decode(this.buf.subarray(from, to));
    } catch {
      throw new FramingError('invalid UTF-8 in header section');
    }
    // utf8text (§9) allows HTAB and printable characters only; a lone CR or LF is a framing attack.
    if (CONTROL.test(line)) throw new FramingError('control character in header section');
    return line;
  }

  private requirePaths(head: FrameHead): { toPath: MsrpUri[]; fromPath: MsrpUri[] } {
    if (!head.toPath || !head.fromPath) throw new FramingError('missing To-Path or From-Path');
    return { toPath: head.toPath, fromPath: head.fromPath };
  }

  private endLineWithoutBody(head: FrameHead, line: string): MsrpFrame {
    const expected = `${END_LINE_DASHES}${head.tid}`;
    const flag = line.slice(expected.length);
    if (!line.startsWith(expected) || (flag !== '$' && flag !== '+' && flag !== '#')) {
      throw new FramingError('end-line does not match the transaction id');
    }
    if (head.req.contentType !== undefined) markInvalid(head, 'Content-Type in a request without a body (RFC 4975 §7.1)');
    return this.finish(head, flag, null, this.lineStart);
  }

  private beginBody(head: FrameHead): void {
    // msrp-response = resp-start headers end-line: a response never has a body (§9).
    if (head.method === undefined) throw new FramingError('response with a body');
    this.requirePaths(head);
    if (head.req.contentType === undefined) markInvalid(head, 'a body without Content-Type (RFC 4975 §7.1)');
    this.inBody = true;
    this.bodyStart = this.lineStart;
    this.scanFrom = this.bodyStart;
    this.bodyLimit = head.method === 'SEND' ? this.maxBodyBytes : Math.min(this.maxBodyBytes, MAX_NON_SEND_BODY_BYTES);
  }

  private stepBody(): MsrpFrame | null {
    const head = this.head;
    if (head === null) throw new FramingError('parser state lost');
    const marker = `${END_LINE_DASHES}${head.tid}`;
    for (;;) {
      const at = this.view().indexOf(marker, this.scanFrom, 'latin1');
      if (at < 0) {
        // Bytes before scanFrom cannot start a marker any more.
        this.scanFrom = Math.max(this.bodyStart, this.len - marker.length + 1);
        if (this.scanFrom - this.bodyStart - 2 > this.bodyLimit) throw new FramingError(`body larger than ${this.bodyLimit} bytes`);
        return null;
      }
      // Everything before the marker's CRLF is body, whatever follows.
      if (at - 2 - this.bodyStart > this.bodyLimit) throw new FramingError(`body larger than ${this.bodyLimit} bytes`);
      const flagAt = at + marker.length;
      if (flagAt >= this.len) {
        this.scanFrom = at;
        return null;
      }
      const flagByte = this.buf[flagAt] ?? 0;
      // "-------abcd" followed by anything but a flag is body text (e.g. the tid "abcde" of another request).
      if (!FLAGS.has(flagByte)) {
        this.scanFrom = at + 1;
        continue;
      }
      if (flagAt + 2 >= this.len) {
        this.scanFrom = at;
        return null;
      }
      // §7.1: the sender MUST keep "-------" tid flag out of the body, so every occurrence is the end-line
      // and has to be complete: CRLF before it (not part of the body) and CRLF after it (§9 end-line).
      if (this.buf[flagAt + 1] !== CR || this.buf[flagAt + 2] !== LF) throw new FramingError('end-line not followed by CRLF');
      if (at - 2 < this.bodyStart || this.buf[at - 2] !== CR || this.buf[at - 1] !== LF) {
        throw new FramingError('end-line not preceded by CRLF (or end-line text inside the body)');
      }
      const bodyEnd = at - 2;
      // Copy: the parser's buffer is reused for the next bytes.
      const body = Buffer.from(this.buf.subarray(this.bodyStart, bodyEnd));
      const flag = String.fromCharCode(flagByte) as ContinuationFlag;
      this.inBody = false;
      return this.finish(head, flag, body, flagAt + 3);
    }
  }

  private finish(head: FrameHead, flag: ContinuationFlag, body: Buffer | null, next: number): MsrpFrame {
    const { toPath, fromPath } = this.requirePaths(head);
    this.head = null;
    this.pos = next;
    this.lineStart = next;
    this.eolScan = next;
    this.scanFrom = next;
    this.bodyStart = next;
    if (head.method === undefined) {
      // §7.2: a response is never chunked, so its flag is always "$".
      if (flag !== '$') throw new FramingError('response end-line flag must be "$"');
      const res: MsrpResponse = { kind: 'response', tid: head.tid, code: head.code ?? 0, toPath, fromPath, headers: head.headers, flag };
      if (head.comment !== undefined) res.comment = head.comment;
      return res;
    }
    const req: MsrpRequest = { ...head.req, kind: 'request', tid: head.tid, method: head.method, toPath, fromPath, headers: head.headers, flag, body };
    if (head.invalid !== undefined) req.invalid = head.invalid;
    return req;
  }
}
