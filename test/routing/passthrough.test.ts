import { describe, expect, it } from 'vitest'
import { chatCompletion } from '../../src/mock/openai.ts'
import { passThrough, passThroughFed, proxyCatalog, testApp } from '../_setup.ts'
import { body, collect } from '../fuzz/_fuzz.ts'

// A recorded OpenAI stream: role chunk, content chunks with multi-byte text, finish, usage, [DONE].
const recorded = chatCompletion({ model: 'm', messages: [{ role: 'user', content: 'caf\u00e9 \ud83d\ude42 ok' }], stream: true, stream_options: { include_usage: true } }).chunks.join('')
const bytes = new TextEncoder().encode(recorded)
const usageEvent = recorded.split('\n\n').find((e) => e.includes('"usage"'))!

// The stream read as the upstream's chunks are pulled (async generators, as the translators read
// it), or as they are pushed (feeds: the completion hot path of the OpenAI dialect).
async function run(chunks: Uint8Array[], includeUsage: boolean, form: 'pulled' | 'pushed') {
  const { gateway } = testApp()
  const up = { provider: proxyCatalog.providers.acme!, baseUrl: '', origin: '', basePath: '', firstByteMs: 1, idleMs: 1, maxAnswerBytes: 1024, key: 'sk-never-seen-1234' }
  const model = proxyCatalog.models.chat!
  const signal = new AbortController().signal
  const pieces = form === 'pushed' ? await passThroughFed(gateway.stats, model, chunks, includeUsage, up, signal) : await collect(passThrough(gateway.stats, model, body(chunks), includeUsage, up, signal))
  return { out: new TextDecoder().decode(Buffer.concat(pieces)), stats: gateway.stats.snapshot(new Date()) }
}

describe.each(['pulled', 'pushed'] as const)('the OpenAI stream pass-through, %s', (form) => {
  it('sends the upstream bytes unchanged when the client asked for usage, at every split', async () => {
    for (let i = 0; i <= bytes.length; i++) {
      const { out, stats } = await run([bytes.slice(0, i), bytes.slice(i)], true, form)
      expect(out).toBe(recorded)
      expect(stats.tokens_by_model.chat).toEqual({ prompt: 3, completion: 5 })
    }
  })

  it('strips only the usage event it asked for on the client\'s behalf, at every split', async () => {
    for (let i = 0; i <= bytes.length; i++) {
      const { out, stats } = await run([bytes.slice(0, i), bytes.slice(i)], false, form)
      expect(out).toBe(recorded.replace(`${usageEvent}\n\n`, ''))
      expect(stats.tokens_by_model.chat).toEqual({ prompt: 3, completion: 5 })
    }
  })

  it('ends with an error event, and no [DONE], when an event that carries usage looks like JSON but is not', async () => {
    const broken = `data: {"id":"c","choices":[],"usage":{ not json }}\n\ndata: [DONE]\n\n`
    const { out, stats } = await run([new TextEncoder().encode(broken)], false, form)
    expect(JSON.parse(out.replace(/^data: /, '').trim())).toMatchObject({ error: { code: 'upstream_error', message: 'the upstream stream failed' } })
    expect(out).not.toContain('[DONE]')
    expect(stats.errors_by_model.chat).toBe(1)
  })
})
