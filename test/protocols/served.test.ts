import { describe, expect, it } from 'vitest'
import { announcedDay } from '../../src/protocols/served.ts'

describe("a provider's announced shutdown day", () => {
  it.each([
    ['2026-12-11', '2026-12-11'],
    ['2026-12-11T00:00:00Z', '2026-12-11'],
    [null, null],
    ['2026-02-30', undefined],
    ['2026-13-01', undefined],
    ['12/11/2026', undefined],
    ['2026-12-11junk', undefined],
    [1_797_033_600, undefined],
    [undefined, undefined],
  ])('reads %j as %j', (value, day) => {
    expect(announcedDay(value)).toBe(day)
  })
})
