/**
 * application/im-iscomposing+xml (RFC 3994).
 *
 *   <isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing">
 *     <state>active</state>              mandatory
 *     <lastactive>…</lastactive>         optional, xs:dateTime
 *     <contenttype>text/plain</contenttype>  optional
 *     <refresh>90</refresh>              optional, xs:positiveInteger (seconds)
 *   </isComposing>
 *
 * State tokens other than "active" and "idle" are read as "idle", as RFC 3994
 * §3.5 requires ("MUST treat state tokens other than 'idle' and 'active' as
 * 'idle'"); `unknownState` keeps the token. The optional elements are hints:
 * a malformed one is left out, and the notification is not refused for it.
 */
import { formatRfc3339, parseRfc3339 } from './datetime.js';
import { type Result, describe, fail, ok } from './result.js';
import { type XmlLimits, child, children, parseXml, xmlTextFor } from './xml.js';

export const ISCOMPOSING_NS = 'urn:ietf:params:xml:ns:im-iscomposing';
export const ISCOMPOSING_CONTENT_TYPE = 'application/im-iscomposing+xml';

export interface IsComposing {
  state: 'active' | 'idle';
  /** The state token as received when it was neither "active" nor "idle" (then `state` is 'idle'). */
  unknownState?: string;
  lastActive?: Date;
  contentType?: string;
  /** Refresh interval in seconds (1 … 2^31-1). */
  refresh?: number;
}

/** Parses an isComposing document. Never throws. */
export function parseIsComposing(xml: string | Uint8Array, limits?: XmlLimits): Result<IsComposing> {
  try {
    const doc = parseXml(xml, limits);
    if (!doc.ok) return doc;
    const root = doc.value;
    if (root.name !== 'isComposing' || root.ns !== ISCOMPOSING_NS) {
      return fail(`isComposing: unexpected root element {${root.ns}}${root.name}`);
    }
    const states = children(root, ISCOMPOSING_NS, 'state');
    const stateEl = states[0];
    if (!stateEl) return fail('isComposing: missing <state>');
    if (states.length > 1) return fail('isComposing: more than one <state>');
    const token = stateEl.text.trim();
    const out: IsComposing = token === 'active' || token === 'idle' ? { state: token } : { state: 'idle', unknownState: token };

    const last = child(root, ISCOMPOSING_NS, 'lastactive')?.text.trim();
    const lastActive = last ? parseRfc3339(last) : null;
    if (lastActive) out.lastActive = lastActive;

    const ct = child(root, ISCOMPOSING_NS, 'contenttype')?.text.trim();
    if (ct) out.contentType = ct;

    const refresh = child(root, ISCOMPOSING_NS, 'refresh')?.text.trim();
    if (refresh && /^\+?[0-9]{1,10}$/.test(refresh)) {
      const n = Number(refresh);
      if (n >= 1 && n <= 0x7fffffff) out.refresh = n;
    }
    return ok(out);
  } catch (e) {
    return fail(`isComposing: ${describe(e)}`);
  }
}

export interface IsComposingInput {
  state: 'active' | 'idle';
  refresh?: number;
  contentType?: string;
  lastActive?: Date;
}

/** Builds an isComposing document (UTF-8 XML). Throws a TypeError on invalid input. */
export function buildIsComposing(msg: IsComposingInput): string {
  if (msg.state !== 'active' && msg.state !== 'idle') throw new TypeError(`invalid isComposing state ${JSON.stringify(msg.state)}`);
  let body = `<state>${msg.state}</state>`;
  if (msg.lastActive !== undefined) body += `<lastactive>${formatRfc3339(msg.lastActive)}</lastactive>`;
  if (msg.contentType !== undefined) body += `<contenttype>${xmlTextFor('contentType', msg.contentType)}</contenttype>`;
  if (msg.refresh !== undefined) {
    if (!Number.isInteger(msg.refresh) || msg.refresh < 1 || msg.refresh > 0x7fffffff) {
      throw new TypeError('refresh must be a positive integer number of seconds');
    }
    body += `<refresh>${msg.refresh}</refresh>`;
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<isComposing xmlns="${ISCOMPOSING_NS}">${body}</isComposing>`;
}
