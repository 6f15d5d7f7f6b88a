/**
 * The header section of one frame, line by line (RFC 4975 §9): the start line,
 * then header fields. Used by the stream parser, which owns the bytes; this
 * file owns the meaning of each line.
 *
 *   req-start  = pMSRP SP transact-id SP method CRLF
 *   resp-start = pMSRP SP transact-id SP status-code [SP comment] CRLF
 *   headers    = To-Path CRLF From-Path CRLF 1*( header CRLF )
 *   ext-header = hname ":" SP hval CRLF ; hname = ALPHA *token
 *
 * Syntax errors of a line throw FramingError (the stream is closed). Values
 * of known header fields that do not parse only set `invalid` (answered 400).
 */
import { parseContentType } from '../sip/bodies/content-type.js';
import type { MsrpHeaderField, MsrpRequest } from './frame.js';
import { parseByteRange, parseFailureReport, parseStatus, parseSuccessReport } from './headers.js';
import { isValidMessageId, isValidTid } from './ids.js';
import { type MsrpUri, parseMsrpPath } from './uri.js';

/** A framing error: the byte stream cannot be trusted any more. */
export class FramingError extends Error {}

/** The header section parsed so far. */
export interface FrameHead {
  tid: string;
  /** Set for requests. */
  method?: string;
  /** Set for responses. */
  code?: number;
  comment?: string;
  headers: MsrpHeaderField[];
  toPath?: MsrpUri[];
  fromPath?: MsrpUri[];
  /** Typed values of the known header fields. */
  req: Partial<MsrpRequest>;
  invalid?: string;
  contentTypeIndex: number;
}

const HEADER_LINE = /^([A-Za-z][\x21\x23-\x27\x2A\x2B\x2D\x2E\x30-\x39\x41-\x5A\x5E-\x7E]*): (.*)$/s;
const RESPONSE_REST = /^([0-9]{3})(?: (.*))?$/s;
const METHOD = /^[A-Z]{1,32}$/;

export function parseStartLine(line: string): FrameHead {
  const sp = line.indexOf(' ', 5);
  if (!line.startsWith('MSRP ') || sp < 0) throw new FramingError('malformed start line');
  const tid = line.slice(5, sp);
  // The tid frames the body, so it must be exactly the ident of §9.
  if (!isValidTid(tid)) throw new FramingError(`invalid transaction id "${tid.slice(0, 40)}"`);
  const rest = line.slice(sp + 1);
  const head: FrameHead = { tid, headers: [], req: {}, contentTypeIndex: -1 };
  const resp = RESPONSE_REST.exec(rest);
  if (resp) {
    head.code = Number(resp[1]);
    if (resp[2] !== undefined) head.comment = resp[2];
  } else if (METHOD.test(rest)) {
    // other-method = 1*UPALPHA: unknown methods parse, and get 501 later (§12).
    head.method = rest;
  } else {
    throw new FramingError(`malformed method or status "${rest.slice(0, 40)}"`);
  }
  return head;
}

export function markInvalid(head: FrameHead, reason: string): void {
  head.invalid ??= reason;
}

function typed<T>(head: FrameHead, r: { ok: true; value: T } | { ok: false; error: string }, set: (v: T) => void): void {
  if (r.ok) set(r.value);
  else markInvalid(head, r.error);
}

export function parseHeaderLine(head: FrameHead, line: string, maxHeaders: number): void {
  const m = HEADER_LINE.exec(line);
  if (!m) throw new FramingError(`malformed header line "${line.slice(0, 60)}"`);
  const name = m[1] ?? '';
  const value = m[2] ?? '';
  if (head.headers.length >= maxHeaders) throw new FramingError(`more than ${maxHeaders} header fields`);
  // Header names are ABNF literals, so case-insensitive.
  const lower = name.toLowerCase();
  const index = head.headers.length;
  head.headers.push({ name, value });
  // headers = To-Path CRLF From-Path CRLF … (§9): the paths come first, in this order.
  // Without them no response could even be addressed, so this is a framing error.
  if (index === 0 || index === 1) {
    const expected = index === 0 ? 'to-path' : 'from-path';
    if (lower !== expected) throw new FramingError(`header field ${index + 1} must be ${index === 0 ? 'To-Path' : 'From-Path'}`);
    const path = parseMsrpPath(value);
    if (!path.ok) throw new FramingError(`invalid ${name}: ${path.error}`);
    if (index === 0) head.toPath = path.value;
    else head.fromPath = path.value;
    return;
  }
  // §7.1: "The Content-Type header field MUST be the last field in the message header section."
  if (head.contentTypeIndex >= 0) markInvalid(head, 'Content-Type must be the last header field (RFC 4975 §7.1)');
  const req = head.req;
  const once = (present: boolean): boolean => {
    if (present) markInvalid(head, `duplicate ${name} header field`);
    return !present;
  };
  switch (lower) {
    case 'to-path':
    case 'from-path':
      markInvalid(head, `duplicate ${name} header field`);
      break;
    case 'message-id':
      if (once(req.messageId !== undefined)) {
        if (isValidMessageId(value)) req.messageId = value;
        else markInvalid(head, 'invalid Message-ID');
      }
      break;
    case 'byte-range':
      if (once(req.byteRange !== undefined)) typed(head, parseByteRange(value), (v) => { req.byteRange = v; });
      break;
    case 'success-report':
      if (once(req.successReport !== undefined)) typed(head, parseSuccessReport(value), (v) => { req.successReport = v; });
      break;
    case 'failure-report':
      if (once(req.failureReport !== undefined)) typed(head, parseFailureReport(value), (v) => { req.failureReport = v; });
      break;
    case 'status':
      if (once(req.status !== undefined)) typed(head, parseStatus(value), (v) => { req.status = v; });
      break;
    case 'content-type':
      if (once(req.contentType !== undefined)) {
        if (parseContentType(value) === null) markInvalid(head, 'invalid Content-Type');
        req.contentType = value;
      }
      head.contentTypeIndex = index;
      break;
    default:
      // §12: unknown header fields are ignored (kept in `headers` for the caller).
      break;
  }
}
