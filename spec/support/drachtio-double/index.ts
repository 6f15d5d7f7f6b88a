// Public surface of the drachtio test double (see server.ts).
export {
  DrachtioDouble,
  type AppTarget, type DrachtioDoubleOptions, type RequestFilter, type WaitOptions,
} from './server.js';
export { InboundTransaction, OutboundRequest, type RespondOptions, type ResponseWait } from './handles.js';
export type { FrameRecord } from './connection.js';
export type { DialogInfo, WireRecord } from './state.js';
export type { InDialogSpec, PeerResponseOptions } from './peer.js';
export {
  SipHeaders, SipMessage, buildSipRequest, cseqOf, headerParams, newBranch, newCallId, newTag, parseSip,
  parseSipUri, parseVia, tagOf, uriOf,
  type HeaderInit, type Peer, type SipRequestSpec, type Transport,
} from './sip-text.js';
export { encodeFrame, FrameDecoder, splitPayload, MAX_APP_FRAME_DIGITS } from './framing.js';
export { leaderShape, readTrace, repoRoot, tokenKind, tracesDir, type TraceFrame } from './trace.js';
