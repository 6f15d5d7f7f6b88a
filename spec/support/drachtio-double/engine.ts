// The SIP side of the double: transaction/dialog tables shared by the
// network->app (uas.ts) and app->network (uac.ts) halves.
import { CRLF, newMsgId, stackTime } from './framing.js';
import type { InboundTransaction, OutboundRequest } from './handles.js';
import type { LocalSip } from './sofia.js';
import type { Peer, SipMessage } from './sip-text.js';
import { Waiter, type AppLink, type ClientTxn, type Dialog, type ServerTxn, type WireRecord } from './state.js';
import { deliverResponse, onAppRequest } from './uac.js';
import { onAppResponse, receiveRequest } from './uas.js';
import { DialogTable } from './dialogs.js';

/** Picks the app for a new request of a verb, or undefined (-> 503, A.4). */
export type Router = (verb: string) => AppLink | undefined;

export interface NetworkFrameFields {
  bytes: number;
  transport: string;
  address: string;
  port: number;
  txnId: string;
  dialogId: string;
  /** Local address tokens 10, 11: only on new requests (A.5). */
  receivedOn?: LocalSip;
}

export class Engine {
  readonly serverTxns = new Map<string, ServerTxn>();
  /** `<branch>|<method>` -> transaction, to absorb retransmissions (A.5). */
  readonly serverByKey = new Map<string, ServerTxn>();
  readonly clientTxns = new Map<string, ClientTxn>();
  /** Latest INVITE client transaction per dialog id, for the app's ACK (A.7). */
  readonly clientInviteByDialog = new Map<string, ClientTxn>();
  readonly dialogs = new DialogTable();
  /** Every request the double put on the wire, in order. */
  readonly outbound: OutboundRequest[] = [];
  readonly taken = new Set<OutboundRequest>();
  readonly wire: WireRecord[] = [];

  constructor(
    readonly local: LocalSip,
    readonly waiter: Waiter,
    readonly router: Router,
  ) {}

  /** A crashed server forgets everything (restart()). */
  reset(): void {
    this.serverTxns.clear();
    this.serverByKey.clear();
    this.clientTxns.clear();
    this.clientInviteByDialog.clear();
    this.dialogs.clear();
    this.outbound.length = 0;
    this.taken.clear();
  }

  logWire(direction: WireRecord['direction'], peer: Peer, message: SipMessage): void {
    this.wire.push({ direction, peer: { ...peer }, message, at: Date.now() });
  }

  /** `id|sip|network|bytes|proto|addr|port|time|txnId|dialogId|[rcvAddr|rcvPort|]` (A.5). */
  networkFrame(f: NetworkFrameFields, raw: string): string {
    const rcv = f.receivedOn ? `${f.receivedOn.address}|${f.receivedOn.port}|` : '';
    return `${newMsgId()}|sip|network|${f.bytes}|${f.transport}|${f.address}|${f.port}|${stackTime()}|`
      + `${f.txnId}|${f.dialogId}|${rcv}${CRLF}${raw}`;
  }

  findDialog(callId: string, localTag: string, remoteTag: string | undefined): Dialog | undefined {
    return this.dialogs.find(callId, localTag, remoteTag);
  }

  pushOutbound(req: OutboundRequest): void {
    this.outbound.push(req);
  }

  changed(): void {
    this.waiter.notify();
  }

  /** A peer sends a request to the double (A.5). */
  receive(text: string, peer?: Partial<Peer>, forceApp?: AppLink): InboundTransaction {
    return receiveRequest(this, text, peer, forceApp);
  }

  /** A peer (or the server itself, `local`) answers a request the double sent (A.7). */
  deliver(txn: ClientTxn, res: SipMessage, peer: Peer, local: boolean): void {
    deliverResponse(this, txn, res, peer, local);
  }

  /** An app's `sip` message: a response (A.6) or a request (A.7-A.9). */
  fromApp(app: AppLink, msgId: string, tokens: string[], msg: SipMessage): void {
    if (msg.kind === 'response') onAppResponse(this, app, msgId, tokens[2] ?? '', msg);
    else onAppRequest(this, app, msgId, tokens, msg);
  }
}
