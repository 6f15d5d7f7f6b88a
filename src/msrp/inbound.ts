/**
 * Decisions about inbound requests that need no socket (RFC 4975 §7.1.2–§7.3,
 * §8.6, §10): whether a response may be sent, how it is addressed, whether a
 * request is acceptable, and the success REPORT.
 */
import { parseContentType } from '../sip/bodies/content-type.js';
import type { MsrpRequest, OutgoingRequest, OutgoingResponse } from './frame.js';
import { type FailureReport, STATUS_TEXT } from './headers.js';
import type { MsrpUri } from './uri.js';

/**
 * Whether a transaction response with `code` may be sent for a request whose
 * Failure-Report is `fr` (§7.1.4, §7.2):
 *  - absent or "yes": always (the sender runs a 30 s timer waiting for it);
 *  - "partial": error responses only ("MUST NOT send a 200");
 *  - "no": never ("MUST NOT send a transaction response").
 */
export function mayRespond(fr: FailureReport | undefined, code: number): boolean {
  if (fr === 'no') return false;
  if (fr === 'partial') return code !== 200;
  return true;
}

/**
 * A response to `req` (§7.2): the tid of the request; To-Path is the first URI
 * of the request's From-Path for SEND ("returned only to the previous hop") and
 * the whole From-Path for other methods; From-Path is our URI for the session.
 */
export function responseTo(req: MsrpRequest, code: number, self: MsrpUri): OutgoingResponse {
  const first = req.fromPath[0];
  const toPath = req.method === 'SEND' && first ? [first] : req.fromPath;
  return { tid: req.tid, code, comment: STATUS_TEXT[code] ?? 'Error', toPath, fromPath: [self] };
}

/**
 * Method-specific checks a parsed request must pass before it is processed;
 * null when it passes, else the reason for a 400 (§10.2).
 */
export function requestProblem(req: MsrpRequest): string | null {
  if (req.invalid !== undefined) return req.invalid;
  if (req.method === 'SEND' && req.body !== null && req.messageId === undefined) {
    return 'SEND with a body but no Message-ID (RFC 4975 §7.1.1)';
  }
  if (req.method === 'REPORT') {
    // §7.1.2: a REPORT carries Status and Message-ID, never Success-Report or Failure-Report.
    if (req.status === undefined) return 'REPORT without Status';
    if (req.messageId === undefined) return 'REPORT without Message-ID';
    if (req.successReport !== undefined || req.failureReport !== undefined) return 'REPORT with Success-Report or Failure-Report';
  }
  return null;
}

/**
 * Whether `contentType` is acceptable under an accept-types list (§8.6): "*"
 * accepts anything, "type/*" any subtype, and a listed type matches with or
 * without parameters ("a format-entry with one or more parameters is assumed to
 * match the same format-entry with no parameters").
 */
export function acceptsType(acceptTypes: readonly string[], contentType: string): boolean {
  const ct = parseContentType(contentType);
  if (ct === null) return false;
  for (const entry of acceptTypes) {
    if (entry === '*') return true;
    const semi = entry.indexOf(';');
    const mime = (semi >= 0 ? entry.slice(0, semi) : entry).trim().toLowerCase();
    if (mime === ct.mime || mime === `${ct.type}/*`) return true;
  }
  return false;
}

/**
 * The success REPORT for a received message (§7.1.3): To-Path is the From-Path
 * of the original request, From-Path our URI, the same Message-ID, a Byte-Range
 * covering the whole message and "Status: 000 200 OK". No Success-Report or
 * Failure-Report header (§7.1.2).
 */
export function successReport(opts: {
  tid: string;
  messageId: string;
  size: number;
  toPath: readonly MsrpUri[];
  self: MsrpUri;
}): OutgoingRequest {
  return {
    tid: opts.tid,
    method: 'REPORT',
    toPath: opts.toPath,
    fromPath: [opts.self],
    messageId: opts.messageId,
    byteRange: { start: 1, end: opts.size, total: opts.size },
    status: { namespace: '000', code: 200, comment: 'OK' },
  };
}
