// The IM service's XMPP side: sends translated messages and error replies
// through the component link, and offers the delivery barrier.
import type { ImXmppPort } from '../core/im/service.js';
import type { XmppMessage } from '../core/im/model.js';
import type { StanzaErrorSpec } from '../core/errors.js';
import { Barrier } from './barrier.js';
import { buildMessage, buildMessageError } from './im.js';
import type { XmppLink } from './link.js';

export class XmppImPort implements ImXmppPort {
  private readonly barrierImpl: Barrier;

  constructor(private readonly link: XmppLink, barrierTimeoutMs: number) {
    this.barrierImpl = new Barrier(link, barrierTimeoutMs);
  }

  send(msg: XmppMessage): Promise<void> {
    return this.link.send(buildMessage(msg));
  }

  async sendError(original: XmppMessage, error: StanzaErrorSpec): Promise<void> {
    await this.link.send(buildMessageError(original, error));
  }

  barrier(domain: string): Promise<void> {
    return this.barrierImpl.after(domain);
  }
}
