// Address/CIDR lists for the trusted-SIP-sources policy. Built on Node's
// BlockList, which does the prefix arithmetic for both families.
import { BlockList, isIP } from 'node:net';

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** "10.0.0.0/8", "::1", "192.0.2.7" → Cidr; anything else → null. */
export function parseCidr(text: string): Cidr | null {
  const [address = '', prefixText, extra] = text.trim().split('/');
  if (extra !== undefined) return null;
  const version = isIP(address);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  let prefix = max;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText)) return null;
    prefix = Number(prefixText);
    if (prefix > max) return null;
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

export class AddressMatcher {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const cidr = parseCidr(entry);
      if (cidr === null) throw new Error(`not an address or CIDR block: ${entry}`);
      this.list.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
    this.size = entries.length;
  }

  /** True when the address falls in any listed block. IPv4-mapped IPv6 (::ffff:a.b.c.d) counts as IPv4. */
  matches(address: string): boolean {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const candidate = mapped?.[1] ?? address;
    const version = isIP(candidate);
    if (version === 0) return false;
    return this.list.check(candidate, version === 4 ? 'ipv4' : 'ipv6');
  }
}
