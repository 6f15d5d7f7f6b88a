/**
 * XEP-0115 entity capabilities: the verification string S (§5.1) and `ver`
 * = base64(hash(S)), for the <c xmlns='http://jabber.org/protocol/caps'
 * hash='sha-1' node=… ver=…/> the gateway may put on presence it sends for
 * SIP users (mapping §9.2), and for checking a `ver` someone else sent (§5.4).
 *
 *   S = for each identity, sorted by category, type, xml:lang (then name):
 *         category '/' type '/' lang '/' name '<'       (empty lang or name: the slashes stay)
 *     + for each feature, sorted: feature '<'
 *     + for each XEP-0128 form, sorted by FORM_TYPE: FORM_TYPE '<', then for
 *         each other field, sorted by var: var '<', then its values, sorted, each + '<'
 *
 * Every sort is "i;octet" (RFC 4790 §9.3): by the UTF-8 bytes, which is not
 * JavaScript's UTF-16 order once characters above U+FFFF are involved.
 *
 *   client/pc//Exodus 0.9.1 + caps, disco#info, disco#items, muc → QgayPKawpkPSDYmwT/WM94uAlu0=  (§5.2, G3)
 *
 * The input must be well-formed as §5.4 defines it (no two identities with
 * the same category/type/lang/name, no duplicate feature, no two forms with
 * the same FORM_TYPE); capsProblem says what is wrong, capsVer throws a
 * TypeError for it. Forms given here are already the hidden-FORM_TYPE forms
 * §5.4 keeps; their fields must not include FORM_TYPE itself.
 */
import { createHash } from 'node:crypto';

export const NS_CAPS = 'http://jabber.org/protocol/caps';

export interface CapsIdentity {
  category: string;
  type: string;
  name?: string;
  /** xml:lang of the identity (several identities may differ only in language and name). */
  lang?: string;
}

/** An XEP-0128 extended-information form. */
export interface CapsForm {
  /** The value of the hidden FORM_TYPE field. */
  formType: string;
  fields: { var: string; values: string[] }[];
}

export interface CapsInfo {
  identities: readonly CapsIdentity[];
  features: readonly string[];
  forms?: readonly CapsForm[];
}

/** Hash functions by their XEP-0115 `hash` names (IANA Hash Function Textual Names). */
export type CapsHash = 'sha-1' | 'sha-256' | 'sha-512';

const NODE_HASH: Record<CapsHash, string> = { 'sha-1': 'sha1', 'sha-256': 'sha256', 'sha-512': 'sha512' };

/** "i;octet" comparison: by UTF-8 bytes. */
export function compareOctets(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function compareIdentities(a: CapsIdentity, b: CapsIdentity): number {
  return compareOctets(a.category, b.category)
    || compareOctets(a.type, b.type)
    || compareOctets(a.lang ?? '', b.lang ?? '')
    || compareOctets(a.name ?? '', b.name ?? '');
}

function firstDuplicate(values: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) return v;
    seen.add(v);
  }
  return undefined;
}

/** Why `info` is not well-formed for XEP-0115 (§5.4 step 3), or undefined when it is. */
export function capsProblem(info: CapsInfo): string | undefined {
  for (const id of info.identities) {
    if (!id.category || !id.type) return 'an identity lacks its category or type (XEP-0030 requires both)';
  }
  const idKey = (i: CapsIdentity): string => JSON.stringify([i.category, i.type, i.lang ?? '', i.name ?? '']);
  const dupId = firstDuplicate(info.identities.map(idKey));
  if (dupId !== undefined) return `duplicate identity ${dupId}`;
  const dupFeature = firstDuplicate(info.features);
  if (dupFeature !== undefined) return `duplicate feature ${JSON.stringify(dupFeature)}`;
  const forms = info.forms ?? [];
  const dupForm = firstDuplicate(forms.map((f) => f.formType));
  if (dupForm !== undefined) return `two forms with FORM_TYPE ${JSON.stringify(dupForm)}`;
  for (const f of forms) {
    if (f.fields.some((field) => field.var === 'FORM_TYPE')) return 'FORM_TYPE must be given as formType, not as a field';
  }
  return undefined;
}

/** The verification string S of XEP-0115 §5.1 (before hashing). Throws a TypeError when capsProblem finds one. */
export function capsVerificationString(info: CapsInfo): string {
  const problem = capsProblem(info);
  if (problem !== undefined) throw new TypeError(`entity capabilities: ${problem}`);
  let s = '';
  for (const i of [...info.identities].sort(compareIdentities)) {
    s += `${i.category}/${i.type}/${i.lang ?? ''}/${i.name ?? ''}<`;
  }
  for (const f of [...info.features].sort(compareOctets)) s += `${f}<`;
  for (const form of [...(info.forms ?? [])].sort((a, b) => compareOctets(a.formType, b.formType))) {
    s += `${form.formType}<`;
    for (const field of [...form.fields].sort((a, b) => compareOctets(a.var, b.var))) {
      s += `${field.var}<`;
      for (const v of [...field.values].sort(compareOctets)) s += `${v}<`;
    }
  }
  return s;
}

/** `ver` = base64(hash(UTF-8 of S)), SHA-1 unless told otherwise (§5.1 steps 8–9). */
export function capsVer(info: CapsInfo, hash: CapsHash = 'sha-1'): string {
  return createHash(NODE_HASH[hash]).update(capsVerificationString(info), 'utf8').digest('base64');
}

/** The attributes of the <c/> element for presence (XEP-0115 §4). */
export function capsAttributes(node: string, info: CapsInfo, hash: CapsHash = 'sha-1'): { xmlns: string; hash: CapsHash; node: string; ver: string } {
  return { xmlns: NS_CAPS, hash, node, ver: capsVer(info, hash) };
}
