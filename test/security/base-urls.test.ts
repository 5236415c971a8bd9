// A provider key goes wherever a provider's base URL points: base URLs with credentials, other
// schemes, or link-local / cloud metadata hosts (in any spelling the URL parser accepts) fail
// the catalog build, and stop startup when they come from a base_url_env override.
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { catalogYaml, compileErrors, proxyCatalog } from '../_setup.ts'

const REFUSED: [string, string][] = [
  ['http://user:secret@example.com/v1', 'must not contain credentials (name the key variable in api_key_env)'],
  ['https://:token@example.com/v1', 'must not contain credentials (name the key variable in api_key_env)'],
  ['file:///etc/passwd', 'must be http(s), not file:'],
  ['gopher://127.0.0.1:6379/_FLUSHALL', 'must be http(s), not gopher:'],
  ['http://169.254.169.254/latest/meta-data', 'must not point at a link-local or cloud metadata address (169.254.169.254)'],
  ['http://2852039166/', 'must not point at a link-local or cloud metadata address (169.254.169.254)'],
  ['http://0xA9FEA9FE/', 'must not point at a link-local or cloud metadata address (169.254.169.254)'],
  ['http://169.254.169.254./', 'must not point at a link-local or cloud metadata address (169.254.169.254)'],
  ['http://[::ffff:169.254.169.254]/', 'must not point at a link-local or cloud metadata address ([::ffff:a9fe:a9fe])'],
  ['http://[64:ff9b::169.254.169.254]/', 'must not point at a link-local or cloud metadata address ([64:ff9b::a9fe:a9fe])'],
  ['http://[::169.254.169.254]/', 'must not point at a link-local or cloud metadata address ([::a9fe:a9fe])'],
  ['http://[fe80::1]/v1', 'must not point at a link-local or cloud metadata address ([fe80::1])'],
  ['http://[febf::1]/v1', 'must not point at a link-local or cloud metadata address ([febf::1])'],
  ['http://[fd00:ec2::254]/', 'must not point at a link-local or cloud metadata address ([fd00:ec2::254])'],
  ['http://100.100.100.200/latest/meta-data', 'must not point at a link-local or cloud metadata address (100.100.100.200)'],
  ['http://metadata.google.internal/computeMetadata/v1', 'must not point at a link-local or cloud metadata address (metadata.google.internal)'],
  ['http://METADATA/computeMetadata/v1', 'must not point at a link-local or cloud metadata address (metadata)'],
  ['http://instance-data.ec2.internal/', 'must not point at a link-local or cloud metadata address (instance-data.ec2.internal)'],
  ['http://[64:ff9b:1::a9fe:a9fe]/', 'must not point at a link-local or cloud metadata address ([64:ff9b:1::a9fe:a9fe])'],
  ['http://[::ffff:0:a9fe:a9fe]/', 'must not point at a link-local or cloud metadata address ([::ffff:0:a9fe:a9fe])'],
  ['http://[::ffff:0:169.254.169.254]/', 'must not point at a link-local or cloud metadata address ([::ffff:0:a9fe:a9fe])'],
  ['http://[0:0:0:0:0:ffff:a9fe:fea9]/', 'must not point at a link-local or cloud metadata address ([::ffff:a9fe:fea9])'],
  ['http://192.0.0.192/opc/v2/instance/', 'must not point at a link-local or cloud metadata address (192.0.0.192)'],
  ['http://[::ffff:100.100.100.200]/', 'must not point at a link-local or cloud metadata address ([::ffff:6464:64c8])'],
  ['https://api.example.com/v1?key=abc', 'must not have a query or fragment'],
]

describe('provider base URLs', () => {
  it.each(REFUSED)('%s fails the catalog build', (url, problem) => {
    expect(compileErrors(catalogYaml({ provider: { base_url: url } }))).toEqual([`models.yaml:5:5: test: base_url ${problem}`])
  })

  it.each(REFUSED)('%s as a base_url_env override stops startup, naming the variable', (url, problem) => {
    expect(() => createApp({ catalog: proxyCatalog, env: { ACME_BASE_URL: url }, log: () => {} })).toThrow(`ACME_BASE_URL: ${problem}`)
  })

  it('still takes ordinary hosts, private networks and loopback (self-hosted servers live there)', () => {
    for (const url of ['https://api.openai.com/v1', 'http://10.0.0.5:8000/v1', 'http://127.0.0.1:8080/v1', 'http://[::1]:8080/v1', 'http://169.254.example.com/v1', 'http://[2001:db8::a9fe:a9fe]/v1', 'http://[::ffff:127.0.0.1]:8080/v1']) {
      expect(() => createApp({ catalog: proxyCatalog, env: { ACME_BASE_URL: url }, log: () => {} }), url).not.toThrow()
    }
  })
})
