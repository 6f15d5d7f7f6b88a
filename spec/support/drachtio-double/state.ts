// Transaction and dialog state the double keeps, as drachtio-server does
// (drachtio-protocol.md A.5-A.9, A.12).
import type { DialogParties } from './sofia.js';
import type { Peer, SipMessage, Transport } from './sip-text.js';
import type { InboundTransaction, OutboundRequest } from './handles.js';

/** What the SIP engine needs from an app connection. */
export interface AppLink {
  readonly id: number;
  readonly alive: boolean;
  /** Frames and writes one payload. */
  send(payload: string): void;
  /** `<newId>|response|<appMsgId>|<rest>[\r\n<body>]`. */
  reply(appMsgId: string, rest: string, body?: string): void;
}

/** One SIP message the double received from or put on the simulated network. */
export interface WireRecord {
  direction: 'from-network' | 'to-network';
  peer: Peer;
  message: SipMessage;
  at: number;
}

/**
 * Lets tests await state changes: every change of the double calls notify();
 * a 10 ms poll also catches conditions on the app side (srf objects).
 */
export class Waiter {
  private readonly pending = new Set<{ check: () => void; abort: (e: Error) => void }>();

  notify(): void {
    for (const p of [...this.pending]) p.check();
  }

  waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = {
        check: () => {
          let v: T | undefined;
          try {
            v = probe();
          } catch (e) {
            finish();
            reject(e as Error);
            return;
          }
          if (v !== undefined) {
            finish();
            resolve(v);
          }
        },
        abort: (e: Error) => {
          finish();
          reject(e);
        },
      };
      const timer = setTimeout(
        () => entry.abort(new Error(`DrachtioDouble: timed out after ${timeoutMs} ms waiting for ${what}`)),
        timeoutMs,
      );
      const poll = setInterval(() => entry.check(), 10);
      const finish = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.pending.delete(entry);
      };
      this.pending.add(entry);
      entry.check();
    });
  }

  abortAll(err: Error): void {
    for (const p of [...this.pending]) p.abort(err);
  }
}

/** A request from the network, handed to an app under `txnId` (A.5). */
export class ServerTxn {
  app: AppLink | undefined;
  /** Set for requests inside a dialog (token 9 of the frame). */
  dialogId: string | undefined;
  /** Dialog id once a 1xx with To-tag went out (A.6 "For a 180 it is already filled"). */
  earlyDialogId: string | undefined;
  /** Dialog this request created (2xx to INVITE/SUBSCRIBE). */
  createdDialogId: string | undefined;
  /** Generated once per transaction and reused for every response (A.6). */
  toTag: string | undefined;
  finalStatus: number | undefined;
  /** Canceled, or answered by the server itself (A.9, A.12 Quirk 1): app responses get NOK. */
  terminated = false;
  readonly responses: SipMessage[] = [];

  constructor(
    readonly txnId: string,
    /** Request as delivered to the app (Via with rport). */
    readonly request: SipMessage,
    /** Size as received from the network: token 3 of the frame (A.5). */
    readonly receivedBytes: number,
    readonly peer: Peer,
    readonly key: string,
    readonly handle: InboundTransaction,
  ) {}

  get method(): string {
    return this.request.method;
  }
}

/** A request the double put on the network for an app (A.7, A.8). */
export class ClientTxn {
  finalStatus: number | undefined;
  /** The peer's To-tag for responses built by the test helpers (stable per transaction). */
  peerTag: string | undefined;
  readonly responses: SipMessage[] = [];
  handle: OutboundRequest | undefined;
  /** Proxied requests (A.10): responses go to the proxy logic instead of the app. */
  relay: ((res: SipMessage, peer: Peer, local: boolean) => void) | undefined;

  constructor(
    readonly txnId: string,
    /** Request as sent on the wire. */
    readonly request: SipMessage,
    readonly app: AppLink | undefined,
    readonly target: Peer,
    readonly transport: Transport,
    /** Dialog id token for responses: dialog requests, and new INVITE/SUBSCRIBE (A.7). */
    readonly reportDialogId: string,
    /** Existing dialog the request was sent in, if any. */
    readonly inDialog: string | undefined,
    /** CANCEL: sofia does not pass the 200 up (A.9); auto ACK: not an app request. */
    readonly silent: boolean,
  ) {}

  get method(): string {
    return this.request.method;
  }
}

/** Fields a dialog starts with. */
export interface DialogInit extends DialogParties {
  id: string;
  role: 'uas' | 'uac';
  kind: 'INVITE' | 'SUBSCRIBE';
  localTag: string;
  remoteTag: string;
  /** The peer's Contact header value. */
  remoteContact: string | undefined;
  localContactUri: string;
  app: AppLink | undefined;
  peer: Peer;
  transport: Transport;
  localCseq: number;
  remoteCseq: number;
}

export class Dialog implements DialogInit {
  readonly id: string;
  readonly role: 'uas' | 'uac';
  readonly kind: 'INVITE' | 'SUBSCRIBE';
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly localParty: string;
  readonly remoteParty: string;
  remoteTarget: string;
  remoteContact: string | undefined;
  readonly routeSet: string[];
  readonly localContact: string;
  readonly localContactUri: string;
  readonly app: AppLink | undefined;
  readonly peer: Peer;
  readonly transport: Transport;
  localCseq: number;
  remoteCseq: number;
  /** Latest INVITE server transaction: the ACK for its 2xx is delivered with its txnId (A.5). */
  lastServerInvite: ServerTxn | undefined;

  constructor(init: DialogInit) {
    this.id = init.id;
    this.role = init.role;
    this.kind = init.kind;
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localParty = init.localParty;
    this.remoteParty = init.remoteParty;
    this.remoteTarget = init.remoteTarget;
    this.remoteContact = init.remoteContact;
    this.routeSet = init.routeSet;
    this.localContact = init.localContact;
    this.localContactUri = init.localContactUri;
    this.app = init.app;
    this.peer = init.peer;
    this.transport = init.transport;
    this.localCseq = init.localCseq;
    this.remoteCseq = init.remoteCseq;
  }

  info(): DialogInfo {
    return {
      id: this.id, role: this.role, kind: this.kind, callId: this.callId,
      localTag: this.localTag, remoteTag: this.remoteTag, localParty: this.localParty,
      remoteParty: this.remoteParty, remoteTarget: this.remoteTarget, localContact: this.localContact,
      peer: { ...this.peer }, localCseq: this.localCseq, remoteCseq: this.remoteCseq,
      appConnected: this.app?.alive ?? false,
    };
  }
}

/** Read-only snapshot of a server-side dialog, for tests. */
export interface DialogInfo {
  /** `Call-ID;from-tag=<From tag of the dialog-creating request>` (A.12). */
  id: string;
  /** uas: the network created it; uac: the app did. */
  role: 'uas' | 'uac';
  kind: 'INVITE' | 'SUBSCRIBE';
  callId: string;
  localTag: string;
  remoteTag: string;
  localParty: string;
  remoteParty: string;
  remoteTarget: string;
  localContact: string;
  peer: Peer;
  localCseq: number;
  remoteCseq: number;
  appConnected: boolean;
}
