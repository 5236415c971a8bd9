// Cloud metadata endpoints and link-local hosts (IPv4; IPv6 fe80::/10; 169.254.x.x mapped,
// embedded or NAT64-translated into IPv6; AWS's IPv6 and Alibaba's metadata addresses; their
// names): a provider key must never be sent there. Hosts are checked as the URL parser
// normalises them, so 2852039166, 0xA9FEA9FE and 169.254.169.254. are all 169.254.169.254
// here. Names that resolve there by DNS are not caught: that is a deployment's egress policy.
const FORBIDDEN_HOSTS = /^(169\.254\.\d+\.\d+|\[fe[89ab][0-9a-f]:.*\]|\[(::ffff:|::|64:ff9b::)a9fe:.*\]|\[fd00:ec2::254\]|100\.100\.100\.200|metadata\.google\.internal|metadata|instance-data(\.ec2\.internal)?)$/i

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
  if (FORBIDDEN_HOSTS.test(url.hostname.replace(/\.$/, ''))) return `must not point at a link-local or cloud metadata address (${url.hostname})`
  return undefined
}
