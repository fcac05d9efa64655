import { isIP } from 'node:net';

/**
 * What an IP address is, as far as whether Concord may connect to it for a customer's push
 * subscription: only `public` may be reached. Everything else is a network this deployment, its
 * cloud or its neighbours live on (or no one may use), and a customer-chosen URL reaching it
 * would be a request forged from inside.
 */
export type AddressKind =
  | 'public'
  | 'loopback'
  /** RFC 1918 (10/8, 172.16/12, 192.168/16). */
  | 'private'
  /** Carrier-grade NAT, 100.64/10 (RFC 6598): a provider's internal network. */
  | 'shared'
  /** 169.254/16, fe80::/10: one link, where cloud metadata services answer. */
  | 'link_local'
  /** fc00::/7 (RFC 4193). */
  | 'unique_local'
  | 'multicast'
  /** 0.0.0.0/8, :: — "this host", which reaches local services on most systems. */
  | 'unspecified'
  | 'broadcast'
  /** Cloud instance metadata (169.254.169.254, fd00:ec2::254, 100.100.100.200, 192.0.0.192). */
  | 'metadata'
  /** Documentation, benchmarking, IETF protocol, future-use and deprecated blocks; anything unparsable. */
  | 'reserved';

/** One block: the address bytes of its start and its prefix length in bits. */
interface Block {
  readonly bytes: readonly number[];
  readonly bits: number;
  readonly kind: Exclude<AddressKind, 'public'>;
}

const v4 = (cidr: string, kind: Block['kind']): Block => {
  const [address = '', bits = '32'] = cidr.split('/');
  return { bytes: address.split('.').map(Number), bits: Number(bits), kind };
};

/** IPv4 blocks that are not public, most specific first (metadata addresses sit inside others). */
const IPV4_BLOCKS: readonly Block[] = [
  v4('169.254.169.254/32', 'metadata'),
  v4('100.100.100.200/32', 'metadata'),
  v4('192.0.0.192/32', 'metadata'),
  v4('255.255.255.255/32', 'broadcast'),
  v4('0.0.0.0/8', 'unspecified'),
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'shared'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link_local'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'reserved'),
  v4('192.0.2.0/24', 'reserved'),
  v4('192.88.99.0/24', 'reserved'),
  v4('192.168.0.0/16', 'private'),
  v4('198.18.0.0/15', 'reserved'),
  v4('198.51.100.0/24', 'reserved'),
  v4('203.0.113.0/24', 'reserved'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved'),
];

const v6 = (cidr: string, kind: Block['kind']): Block => {
  const [address = '', bits = '128'] = cidr.split('/');
  return { bytes: ipv6Bytes(address) ?? [], bits: Number(bits), kind };
};

/** IPv6 blocks inside 2000::/3 (global unicast) that are not public; outside it nothing is. */
const IPV6_GLOBAL_EXCEPTIONS: readonly Block[] = [
  v6('2001::/23', 'reserved'), // IETF protocol assignments, Teredo among them
  v6('2001:db8::/32', 'reserved'), // documentation
  v6('3fff::/20', 'reserved'), // documentation (RFC 9637)
];

/** Classifies an IP address (v4 or v6 text, a zone id allowed); anything that is not one is `reserved`. */
export function classifyAddress(address: string): AddressKind {
  const plain = address.replace(/%.*$/, '');
  const version = isIP(plain);
  if (version === 4) return classifyV4(plain.split('.').map(Number));
  if (version !== 6) return 'reserved';
  const bytes = ipv6Bytes(plain);
  return bytes === undefined ? 'reserved' : classifyV6(bytes);
}

function classifyV4(bytes: readonly number[]): AddressKind {
  return IPV4_BLOCKS.find((block) => inBlock(bytes, block))?.kind ?? 'public';
}

function classifyV6(bytes: readonly number[]): AddressKind {
  const word = (index: number) => ((bytes[index] ?? 0) << 8) | (bytes[index + 1] ?? 0);
  const isZero = (from: number, to: number) => bytes.slice(from, to).every((byte) => byte === 0);
  if (isZero(0, 16)) return 'unspecified';
  if (isZero(0, 15) && bytes[15] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach the embedded IPv4 address.
  if (isZero(0, 10) && word(10) === 0xffff) return classifyV4(bytes.slice(12));
  if (word(0) === 0x64 && word(2) === 0xff9b && isZero(4, 12)) return classifyV4(bytes.slice(12));
  // 6to4 (2002::/16) carries an IPv4 address in bits 16–47.
  if (word(0) === 0x2002) return classifyV4(bytes.slice(2, 6));
  if (word(0) === 0xfd00 && word(2) === 0x0ec2 && isZero(4, 14) && word(14) === 0x254) return 'metadata';
  const first = bytes[0] ?? 0;
  if (first === 0xff) return 'multicast';
  if ((first & 0xfe) === 0xfc) return 'unique_local';
  if (first === 0xfe && ((bytes[1] ?? 0) & 0xc0) === 0x80) return 'link_local';
  if ((first & 0xe0) !== 0x20) return 'reserved'; // outside 2000::/3: ::/96, 100::/64, fec0::/10, …
  return IPV6_GLOBAL_EXCEPTIONS.find((block) => inBlock(bytes, block))?.kind ?? 'public';
}

function inBlock(bytes: readonly number[], block: Block): boolean {
  for (let bit = 0; bit < block.bits; bit += 8) {
    const index = bit / 8;
    const take = Math.min(8, block.bits - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    if (((bytes[index] ?? 0) & mask) !== ((block.bytes[index] ?? 0) & mask)) return false;
  }
  return true;
}

/** The 16 bytes of an IPv6 address in text (`::` and a dotted IPv4 tail allowed); undefined when malformed. */
function ipv6Bytes(text: string): number[] | undefined {
  let head = text;
  const tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    if (isIP(dotted[2] ?? '') !== 4) return undefined;
    const parts = (dotted[2] ?? '').split('.').map(Number);
    tail.push(((parts[0] ?? 0) << 8) | (parts[1] ?? 0), ((parts[2] ?? 0) << 8) | (parts[3] ?? 0));
    head = (dotted[1] ?? '').endsWith('::') ? (dotted[1] ?? '') : (dotted[1] ?? '').slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const words = (part: string | undefined) =>
    part === undefined || part === ''
      ? []
      : part.split(':').map((group) => (/^[0-9a-f]{1,4}$/i.test(group) ? parseInt(group, 16) : NaN));
  const left = words(halves[0]);
  const right = [...words(halves[1]), ...tail];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...left, ...new Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...right];
  if (all.some((group) => Number.isNaN(group))) return undefined;
  return all.flatMap((group) => [group >> 8, group & 0xff]);
}
