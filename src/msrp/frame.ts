/**
 * The MSRP frame model and the serializer (RFC 4975 §7.1, §7.2, §9).
 *
 *   msrp-request  = req-start headers [content-stuff] end-line
 *   msrp-response = resp-start headers end-line
 *   headers       = To-Path CRLF From-Path CRLF 1*( header CRLF )
 *   content-stuff = *(Other-Mime-header CRLF) Content-Type 2CRLF data CRLF
 *   end-line      = "-------" transact-id continuation-flag CRLF
 *
 * The serializer takes trusted input (built by this module's own callers) and
 * throws a TypeError when it cannot be written safely: a header value with a
 * line break, a body that contains its own end-line, and so on. That is a
 * programming error, not a network condition.
 */
import { type ByteRange, type FailureReport, type MsrpStatus, type SuccessReport, formatByteRange, formatStatus } from './headers.js';
import { isValidMessageId, isValidTid } from './ids.js';
import { type MsrpUri, formatMsrpPath } from './uri.js';

/** "$" the message ends here, "+" more chunks follow, "#" the message is aborted (§7.1). */
export type ContinuationFlag = '$' | '+' | '#';

export interface MsrpHeaderField {
  /** Name as written on the wire. Header names are compared case-insensitively (ABNF literals). */
  name: string;
  value: string;
}

interface FrameCommon {
  tid: string;
  toPath: MsrpUri[];
  fromPath: MsrpUri[];
  /** Every header field in wire order, To-Path and From-Path included. */
  headers: MsrpHeaderField[];
  flag: ContinuationFlag;
}

export interface MsrpRequest extends FrameCommon {
  kind: 'request';
  /** "SEND", "REPORT" or an extension method (1*UPALPHA). */
  method: string;
  messageId?: string;
  byteRange?: ByteRange;
  successReport?: SuccessReport;
  failureReport?: FailureReport;
  status?: MsrpStatus;
  /** Content-Type value as written. */
  contentType?: string;
  /** The body; null for a bodiless request, which differs from an empty body (§7.1). */
  body: Buffer | null;
  /**
   * Why a known header field is unusable (bad Byte-Range, duplicate header,
   * Content-Type not last…). The framing was intact, so the connection can go
   * on: the request is answered 400 (§10.2) instead of closing the connection.
   */
  invalid?: string;
}

export interface MsrpResponse extends FrameCommon {
  kind: 'response';
  code: number;
  comment?: string;
}

export type MsrpFrame = MsrpRequest | MsrpResponse;

export interface OutgoingRequest {
  tid: string;
  method: string;
  toPath: readonly MsrpUri[];
  fromPath: readonly MsrpUri[];
  messageId?: string;
  byteRange?: ByteRange;
  successReport?: SuccessReport;
  failureReport?: FailureReport;
  status?: MsrpStatus;
  /** Further header fields, written after the ones above and before Content-Type. */
  extraHeaders?: readonly MsrpHeaderField[];
  contentType?: string;
  /** Absent or null: a bodiless request. */
  body?: Buffer | null;
  /** Default "$". */
  flag?: ContinuationFlag;
}

export interface OutgoingResponse {
  tid: string;
  code: number;
  comment?: string;
  toPath: readonly MsrpUri[];
  fromPath: readonly MsrpUri[];
}

export const END_LINE_DASHES = '-------';
const CRLF = '\r\n';
const METHOD = /^[A-Z]{1,32}$/;
// hname = ALPHA *token (§9)
const HNAME = /^[A-Za-z][\x21\x23-\x27\x2A\x2B\x2D\x2E\x30-\x39\x41-\x5A\x5E-\x7E]*$/;
// utf8text minus what cannot appear safely: any control character except HTAB.
const UNSAFE_TEXT = /[\x00-\x08\x0A-\x1F\x7F]/;
const RESERVED_NAMES = new Set(['to-path', 'from-path', 'message-id', 'byte-range', 'success-report', 'failure-report', 'status', 'content-type']);

function checkText(what: string, value: string): string {
  if (UNSAFE_TEXT.test(value)) throw new TypeError(`${what} contains a control character`);
  return value;
}

function checkTid(tid: string): void {
  if (!isValidTid(tid)) throw new TypeError(`invalid transaction id "${tid}"`);
}

