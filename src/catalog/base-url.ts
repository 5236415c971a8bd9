import { isIPv6 } from 'node:net'

// Cloud metadata endpoints and link-local hosts: a provider key must never be sent there.
// IPv4: 169.254.0.0/16 (link-local; AWS, GCP, Azure metadata), 100.100.100.200 (Alibaba),
// 192.0.0.192 (Oracle). IPv6: fe80::/10 (link-local), fd00:ec2::254 (AWS), and any of those IPv4
// addresses carried in the last 32 bits of an IPv6 form that reaches them: IPv4-compatible
// (::/96), IPv4-mapped (::ffff:0:0/96), IPv4-translated (::ffff:0:0:0/96) and NAT64 (64:ff9b::/32,
// the well-known and the local-use prefixes). Hosts are checked as the URL parser normalises
// them, so 2852039166, 0xA9FEA9FE and 169.254.169.254. are all 169.254.169.254 here. Names that
// resolve there by DNS are not caught: that is a deployment's egress policy.
const FORBIDDEN_IPV4 = /^(169\.254\.\d+\.\d+|100\.100\.100\.200|192\.0\.0\.192)$/
const FORBIDDEN_NAMES = /^(metadata\.google\.internal|metadata|instance-data(\.ec2\.internal)?)$/i

/**
 * Why a provider base URL is unusable, if it is: not a URL, not http(s), credentials, a query
 * or fragment, or a link-local / cloud metadata host. Checked for models.yaml at build time and
 * for `base_url_env` overrides at startup.
 */
export function baseUrlProblem(raw: string): string | undefined {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return `${JSON.stringify(raw)} is not a URL`
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be http(s), not ${url.protocol}`
  if (url.username || url.password) return 'must not contain credentials (name the key variable in api_key_env)'
  if (url.search || url.hash) return 'must not have a query or fragment'
  if (_forbidden(url.hostname.replace(/\.$/, ''))) return `must not point at a link-local or cloud metadata address (${url.hostname})`
  return undefined
}

function _forbidden(host: string): boolean {
  if (FORBIDDEN_IPV4.test(host) || FORBIDDEN_NAMES.test(host)) return true
  const v6 = host.startsWith('[') ? host.slice(1, -1) : ''
  if (!isIPv6(v6)) return false
  const words = _words(v6)
  if ((words[0]! & 0xffc0) === 0xfe80) return true // fe80::/10
  const hex = words.map((w) => w.toString(16))
  if (hex.join(':') === 'fd00:ec2:0:0:0:0:0:254') return true
  const prefix = hex.slice(0, 6).join(':')
  const carriesIPv4 = /^0:0:0:0:0:(0|ffff)$/.test(prefix) || prefix === '0:0:0:0:ffff:0' || (words[0] === 0x64 && words[1] === 0xff9b)
  const ipv4 = `${words[6]! >> 8}.${words[6]! & 255}.${words[7]! >> 8}.${words[7]! & 255}`
  return carriesIPv4 && FORBIDDEN_IPV4.test(ipv4)
}

// An IPv6 address as its eight 16-bit words (the URL parser has already written any dotted
// IPv4 tail in hex).
function _words(address: string): number[] {
  const [head = '', tail] = address.split('::') as [string, string?]
  const parse = (part: string) => (part ? part.split(':').map((w) => Number.parseInt(w, 16)) : [])
  const [left, right] = [parse(head), parse(tail ?? '')]
  return tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
}
