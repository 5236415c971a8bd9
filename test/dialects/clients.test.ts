import { createOpenAI } from '@ai-sdk/openai'
import { ChatOpenAI } from '@langchain/openai'
import { generateObject, generateText, stepCountIs, streamText, tool } from 'ai'
import { beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { useProxy } from '../_setup.ts'

// Real clients as a new user points them at the gateway: the Vercel AI SDK (whose default
// `openai(id)` speaks the Responses API) and LangChain, on an OpenAI model that serves the
// Responses API (`think`), a Claude model and a local model (both translated).
const ctx = useProxy()
let openai: ReturnType<typeof createOpenAI>
beforeAll(() => {
  openai = createOpenAI({ baseURL: `${ctx.gw.url}/v1`, apiKey: 'client-key' })
})
const MODELS = ['think', 'claude', 'qwen-local']
const person = z.object({ name: z.string(), age: z.number().int() })

describe('the Vercel AI SDK', () => {
  it.each(MODELS)('%s: generateText answers the text', async (model) => {
    const { text } = await generateText({ model: openai(model), prompt: 'hello from the AI SDK' })
    expect(text).toBe('You said: hello from the AI SDK')
  })

  it.each(MODELS)('%s: streamText with a zod tool runs the tool loop to an answer', async (model) => {
    const called: unknown[] = []
    const result = streamText({
      model: openai(model),
      prompt: 'use get_weather for Paris',
      tools: { get_weather: tool({ description: 'The weather in a city', inputSchema: z.object({ city: z.string() }), execute: async (input) => (called.push(input), { temperature: 21 }) }) },
      stopWhen: stepCountIs(3),
    })
    let text = ''
    for await (const delta of result.textStream) text += delta
    expect(called).toEqual([{ city: 'use get_weather for Paris' }])
    expect((await result.steps).map((s) => s.finishReason)).toEqual(['tool-calls', 'stop'])
    expect(text).toMatch(/^You said: /)
  })

  it.each(MODELS)('%s: generateObject gives an object of the schema', async (model) => {
    const { object } = await generateObject({ model: openai(model), schema: person, prompt: 'Ada' })
    expect(object).toEqual({ name: 'Ada', age: 1 })
  })
})

describe('LangChain', () => {
  it.each(MODELS)('%s: withStructuredOutput gives an object of the schema', async (model) => {
    const chat = new ChatOpenAI({ model, apiKey: 'client-key', configuration: { baseURL: `${ctx.gw.url}/v1` }, maxRetries: 0 })
    const out = await chat.withStructuredOutput(person).invoke('Grace')
    expect(out).toEqual({ name: 'Grace', age: 1 })
  })
})
