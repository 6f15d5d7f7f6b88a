/** Public shapes of MSRP sessions: states, events, options (see session.ts). */
import type { Logger } from '../log/logger.js';
import type { Result } from '../sip/bodies/result.js';
import type { MsrpConnection } from './connection.js';
import type { ByteRange, FailureReport } from './headers.js';
import type { ReassembledMessage, ReassemblyLimits } from './reassembly.js';
import type { MsrpSession } from './session.js';
import type { MsrpUri } from './uri.js';

export type SessionState = 'new' | 'connecting' | 'waiting' | 'bound' | 'closed';
export type SessionRole = 'active' | 'passive';
/** SDP direction of our side (§8.9): a peer may not send us message content on sendonly/inactive. */
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** A complete message (chunks reassembled); `successReport`: the sender asked for a REPORT (RFC 7573 maps `tid` to the XMPP id). */
export type MsrpMessage = ReassembledMessage;

export interface MsrpReport {
  messageId: string;
  /** Status namespace; "000" means `code` reads like a transaction response (§7.3.2). */
  namespace: string;
  code: number;
  comment?: string;
  byteRange?: ByteRange;
  tid: string;
}

export interface MsrpSendError {
  messageId: string;
  /** The error response code, or 408 when no response came in time (§7.1.1, §10.4). */
  code: number;
  reason: string;
}

export interface SessionEvents {
  message: [MsrpMessage];
  report: [MsrpReport];
  sendError: [MsrpSendError];
  closed: [reason: string];
}

export interface SendOptions {
  contentType: string;
  body: Buffer | string;
  /** Ask for a success REPORT (default false; RFC 7573 §7 maps XEP-0184 requests to it). */
  successReport?: boolean;
  /** Default "no": RFC 7573 §7 says gateways SHOULD set it. "yes" runs the 30 s transaction timer. */
  failureReport?: FailureReport;
  /** Reuse a Message-ID (§5.4: a resent message keeps its id). Default: a new random one. */
  messageId?: string;
  /** Wanted tid of the first chunk; a random one is used when it is not a valid, unused, safe tid. */
  tid?: string;
}

export interface SessionOptions {
  /** Our accept-types (§8.6); other top-level types get 415. Default: the endpoint's. */
  acceptTypes?: string[];
  /** Our max-size (§8.6); larger messages get 413. Default: the endpoint's. */
  maxMessageBytes?: number;
  direction?: Direction;
  /**
   * Hold success REPORTs until reportSuccess() (RFC 7573 §7: a gateway sends
   * the REPORT when the XMPP recipient acknowledges with XEP-0184 <received/>).
   * Default false: the REPORT goes out when the message is complete (§7.1.3).
   */
  deferSuccessReports?: boolean;
}

/** What a session needs from its endpoint. */
export interface SessionHost {
  log: Logger;
  /** A log label for a new session (a counter; never the secret session-id). */
  nextLabel(): number;
  chunkSize: number;
  transactionTimeoutMs: number;
  bindTimeoutMs: number;
  maxQueuedMessages: number;
  reassembly: Omit<ReassemblyLimits, 'maxMessageBytes'>;
  openConnection(uri: MsrpUri): Promise<Result<MsrpConnection>>;
  forget(session: MsrpSession): void;
}
