// The double's dialog table: a Map by dialog id (A.12) with two indexes, so
// that finding the dialog of an in-dialog request (Call-ID + both tags) and
// the A.7 "Call-ID of an existing dialog" lookup do not scan every dialog.
// Benchmarks hold tens of thousands of dialogs; scans made the double, not
// the gateway, their bottleneck. A dialog's Call-ID and tags never change;
// each index lists the dialogs of a key in insertion order and answers with
// the first, as the scans did.
import type { Dialog } from './state.js';

const tagsKey = (d: Pick<Dialog, 'callId' | 'localTag' | 'remoteTag'>): string => `${d.callId}\u0000${d.localTag}\u0000${d.remoteTag}`;

function add(index: Map<string, Dialog[]>, key: string, d: Dialog): void {
  const list = index.get(key);
  if (list === undefined) index.set(key, [d]);
  else list.push(d);
}

function remove(index: Map<string, Dialog[]>, key: string, d: Dialog): void {
  const list = index.get(key);
  if (list === undefined) return;
  const i = list.indexOf(d);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) index.delete(key);
}

export class DialogTable extends Map<string, Dialog> {
  private readonly byTags = new Map<string, Dialog[]>();
  private readonly byCall = new Map<string, Dialog[]>();

  override set(id: string, d: Dialog): this {
    const old = super.get(id);
    if (old !== undefined) this.unindex(old);
    super.set(id, d);
    add(this.byTags, tagsKey(d), d);
    add(this.byCall, d.callId, d);
    return this;
  }

  override delete(id: string): boolean {
    const d = super.get(id);
    if (d === undefined) return false;
    super.delete(id);
    this.unindex(d);
    return true;
  }

  override clear(): void {
    this.byTags.clear();
    this.byCall.clear();
    super.clear();
  }

  /** The dialog of an in-dialog request: its Call-ID, our tag and the peer's. */
  find(callId: string, localTag: string, remoteTag: string | undefined): Dialog | undefined {
    return remoteTag === undefined ? undefined : this.byTags.get(tagsKey({ callId, localTag, remoteTag }))?.[0];
  }

  /** The first dialog with this Call-ID (A.7). */
  withCallId(callId: string): Dialog | undefined {
    return this.byCall.get(callId)?.[0];
  }

  private unindex(d: Dialog): void {
    remove(this.byTags, tagsKey(d), d);
    remove(this.byCall, d.callId, d);
  }
}
