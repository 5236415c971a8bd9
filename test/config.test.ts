import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.ts'
import { catalog } from '../src/catalog/catalog.generated.ts'
import { ConfigError, loadConfig } from '../src/config.ts'

describe('loadConfig', () => {
  it('has documented defaults', () => {
    expect(loadConfig({})).toEqual({ port: 8000, host: '127.0.0.1', exposeExperimental: false, adminToken: undefined, apiKeys: [], corsOrigins: [], maxBodyBytes: 33554432, maxAnswerBytes: 67108864, headersTimeoutMs: 10000, requestTimeoutMs: 30000, unsupportedParams: 'drop', upstreamTimeoutMs: undefined, streamIdleTimeoutMs: undefined, shutdownTimeoutMs: 10000, logLevel: 'info', redisUrl: undefined, limitsOnStoreFailure: 'open' })
  })

  it('reads every setting', () => {
    const config = loadConfig({ PORT: '0', HOST: '0.0.0.0', EXPOSE_EXPERIMENTAL_MODELS: 'Yes', ADMIN_TOKEN: 'a'.repeat(16), GATEWAY_API_KEYS: ` ${'b'.repeat(16)}, ${'c'.repeat(16)} `, CORS_ORIGINS: 'https://a.example,http://localhost:3000', MAX_BODY_BYTES: '1024', MAX_ANSWER_BYTES: '4096', HEADERS_TIMEOUT_MS: '2000', REQUEST_TIMEOUT_MS: '9000', UNSUPPORTED_PARAMS: 'Reject', UPSTREAM_TIMEOUT_MS: '5000', STREAM_IDLE_TIMEOUT_MS: '700', SHUTDOWN_TIMEOUT_MS: '2500', LOG_LEVEL: 'DEBUG', REDIS_URL: 'redis://127.0.0.1:6390/2', LIMITS_ON_STORE_FAILURE: 'Closed' })
    expect(config).toEqual({ port: 0, host: '0.0.0.0', exposeExperimental: true, adminToken: 'a'.repeat(16), apiKeys: ['b'.repeat(16), 'c'.repeat(16)], corsOrigins: ['https://a.example', 'http://localhost:3000'], maxBodyBytes: 1024, maxAnswerBytes: 4096, headersTimeoutMs: 2000, requestTimeoutMs: 9000, unsupportedParams: 'reject', upstreamTimeoutMs: 5000, streamIdleTimeoutMs: 700, shutdownTimeoutMs: 2500, logLevel: 'debug', redisUrl: 'redis://127.0.0.1:6390/2', limitsOnStoreFailure: 'closed' })
  })

  it.each([
    [{ PORT: 'eighty' }, 'PORT: "eighty" is not a port number (0-65535)'],
    [{ PORT: '70000' }, 'PORT: "70000" is not a port number (0-65535)'],
    [{ EXPOSE_EXPERIMENTAL_MODELS: 'maybe' }, 'EXPOSE_EXPERIMENTAL_MODELS: "maybe" is not a boolean (true, 1, yes, false, 0, no)'],
    [{ ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN: a secret must have at least 16 characters'],
    [{ GATEWAY_API_KEYS: `${'k'.repeat(16)},tiny` }, 'GATEWAY_API_KEYS: a secret must have at least 16 characters'],
    [{ CORS_ORIGINS: 'https://a.example/path' }, 'CORS_ORIGINS: "https://a.example/path" is not an origin like https://chat.example.com'],
    [{ ADMIN_TOKEN: `${'a'.repeat(16)}\n` }, 'ADMIN_TOKEN: a secret must not contain spaces, newlines or commas'],
    [{ MAX_BODY_BYTES: '1e6' }, 'MAX_BODY_BYTES: "1e6" is not a positive whole number'],
    [{ UNSUPPORTED_PARAMS: 'ignore' }, 'UNSUPPORTED_PARAMS: "ignore" is not one of drop, reject'],
    [{ UPSTREAM_TIMEOUT_MS: '-1' }, 'UPSTREAM_TIMEOUT_MS: "-1" is not a positive whole number'],
    [{ HEADERS_TIMEOUT_MS: '40000' }, 'HEADERS_TIMEOUT_MS: 40000 exceeds REQUEST_TIMEOUT_MS (30000); the headers are part of the request'],
    [{ MAX_ANSWER_BYTES: '0' }, 'MAX_ANSWER_BYTES: "0" is not a positive whole number'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL: localhost: is not redis: or rediss:'],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL: http: is not redis: or rediss:'],
    [{ REDIS_URL: '127.0.0.1' }, 'REDIS_URL: not a URL (redis://host:6379 or rediss://host:6380)'],
    [{ LIMITS_ON_STORE_FAILURE: 'maybe' }, 'LIMITS_ON_STORE_FAILURE: "maybe" is not one of open, closed'],
  ])('stops on %o, naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError)
    expect(() => loadConfig(env)).toThrow(message)
  })
})

describe('provider base URL overrides', () => {
  it.each([
    ['http://169.254.169.254/v1', 'OPENAI_BASE_URL: must not point at a link-local or cloud metadata address (169.254.169.254)'],
    ['https://user:pw@api.example.com/v1', 'OPENAI_BASE_URL: must not contain credentials (name the key variable in api_key_env)'],
    ['ftp://example.com', 'OPENAI_BASE_URL: must be http(s), not ftp:'],
  ])('stop startup on %s, naming the variable', (url, message) => {
    expect(() => createApp({ catalog, env: { OPENAI_BASE_URL: url }, log: () => {} })).toThrow(new ConfigError(message))
    expect(() => createApp({ catalog, env: { OPENAI_BASE_URL: url }, log: () => {} })).toThrow(ConfigError)
  })
})
