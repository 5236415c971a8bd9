import { describe, expect, it } from 'vitest'
import { requestId } from '../../src/steps/request-id.ts'
import { stepApp } from './_app.ts'

describe('the request-id step', () => {
  it('echoes a tame client id, and makes a fresh one for anything else', async () => {
    const request = stepApp((event) => void requestId()(event))
    expect((await (await request('/open', { headers: { 'x-request-id': 'abc-123.x:y' } })).json()).headers['x-request-id']).toBe('abc-123.x:y')
    for (const given of ['has space', 'x'.repeat(129), '<script>']) {
      const id = (await (await request('/open', { headers: { 'x-request-id': given } })).json()).headers['x-request-id']
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/)
    }
  })

  it('counts within an instance: ids never repeat', async () => {
    const step = requestId()
    const request = stepApp((event) => void step(event))
    const ids = await Promise.all(Array.from({ length: 50 }, async () => (await (await request('/open')).json()).headers['x-request-id']))
    expect(new Set(ids).size).toBe(50)
  })
})
