// The double's dialog table: a Map by dialog id (A.12) with two indexes, so
// that finding the dialog of an in-dialog request (Call-ID + both tags) and
// the A.7 "Call-ID of an existing dialog" lookup do not scan every dialog.
// Benchmarks hold tens of thousands of dialogs; the scans made the double,
// not the gateway, their bottleneck. A dialog's Call-ID and tags never change,
// and each index keeps the first dialog inserted, as the scans did.
import type { Dialog } from './state.js';

const tagsKey = (callId: string, localTag: string, remoteTag: string): string => `${callId}\u0000${localTag}\u0000${remoteTag}`;

export class DialogTable extends Map<string, Dialog> {
  private readonly byTags = new Map<string, Dialog>();
  private readonly byCall = new Map<string, Dialog>();

  override set(id: string, d: Dialog): this {
    const old = super.get(id);
    if (old !== undefined) this.unindex(old);
    super.set(id, d);
    this.index(d);
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
    return remoteTag === undefined ? undefined : this.byTags.get(tagsKey(callId, localTag, remoteTag));
  }

  /** The first dialog with this Call-ID (A.7). */
  withCallId(callId: string): Dialog | undefined {
    return this.byCall.get(callId);
  }

  private index(d: Dialog): void {
    const k = tagsKey(d.callId, d.localTag, d.remoteTag);
    if (!this.byTags.has(k)) this.byTags.set(k, d);
    if (!this.byCall.has(d.callId)) this.byCall.set(d.callId, d);
  }

  /** Drops `d` from the indexes; another dialog with the same keys (rare) takes its place. */
  private unindex(d: Dialog): void {
    const k = tagsKey(d.callId, d.localTag, d.remoteTag);
    if (this.byTags.get(k) === d) {
      this.byTags.delete(k);
      for (const x of this.values()) if (tagsKey(x.callId, x.localTag, x.remoteTag) === k) { this.byTags.set(k, x); break; }
    }
    if (this.byCall.get(d.callId) === d) {
      this.byCall.delete(d.callId);
      for (const x of this.values()) if (x.callId === d.callId) { this.byCall.set(d.callId, x); break; }
    }
  }
}
