// How the XMPP link classifies connection failures. A stream error that says
// the server will never accept us as configured ends the start-up at once
// (no endless retry); network errors are worth retrying.
export class XmppStartError extends Error {
  override readonly name = 'XmppStartError';
}

/** RFC 6120 §4.9.3 conditions that mean "fix the configuration", not "try again". */
const FATAL_STREAM_CONDITIONS = new Set([
  'not-authorized', // XEP-0114 §3: wrong secret
  'host-unknown', // the server does not serve this component domain
  'conflict', // another component already holds the domain
  'invalid-namespace',
  'improper-addressing',
  'host-gone',
  'policy-violation',
]);

export function streamCondition(err: unknown): string | undefined {
  if (err !== null && typeof err === 'object' && 'condition' in err) {
    const c = (err as { condition: unknown }).condition;
    return typeof c === 'string' ? c : undefined;
  }
  return undefined;
}

export function isFatalXmppError(err: unknown): boolean {
  const condition = streamCondition(err);
  return condition !== undefined && FATAL_STREAM_CONDITIONS.has(condition);
}

export function describeXmppError(err: unknown): string {
  const condition = streamCondition(err);
  const text = err instanceof Error ? err.message : String(err);
  switch (condition) {
    case 'not-authorized':
      return 'the XMPP server refused the component secret (stream error not-authorized); check xmpp.secret';
    case 'host-unknown':
      return 'the XMPP server does not know the component domain (stream error host-unknown); check xmpp.componentDomain and the server\'s Component definition';
    case 'conflict':
      return 'another component is already connected with this domain (stream error conflict)';
    case undefined:
      return text;
    default:
      return `stream error ${condition}${text && text !== condition ? `: ${text}` : ''}`;
  }
}
