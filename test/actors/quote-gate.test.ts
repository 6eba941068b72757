/**
 * The quote gate holds back quotes that cannot change a decision; a tick that reaches the machine
 * must find it holding the same latest quotes as a machine fed every quote, because the tick can
 * move it into a state whose rules read the quotes' age.
 */
import { describe, expect, it } from 'vitest';
import type { QuoteBatchEvent, QuoteEvent } from '../../machines/contracts.ts';
import type { QuoteGateSpec } from '../../machines/strategies/kit/kind.ts';
import type { Quote } from '../../machines/strategies/kit/quotes.ts';
import { QuoteGate } from '../../src/actors/quote-gate.ts';

function quote(leg: 'spot' | 'perp', at: number): QuoteEvent {
  return {
    type: 'QUOTE',
    venue: 'sim',
    symbol: leg,
    bid: 100,
    bidSize: 1,
    ask: 101,
    askSize: 1,
    timestamp: at,
    receivedAt: at,
  };
}

describe('quote gate', () => {
  it('a tick that reaches the machine is preceded by the quotes held back since its last event', () => {
    // A holding state that decides only on the clock, from t = 10_000 on.
    const spec: QuoteGateSpec = {
      legOf: (_c, _v, symbol) => symbol,
      canDecide: (_c, _s, _q: Record<string, Quote | undefined>, now, horizon) => now + horizon >= 10_000,
    };
    const received: string[] = [];
    const context = { quotes: {} as Record<string, Quote | undefined> };
    const gate = new QuoteGate(spec, () => ({ value: 'holding', context }), 1_000);
    const toMachine = (e: QuoteEvent | QuoteBatchEvent) => {
      const quotes = e.type === 'QUOTES' ? e.quotes : [e];
      for (const q of quotes) received.push(`${q.symbol}@${q.receivedAt}`);
    };
    gate.offer(quote('spot', 1_000), toMachine);
    gate.offer(quote('perp', 1_000), toMachine);
    // Within the refresh period and with nothing to decide: held back.
    gate.offer(quote('spot', 1_500), toMachine);
    gate.offer(quote('perp', 1_600), toMachine);
    expect(received).toEqual(['spot@1000', 'perp@1000']);
    gate.offerTick(9_500, () => received.push('tick@9500'));
    expect(received).toEqual(['spot@1000', 'perp@1000', 'spot@1500', 'perp@1600', 'tick@9500']);
    // Nothing held any more: the next tick goes alone.
    gate.offerTick(9_600, () => received.push('tick@9600'));
    expect(received.at(-1)).toBe('tick@9600');
    expect(received).toHaveLength(6);
  });
});
