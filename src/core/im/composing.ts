// RFC 3994 refresh handling for chat states carried as isComposing.
//
// A SIP receiver treats an "active" state as expired after its refresh
// interval (120 s when none was given, §3.2/§4), while an XMPP client sends
// <composing/> once and keeps it until it says otherwise (XEP-0085 §5.3).
// So, towards SIP, the gateway repeats "active" before it expires for as
// long as the XMPP user is composing (bounded); towards XMPP, an "active"
// that is not refreshed in time ends as the idle mapping, <active/>.

/** Timers keyed by conversation, capped in number (architecture rule 7). */
export class ConversationTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.timers.size;
  }

  /** (Re)arms the timer of a conversation; refuses quietly beyond the cap. */
  arm(key: string, ms: number, fire: () => void): boolean {
    this.cancel(key);
    if (this.timers.size >= this.max) return false;
    const t = setTimeout(() => {
      this.timers.delete(key);
      fire();
    }, ms);
    t.unref?.();
    this.timers.set(key, t);
    return true;
  }

  cancel(key: string): void {
    const t = this.timers.get(key);
    if (t !== undefined) {
      clearTimeout(t);
      this.timers.delete(key);
    }
  }

  clear(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

/** RFC 3994 §3.2: the interval a receiver assumes when the sender gave none. */
export const DEFAULT_REFRESH_S = 120;
/** Refresh interval the gateway announces towards SIP (RFC 3994: SHOULD be at least 60 s). */
export const COMPOSING_REFRESH_S = 90;
/** Re-send that much before the announced interval runs out. */
export const REFRESH_MARGIN_S = 15;
/** Refresh at most this many times (about 5 minutes); a client that never stops composing is not believed forever. */
export const MAX_REFRESHES = 4;
