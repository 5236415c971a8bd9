import { describe, expect, it } from 'vitest'
import { priceFor } from '../../src/routing/accounting.ts'

const pricing = {
  input: 1,
  cached_input: 0.1,
  output: 4,
  tiers: [
    { above_input_tokens: 1000, input: 2, cached_input: 0.2, output: 6 },
    { above_input_tokens: 5000, input: 3, output: 8 },
  ],
}

describe('the price a request pays', () => {
  it.each([
    [0, { input: 1, cached_input: 0.1, output: 4 }],
    [1000, { input: 1, cached_input: 0.1, output: 4 }], // a tier starts above its threshold
    [1001, { input: 2, cached_input: 0.2, output: 6 }],
    [5000, { input: 2, cached_input: 0.2, output: 6 }],
    [5001, { input: 3, cached_input: 3, output: 8 }], // no cache price in the tier: its input price
  ])('with %i input tokens', (tokens, price) => {
    expect(priceFor(pricing, tokens)).toMatchObject(price)
  })

  it('is the base price without tiers', () => {
    expect(priceFor({ input: 1, output: 2 }, 1e9)).toEqual({ input: 1, output: 2 })
  })
})
