import { Ollama } from 'ollama'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testApp, testServer } from '../_setup.ts'

describe('Ollama API, through the official ollama client', () => {
  let server: Awaited<ReturnType<typeof testServer>>
  let client: Ollama

  beforeAll(async () => {
    server = await testServer()
    client = new Ollama({ host: server.url })
  })
  afterAll(() => server.close())

  it('lists models with family and parameter size where the catalog knows them', async () => {
    const { models } = await client.list()
    expect(models.map((m) => m.name)).toEqual(['org/model:8b', 'local-embed'])
    expect(models[0]).toMatchObject({ name: 'org/model:8b', model: 'org/model:8b', size: 0, details: { family: 'llama', families: ['llama'], parameter_size: '8B' } })
    expect(models[0]!.digest).toMatch(/^[0-9a-f]{64}$/)
    expect(new Date(models[0]!.modified_at).toISOString()).toBe('2025-04-05T00:00:00.000Z')
  })

  it('shows a model: real context length and capabilities from the catalog, :latest resolved', async () => {
    const show = await client.show({ model: 'org/model:8b:latest' })
    expect(show.model_info).toEqual({ 'general.architecture': 'llama', 'general.basename': 'org/model:8b', 'llama.context_length': 131072, 'general.size_label': '8B' })
    expect(show.capabilities).toEqual(['completion', 'tools'])
    expect((await client.show({ model: 'local-embed' })).capabilities).toEqual(['embedding'])
  })

  it('answers 404 with Ollama\'s error for an unknown model', async () => {
    const error = await client.show({ model: 'nope:latest' }).catch((e: unknown) => e)
    expect(error).toMatchObject({ status_code: 404, error: "model 'nope:latest' not found" })
  })

  it('reports a version and no loaded models', async () => {
    expect(await client.version()).toEqual({ version: '0.12.0' })
    expect(await client.ps()).toEqual({ models: [] })
  })
})

describe('POST /api/show errors', () => {
  const { request } = testApp()
  const show = (body: string, type = 'application/json') => request('/api/show', { method: 'POST', headers: { 'content-type': type }, body })

  it.each([
    ['{}', 'application/json', 400, 'model is required'],
    ['{"model": 7}', 'application/json', 400, 'model is required'],
    ['{"model":', 'application/json', 400, 'the body is not valid JSON: '],
    ['[]', 'application/json', 400, 'the body must be a JSON object'],
    ['model=x', 'application/x-www-form-urlencoded', 400, 'the body is not valid JSON: '], // any content type is read as JSON, as Ollama does
  ])('%s (%s) -> %i', async (body, type, status, message) => {
    const res = await show(body, type)
    expect(res.status).toBe(status)
    expect((await res.json()).error).toMatch(new RegExp(`^${message.replace(/[()[\]{}.*+?^$|\\]/g, '\\$&')}`))
  })

  it('answers 410 naming the replacement for a retired model', async () => {
    const res = await show('{"model":"acme-gone"}')
    expect(res.status).toBe(410)
    expect(await res.json()).toEqual({ error: "The model 'acme-gone' was retired on 2026-06-01. Use acme-chat instead." })
  })
})
