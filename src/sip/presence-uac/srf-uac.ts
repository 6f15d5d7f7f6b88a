// The part of drachtio-srf 5.0.29 a SUBSCRIBE dialog uses (lib/srf.js
// createUAC, lib/dialog.js), typed from its source, and the dialog-creating
// SUBSCRIBE with the early-NOTIFY handling srf lacks.
import type { EventEmitter } from 'node:events';
import type { SrfRequest, SrfResponse } from '../srf-types.js';
import { answer } from './notify.js';

/** A response srf hands to a UAC request. */
export interface UacResponse {
  status: number;
  reason: string;
  get(name: string): string | undefined;
}

export type SrfCallbackError = Error & { code?: string; status?: number; reason?: string; res?: UacResponse };

/** srf's Dialog as a UAC SUBSCRIBE dialog uses it (A.12). */
export interface SubscribeDialog extends EventEmitter {
  /** `<Call-ID>;from-tag=<our tag>` (A.12). */
  readonly id: string;
  readonly sip: { callId: string; localTag: string; remoteTag: string | undefined };
  /** The 2xx that created the dialog. */
  readonly res: UacResponse;
  /**
   * A request in the dialog (A.8). The callback runs for every response,
   * provisional ones included, or once with an error (`code` ENODIALOG when
   * drachtio-server no longer has the dialog).
   */
  request(opts: { method: string; headers: Record<string, string> }, cb: (err: SrfCallbackError | null, res?: UacResponse) => void): unknown;
  /** Records `<To user@host>:<Event>` of `req` as a subscription of this dialog. */
  addSubscription(req: SrfRequest): number;
  on(event: 'notify', listener: (req: SrfRequest, res: SrfResponse) => void): this;
}

interface SentRequest {
  get(name: string): string | undefined;
  getParsedHeader(name: 'from'): { params?: Record<string, string | undefined> };
}

/** What srf's dialog middleware (srf.js `dialog()`) calls for a request whose stackDialogId it knows. */
interface DialogSlot {
  readonly id: string;
  readonly dialogType: 'SUBSCRIBE';
  handle(req: SrfRequest, res: SrfResponse): void;
}

export interface SrfDialogs {
  createUAC(
    uri: string,
    opts: { method: 'SUBSCRIBE'; headers: Record<string, string>; proxy?: string },
    cbs: { cbRequest: (err: Error | null, req?: SentRequest) => void },
    callback: (err: SrfCallbackError | null, dialog?: SubscribeDialog) => void,
  ): unknown;
  addDialog(dialog: DialogSlot): void;
  removeDialog(dialog: { id: string }): void;
  findDialogById(id: string): unknown;
}

export type NotifySink = (req: SrfRequest, res: SrfResponse) => void;

export type InitialResult =
  | { kind: 'dialog'; dialog: SubscribeDialog }
  | { kind: 'failed'; status: number; reason: string; res?: UacResponse }
  | { kind: 'error'; why: string };

export interface InitialSubscribe {
  /** Settles once with the final outcome; never rejects. */
  readonly done: Promise<InitialResult>;
  /**
   * Gives up (guard timeout, connection loss, close): held NOTIFYs get 481,
   * and a 2xx that still arrives is answered with an unsubscribe.
   */
  abandon(): void;
}

/** Removes a dialog from srf's table if it is still the one given (srf.removeDialog goes by id only). */
export function dropDialog(srf: SrfDialogs, dialog: { id: string }): void {
  if (srf.findDialogById(dialog.id) === dialog) srf.removeDialog(dialog);
}

/** In-dialog SUBSCRIBE Expires: 0 with the initial request's Event and Accept, fire and forget (RFC 6665 §4.1.2.3). */
export function sendUnsubscribe(dialog: SubscribeDialog, initial: Record<string, string>): void {
  const headers: Record<string, string> = { Expires: '0' };
  for (const name of ['Event', 'Accept']) if (initial[name] !== undefined) headers[name] = initial[name];
  try {
    dialog.request({ method: 'SUBSCRIBE', headers }, () => undefined);
  } catch {
    // no connection: nothing more to do
  }
}

/**
 * Sends a dialog-creating SUBSCRIBE with srf.createUAC (A.7, A.12).
 *
 * A NOTIFY may overtake the 2xx (RFC 6665 §4.1.2.4). drachtio-server hands it
 * over with the dialog id already set, but srf knows no dialog yet and would
 * pass it down the middleware (the router would answer 405, a bare srf 404).
 * So as soon as srf reports the request sent (cbRequest, with our Call-ID and
 * From tag) a placeholder takes the dialog's slot in srf's table and holds
 * such NOTIFYs; srf's own Dialog replaces it on the 2xx (same id), and the
 * held NOTIFYs go to `onDialog`'s sink in order. A non-2xx answers them 481.
 *
 * `onDialog` runs synchronously in srf's callback, before srf reads the next
 * frame, so no NOTIFY reaches the Dialog before its listener is attached.
 */
