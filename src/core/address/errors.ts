// Errors of the address layer. Nothing here throws: every translation returns
// an AddressResult, and the adapters turn an AddressError into a SIP final
// response or an XMPP stanza error with the getters below.

export type AddressErrorKind =
  | 'jid-malformed'
  | 'uri-malformed'
  | 'sips'
  | 'unsupported-scheme'
  | 'domain-not-allowed'
  | 'not-a-user';

export type AddressSipStatus = 400 | 403 | 404 | 416;
export type AddressXmppCondition = 'jid-malformed' | 'forbidden' | 'item-not-found' | 'bad-request' | 'not-acceptable';

export class AddressError {
  constructor(
    readonly kind: AddressErrorKind,
    readonly message: string,
  ) {}

  /** Final response for a SIP request whose address could not be translated. */
  get sipStatus(): AddressSipStatus {
    switch (this.kind) {
      case 'uri-malformed':
      case 'jid-malformed':
        return 400;
      case 'sips':
        // RFC 7247 §8: a sips: Request-URI or To MUST NOT be translated to
        // XMPP. No RFC names the response code ([gap]); 403 says "understood,
        // refused, do not retry" without claiming the user does not exist.
        return 403;
      case 'unsupported-scheme':
        // RFC 3261 §21.4.14: 416 Unsupported URI Scheme.
        return 416;
      case 'domain-not-allowed':
        // RFC 3261 §21.4.4: 404 is also returned when the Request-URI's domain
        // is not one the recipient handles.
        return 404;
      case 'not-a-user':
        return 404;
    }
  }

  /** Stanza error condition for an XMPP stanza whose address could not be translated (RFC 6120 §8.3.3). */
  get xmppCondition(): AddressXmppCondition {
    switch (this.kind) {
      case 'jid-malformed':
        return 'jid-malformed';
      case 'uri-malformed':
        return 'bad-request';
      case 'sips':
        return 'forbidden';
      case 'unsupported-scheme':
        // RFC 7247 §7.2 Table 3: 416 → <not-acceptable/>.
        return 'not-acceptable';
      case 'domain-not-allowed':
        // Policy, not absence: the gateway is not an open relay (RFC 8048 §8.1).
        return 'forbidden';
      case 'not-a-user':
        return 'item-not-found';
    }
  }

  toString(): string {
    return `${this.kind}: ${this.message}`;
  }
}

export type AddressResult<T> = { ok: true; value: T } | { ok: false; error: AddressError };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail(kind: AddressErrorKind, message: string): { ok: false; error: AddressError } {
  return { ok: false, error: new AddressError(kind, message) };
}
