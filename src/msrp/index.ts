/** MSRP endpoint (RFC 4975) for RFC 7573 chat sessions: URIs, frames, parser, sessions, SDP. */
export {
  type MsrpUri, type MsrpScheme, type MsrpUriParam, type HostType, MAX_URI_LENGTH, MAX_PATH_URIS,
  parseMsrpUri, formatMsrpUri, parseMsrpPath, formatMsrpPath, msrpUriEquals, authorityKey,
} from './uri.js';
export { isValidTid, isValidMessageId, newTid, newMessageId, newSessionId, MAX_MESSAGE_ID_LENGTH } from './ids.js';
export {
  type ByteRange, type SuccessReport, type FailureReport, type MsrpStatus, STATUS_TEXT,
  parseByteRange, formatByteRange, parseStatus, formatStatus, parseSuccessReport, parseFailureReport,
} from './headers.js';
export {
  type ContinuationFlag, type MsrpHeaderField, type MsrpRequest, type MsrpResponse, type MsrpFrame,
  type OutgoingRequest, type OutgoingResponse, serializeRequest, serializeResponse, headerValue, bodyContainsEndLine,
} from './frame.js';
export {
  type ParserLimits, type ParseResult, MsrpParser, DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_HEADERS,
  DEFAULT_MAX_BODY_BYTES, MAX_NON_SEND_BODY_BYTES,
} from './parser.js';
export { type ChunkSource, type ChunkContext, chunkMessage, bodilessSend, pickTid, DEFAULT_CHUNK_SIZE, MAX_UNINTERRUPTIBLE_CHUNK } from './chunker.js';
export { type ReassemblyLimits, type ReassembledMessage, type ChunkOutcome, Reassembler } from './reassembly.js';
export { mayRespond, responseTo, requestProblem, acceptsType, successReport } from './inbound.js';
export {
  type SessionState, type SessionRole, type Direction, type MsrpMessage, type MsrpReport, type MsrpSendError,
  type SessionEvents, type SendOptions, type SessionOptions, MsrpSession,
} from './session.js';
export type { MsrpConnection } from './connection.js';
export { type MsrpEndpointOptions, type MsrpTlsOptions, type EndpointStats, MsrpEndpoint } from './endpoint.js';
export {
  type MsrpSdpInput, type MsrpMedia, type MsrpTransport, type Setup, type SdpDirection,
  buildMsrpSdp, parseMsrpSdp, answererRole, offererRole,
} from './sdp.js';