/** True when `body` contains the end-line prefix of `tid`, so that tid cannot frame it (§7.1). */
export function bodyContainsEndLine(body: Uint8Array, tid: string): boolean {
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).includes(`${END_LINE_DASHES}${tid}`, 0, 'latin1');
}

/** Serializes a request to its exact wire bytes. Throws a TypeError on unsafe input. */
export function serializeRequest(req: OutgoingRequest): Buffer {
  checkTid(req.tid);
  if (!METHOD.test(req.method)) throw new TypeError(`invalid method "${req.method}"`);
  if (req.toPath.length === 0 || req.fromPath.length === 0) throw new TypeError('To-Path and From-Path must not be empty');
  const lines = [
    `MSRP ${req.tid} ${req.method}`,
    `To-Path: ${formatMsrpPath(req.toPath)}`,
    `From-Path: ${formatMsrpPath(req.fromPath)}`,
  ];
  if (req.messageId !== undefined) {
    if (!isValidMessageId(req.messageId)) throw new TypeError(`invalid Message-ID "${req.messageId}"`);
    lines.push(`Message-ID: ${req.messageId}`);
  }
  if (req.byteRange !== undefined) lines.push(`Byte-Range: ${formatByteRange(req.byteRange)}`);
  if (req.successReport !== undefined) lines.push(`Success-Report: ${req.successReport}`);
  if (req.failureReport !== undefined) lines.push(`Failure-Report: ${req.failureReport}`);
  if (req.status !== undefined) lines.push(`Status: ${checkText('Status comment', formatStatus(req.status))}`);
  for (const h of req.extraHeaders ?? []) {
    if (!HNAME.test(h.name) || RESERVED_NAMES.has(h.name.toLowerCase())) throw new TypeError(`invalid extra header name "${h.name}"`);
    lines.push(`${h.name}: ${checkText(h.name, h.value)}`);
  }
  const body = req.body ?? null;
  const flag = req.flag ?? '$';
  const endLine = `${END_LINE_DASHES}${req.tid}${flag}${CRLF}`;
  if (body === null) {
    // §7.1: "A request with no body MUST NOT include a Content-Type".
    if (req.contentType !== undefined) throw new TypeError('Content-Type without a body');
    return Buffer.from(`${lines.join(CRLF)}${CRLF}${endLine}`, 'utf8');
  }
  // §7.1: a request with a body MUST have a Content-Type, and it is the last header field.
  if (req.contentType === undefined) throw new TypeError('a body needs a Content-Type');
  lines.push(`Content-Type: ${checkText('Content-Type', req.contentType)}`);
  // §7.1: the end-line MUST NOT appear in the body; the caller picks another tid.
  if (bodyContainsEndLine(body, req.tid)) throw new TypeError('the body contains the end-line of its transaction id');
  return Buffer.concat([
    Buffer.from(`${lines.join(CRLF)}${CRLF}${CRLF}`, 'utf8'),
    body,
    Buffer.from(`${CRLF}${endLine}`, 'latin1'),
  ]);
}

/** Serializes a response (§7.2): start line, To-Path, From-Path, end-line with "$". */
export function serializeResponse(res: OutgoingResponse): Buffer {
  checkTid(res.tid);
  if (!Number.isInteger(res.code) || res.code < 100 || res.code > 999) throw new TypeError(`invalid status code ${res.code}`);
  const comment = res.comment !== undefined ? ` ${checkText('comment', res.comment)}` : '';
  const text = [
    `MSRP ${res.tid} ${res.code}${comment}`,
    `To-Path: ${formatMsrpPath(res.toPath)}`,
    `From-Path: ${formatMsrpPath(res.fromPath)}`,
    // §7.2: "Since a response is never chunked, the continuation flag … will always contain a dollar sign".
    `${END_LINE_DASHES}${res.tid}$`,
  ].join(CRLF);
  return Buffer.from(`${text}${CRLF}`, 'utf8');
}

/** The first header field called `name` (case-insensitive), if any. */
export function headerValue(frame: MsrpFrame, name: string): string | undefined {
  const lower = name.toLowerCase();
  return frame.headers.find((h) => h.name.toLowerCase() === lower)?.value;
}
