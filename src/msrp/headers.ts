/**
 * Values of the MSRP header fields with a defined syntax (RFC 4975 §9):
 *
 *   Byte-Range     = "Byte-Range:" SP range-start "-" range-end "/" total
 *   range-start    = 1*DIGIT ; range-end = 1*DIGIT / "*" ; total = 1*DIGIT / "*"
 *   Status         = "Status:" SP namespace SP status-code [SP comment]
 *   Success-Report = "Success-Report:" SP ("yes" / "no")
 *   Failure-Report = "Failure-Report:" SP ("yes" / "no" / "partial")
 *
 * Parsers never throw. Numbers longer than Number.MAX_SAFE_INTEGER are refused
 * (§14.5 asks for "sanity checking on byte-range values" before anything is
 * allocated from them).
 */
import { type Result, fail, ok } from '../sip/bodies/result.js';

export interface ByteRange {
  /** Position of the first byte of the body in the message; the first byte of a message is 1 (§7.1.1). */
  start: number;
  /** Position of the last byte, or "*" when unknown or the chunk is interruptible (§7.1.1). */
  end: number | '*';
  /** Size of the whole message, or "*" when not known in advance (§7.1.1). */
  total: number | '*';
}

export type SuccessReport = 'yes' | 'no';
export type FailureReport = 'yes' | 'no' | 'partial';

export interface MsrpStatus {
  /** "000" for the codes of RFC 4975 (§7.1.3). */
  namespace: string;
  code: number;
  comment?: string;
}

const NUMBER = /^[0-9]{1,16}$/;
const THREE_DIGITS = /^[0-9]{3}$/;

function parseCount(text: string, what: string): Result<number> {
  if (!NUMBER.test(text)) return fail(`invalid ${what} "${text.slice(0, 40)}"`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) return fail(`${what} out of range`);
  return ok(n);
}

/** Parses a Byte-Range value and checks that its three numbers agree with each other. */
export function parseByteRange(value: string): Result<ByteRange> {
  const dash = value.indexOf('-');
  const slash = value.indexOf('/', dash + 1);
  if (dash <= 0 || slash < 0) return fail(`malformed Byte-Range "${value.slice(0, 60)}"`);
  const start = parseCount(value.slice(0, dash), 'range-start');
  if (!start.ok) return start;
  const endText = value.slice(dash + 1, slash);
  const totalText = value.slice(slash + 1);
  let end: number | '*' = '*';
  if (endText !== '*') {
    const r = parseCount(endText, 'range-end');
    if (!r.ok) return r;
    end = r.value;
  }
  let total: number | '*' = '*';
  if (totalText !== '*') {
    const r = parseCount(totalText, 'total');
    if (!r.ok) return r;
    total = r.value;
  }
  // §7.1.1: positions start at one, and even empty content has range-start 1 ("1-0/0").
  if (start.value < 1) return fail('range-start must be at least 1');
  if (end !== '*' && end < start.value - 1) return fail('range-end before range-start');
  if (total !== '*' && end !== '*' && end > total) return fail('range-end beyond total');
  if (total !== '*' && start.value > total + 1) return fail('range-start beyond total');
  return ok({ start: start.value, end, total });
}

export function formatByteRange(r: ByteRange): string {
  return `${r.start}-${r.end}/${r.total}`;
}

export function parseSuccessReport(value: string): Result<SuccessReport> {
  // ABNF string literals are case-insensitive (RFC 4234 §2.3).
  const v = value.toLowerCase();
  return v === 'yes' || v === 'no' ? ok(v) : fail(`invalid Success-Report "${value.slice(0, 40)}"`);
}

export function parseFailureReport(value: string): Result<FailureReport> {
  const v = value.toLowerCase();
  return v === 'yes' || v === 'no' || v === 'partial' ? ok(v) : fail(`invalid Failure-Report "${value.slice(0, 40)}"`);
}

export function parseStatus(value: string): Result<MsrpStatus> {
  const namespace = value.slice(0, 3);
  const code = value.slice(4, 7);
  if (!THREE_DIGITS.test(namespace) || value[3] !== ' ' || !THREE_DIGITS.test(code)) {
    return fail(`malformed Status "${value.slice(0, 60)}"`);
  }
  if (value.length > 7 && value[7] !== ' ') return fail(`malformed Status "${value.slice(0, 60)}"`);
  const status: MsrpStatus = { namespace, code: Number(code) };
  if (value.length > 8) status.comment = value.slice(8);
  return ok(status);
}

export function formatStatus(s: MsrpStatus): string {
  return `${s.namespace} ${String(s.code).padStart(3, '0')}${s.comment !== undefined ? ` ${s.comment}` : ''}`;
}

/** Comment phrases for the response codes of §10, used in start lines and Status headers. */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  408: 'Request Timeout',
  413: 'Message Too Large',
  415: 'Unsupported Media Type',
  423: 'Parameter Out Of Bounds',
  481: 'Session Does Not Exist',
  501: 'Not Implemented',
  506: 'Session Already Bound',
};
