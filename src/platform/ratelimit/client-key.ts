import { isIPv4, isIPv6 } from 'node:net'

/**
 * The bucket of a client address: IPv4 as is, IPv6 by its /64 (one subscriber's
 * allocation: counting single IPv6 addresses would let one host rotate through
 * 2^64 of them). IPv4-mapped IPv6 (`::ffff:1.2.3.4`) counts as its IPv4.
 */
export function clientBucket(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (mapped) return mapped[1]!
  if (isIPv4(ip)) return ip
  const bare = ip.split('%')[0]!
  if (!isIPv6(bare)) return ip
  return `${expandIPv6(bare).slice(0, 4).join(':')}::/64`
}

function expandIPv6(ip: string): string[] {
  let groups: string[]
  const [head = '', tail] = ip.split('::')
  const parts = (s: string) => (s === '' ? [] : s.split(':'))
  if (tail === undefined) groups = parts(head)
  else {
    const h = parts(head)
    const t = parts(tail)
    groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
  }
  // An embedded IPv4 tail (::1.2.3.4) only ever lands in the last 64 bits, which are dropped.
  return groups.map((g) => (g.includes('.') ? '0' : Number.parseInt(g, 16).toString(16)))
}