export function sendInitialSubscribe(
  srf: SrfDialogs,
  uri: string,
  headers: Record<string, string>,
  proxy: string | undefined,
  onDialog: (dialog: SubscribeDialog) => NotifySink,
): InitialSubscribe {
  let settle!: (r: InitialResult) => void;
  const done = new Promise<InitialResult>((resolve) => {
    settle = resolve;
  });
  let abandoned = false;
  let slot: DialogSlot | undefined;
  const held: Array<[SrfRequest, SrfResponse]> = [];

  const dropSlot = (): void => {
    if (slot) dropDialog(srf, slot);
    slot = undefined;
  };
  const refuseHeld = (): void => {
    for (const [, res] of held.splice(0)) answer(res, 481, 'Subscription Does Not Exist');
  };

  const cbRequest = (err: Error | null, req?: SentRequest): void => {
    if (err || !req || abandoned) return;
    const callId = req.get('Call-ID');
    let tag: string | undefined;
    try {
      tag = req.getParsedHeader('from').params?.tag;
    } catch {
      tag = undefined;
    }
    if (!callId || !tag) return;
    const id = `${callId};from-tag=${tag}`;
    if (srf.findDialogById(id) !== undefined) return;
    slot = {
      id,
      dialogType: 'SUBSCRIBE',
      handle: (r, s) => {
        if (r.method === 'NOTIFY') held.push([r, s]);
        else answer(s, 481, 'Call/Transaction Does Not Exist');
      },
    };
    srf.addDialog(slot);
  };

  const callback = (err: SrfCallbackError | null, dialog?: SubscribeDialog): void => {
    if (!err && dialog) {
      if (slot && slot.id !== dialog.id) dropSlot();
      slot = undefined;
      if (abandoned) {
        // A 2xx after we gave up: the notifier holds a subscription nobody wants.
        sendUnsubscribe(dialog, headers);
        dropDialog(srf, dialog);
        refuseHeld();
        return;
      }
      const sink = onDialog(dialog);
      dialog.on('notify', sink);
      for (const [r, s] of held.splice(0)) sink(r, s);
      settle({ kind: 'dialog', dialog });
      return;
    }
    dropSlot();
    refuseHeld();
    const e: SrfCallbackError = err ?? new Error('createUAC: no dialog');
    if (typeof e.status !== 'number') {
      settle({ kind: 'error', why: e.message });
    } else if (e.res && e.res.status >= 200 && e.res.status < 300) {
      // srf refuses a 2xx without Contact (A.12): no dialog can follow it.
      settle({ kind: 'error', why: `${e.res.status} without Contact: no dialog (RFC 6665 §4.1.2.1)` });
    } else {
      settle({ kind: 'failed', status: e.status, reason: e.reason ?? e.res?.reason ?? '', ...(e.res ? { res: e.res } : {}) });
    }
  };

  try {
    srf.createUAC(uri, { method: 'SUBSCRIBE', headers, ...(proxy ? { proxy } : {}) }, { cbRequest }, callback);
  } catch (err) {
    // srf throws synchronously when it has no connection at all.
    settle({ kind: 'error', why: err instanceof Error ? err.message : String(err) });
  }

  return {
    done,
    abandon: () => {
      abandoned = true;
      dropSlot();
      refuseHeld();
    },
  };
}

/**
 * A.12 Quirk 1, srf's half: for a NOTIFY whose Subscription-State matches
 * /terminated/ srf schedules `removeSubscription(<the NOTIFY's To>, Event)`,
 * which never matches a UAC subscription (srf recorded it under the
 * SUBSCRIBE's To, the notifier's AOR) and prints "no subscription found" on
 * stderr. Recording the NOTIFY's own entry first lets srf find it; the
 * original entry stays, so srf still does not remove the dialog: the caller
 * does that itself (srf.removeDialog).
 */
export function absorbTerminatingNotify(dialog: SubscribeDialog, req: SrfRequest): void {
  if (!/terminated/.test(req.get('Subscription-State') ?? '')) return;
  try {
    dialog.addSubscription(req);
  } catch {
    // a To srf cannot parse; From URIs are checked before sending (sip:/sips:), so
    // this is a notifier's mangled To, which sofia would already have refused
  }
}
