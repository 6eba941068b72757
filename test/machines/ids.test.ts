import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientOrderId, type Phase, strategyOfOrder, strategyTag } from '../../machines/ids.ts';
import { isPortableClientOrderId } from '../../src/domain/index.ts';

const parts = fc.record({
  tag: fc.constantFrom(strategyTag('a'), strategyTag('b'), 'abc1234'),
  cycle: fc.integer({ min: 0, max: 36 ** 6 - 1 }),
  phase: fc.constantFrom<Phase>('e', 'x', 'r', 'q', 'f'),
  execution: fc.integer({ min: 0, max: 36 ** 2 - 1 }),
  leg: fc.constantFrom<'a' | 'b'>('a', 'b'),
  attempt: fc.integer({ min: 0, max: 36 ** 2 - 1 }),
});

describe('client order ids', () => {
  it('two different (tag, cycle, phase, execution, leg, attempt) never give one id; every id is portable', () => {
    fc.assert(
      fc.property(parts, parts, (a, b) => {
        const same = JSON.stringify(a) === JSON.stringify(b);
        expect(clientOrderId(a) === clientOrderId(b)).toBe(same);
        expect(isPortableClientOrderId(clientOrderId(a))).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it("an exit's first order never meets its entry's, and the first exit of a cycle never meets the second's", () => {
    const id = (phase: Phase, execution: number, attempt: number) =>
      clientOrderId({ tag: strategyTag('basis'), cycle: 8, phase, execution, leg: 'a', attempt });
    const ids = [id('e', 0, 0), id('e', 0, 1), id('x', 0, 0), id('x', 0, 1), id('x', 1, 0), id('x', 1, 1)];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('refuses what does not fit its field, and finds the strategy of an id with a new or an old tag', () => {
    expect(() =>
      clientOrderId({ tag: 'abc', cycle: 36 ** 6, phase: 'e', execution: 0, leg: 'a', attempt: 0 }),
    ).toThrow(/cycle/);
    const byTag = new Map([
      [strategyTag('new'), 'new'],
      ['old0001', 'old'],
    ]);
    const mk = (tag: string) =>
      clientOrderId({ tag, cycle: 1, phase: 'x', execution: 0, leg: 'b', attempt: 3 });
    expect(strategyOfOrder(mk(strategyTag('new')), byTag)).toBe('new');
    expect(strategyOfOrder(mk('old0001'), byTag)).toBe('old');
  });
});
