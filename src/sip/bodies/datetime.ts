/**
 * RFC 3339 date-time (the profile of ISO 8601 used by CPIM DateTime, RFC 3862
 * §4.4, and by the isComposing / IMDN documents).
 *
 *   date-time = full-date "T" full-time ; "T" and "Z" may be lower case (§5.6 NOTE)
 *   full-time = hh ":" mm ":" ss [ "." 1*DIGIT ] ( "Z" / ("+" / "-") hh ":" mm )
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Parses an RFC 3339 timestamp with a mandatory offset; null when invalid. */
export function parseRfc3339(value: string): Date | null {
  const m = RFC3339.exec(value.trim());
  if (!m) return null;
  const [, ys, mos, ds, hs, mis, ss, frac, z, sign, ohs, oms] = m;
  const y = Number(ys), mo = Number(mos), d = Number(ds);
  const h = Number(hs), mi = Number(mis), s = Number(ss);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60) return null;
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d > daysInMonth) return null;
  let offsetMin = 0;
  if (!z) {
    const oh = Number(ohs), om = Number(oms);
    if (oh > 23 || om > 59) return null;
    offsetMin = (sign === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  // A leap second (ss = 60) is folded onto the last millisecond of that minute.
  const t = Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59), s === 60 ? 999 : ms) - offsetMin * 60_000;
  const date = new Date(t);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Formats a date as RFC 3339 in UTC, without a fraction when it is zero. */
export function formatRfc3339(date: Date): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new TypeError('invalid Date');
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new TypeError('year out of the RFC 3339 range');
  const iso = date.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}
