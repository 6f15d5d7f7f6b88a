// "Has the server processed what I sent?" An XMPP server handles a
// component's stanzas in order, so once it answers a ping sent after a
// message, any bounce that message caused on the way in has been sent back
// already. One ping covers every stanza sent to a domain in the same tick.
import { xml } from '@xmpp/component';
import type { XmppLink } from './link.js';
import { NS_PING } from './service-iq.js';

export class Barrier {
  private readonly scheduled = new Map<string, Promise<void>>();
  private seq = 0;

  constructor(private readonly link: XmppLink, private readonly timeoutMs: number) {}

  /** Resolves once the server has answered a ping sent after this call; rejects on timeout or link loss. */
  after(domain: string): Promise<void> {
    const joined = this.scheduled.get(domain);
    if (joined) return joined;
    const p = new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.scheduled.delete(domain);
        const ping = xml('iq', { type: 'get', id: `barrier-${++this.seq}`, to: domain, from: this.link.domain },
          xml('ping', { xmlns: NS_PING }));
        this.link.entity.iqCaller.request(ping, this.timeoutMs).then(
          () => resolve(),
          (err: unknown) => {
            // An error reply (the server does not do XEP-0199) still proves
            // the server got this far; only silence or a lost link does not.
            if (err instanceof Error && err.name === 'StanzaError') resolve();
            else reject(err instanceof Error ? err : new Error(String(err)));
          },
        );
      });
    });
    this.scheduled.set(domain, p);
    return p;
  }
}
