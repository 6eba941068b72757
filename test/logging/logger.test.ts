import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock/clock.ts';
import { createEngine } from '../../src/engine/engine.ts';
import { SimExchangeClient } from '../../src/exchange/sim/client.ts';
import { simMarket } from '../../src/exchange/sim/markets.ts';
import { SimVenue } from '../../src/exchange/sim/venue.ts';
import { createLogger, REDACTED, redactSecrets, redactText } from '../../src/logging/logger.ts';
import { MemoryStore } from '../../src/store/memory.ts';

function sink(isTTY = false) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  }) as Writable & { isTTY?: boolean };
  stream.isTTY = isTTY;
  return { stream, lines };
}

describe('logging', () => {
  it('writes JSON lines and removes secrets at any depth, in keys and in message text', () => {
    const { stream, lines } = sink();
    const log = createLogger({ destination: stream as never });
    log.info(
      {
        venue: 'binance',
        apiKey: 'AKIA-123',
        nested: { credentials: { secret: 's3cr3t', password: 'hunter2' }, list: [{ token: 't0k' }] },
        err: new Error('signature=abcdef rejected for apiKey=AKIA-123'),
      },
      'request failed: Bearer abc.def.ghi and secret=zzz',
    );
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    for (const s of ['AKIA-123', 's3cr3t', 'hunter2', 't0k', 'abcdef', 'abc.def.ghi', 'zzz'])
      expect(line).not.toContain(s);
    const obj = JSON.parse(line);
    expect(obj.venue).toBe('binance');
    expect(obj.apiKey).toBe(REDACTED);
    expect(obj.nested.credentials).toBe(REDACTED);
    expect(obj.nested.list[0].token).toBe(REDACTED);
    expect(obj.msg).toContain(`Bearer ${REDACTED}`);
  });

  it('pretty-prints when the destination is a terminal, still redacted', () => {
    const { stream, lines } = sink(true);
    const log = createLogger({ destination: stream as never });
    log.warn({ secret: 'nope', strategy: 'basis' }, 'hello');
    const text = lines.join('\n');
    expect(text).toContain('hello');
    expect(text).toContain('basis');
    expect(text).not.toContain('nope');
    expect(() => JSON.parse(lines[0]!)).toThrow();
  });

  it('redactors leave ordinary data alone and survive cycles', () => {
    const a: Record<string, unknown> = { price: 1, symbol: 'BTC/USDT' };
    a.self = a;
    expect(redactSecrets(a)).toEqual({ price: 1, symbol: 'BTC/USDT', self: '[circular]' });
    expect(redactText('filled 0.5 BTC at 60000')).toBe('filled 0.5 BTC at 60000');
  });

  it('logs one line per state transition with strategy, from, to and the event', async () => {
    const { stream, lines } = sink();
    const clock = new VirtualClock(Date.UTC(2026, 0, 1));
    const venue = new SimVenue({
      name: 'sim',
      clock,
      markets: [simMarket('sim', 'ETH/USDT')],
      balances: { USDT: 1e5 },
    });
    const engine = createEngine({
      store: new MemoryStore(),
      venues: { sim: new SimExchangeClient(venue) },
      clock,
      logger: createLogger({ destination: stream as never }),
    });
    let done = false;
    const p = engine.start().finally(() => {
      done = true;
    });
    while (!done) await clock.advanceBy(1);
    await engine.addStrategy({
      kind: 'market-making',
      id: 'mm',
      params: {
        market: { venue: 'sim', symbol: 'ETH/USDT' },
        orderAmount: 0.01,
        levels: 1,
        spreadBps: 5,
        levelSpacingBps: 0,
        reference: 'mid',
        inventorySkewBpsPerUnit: 0,
        maxInventoryBase: 1,
        refreshToleranceBps: 2,
        minOrderAgeMs: 0,
        staleAfterMs: 5_000,
        rejectBackoffMs: 500,
        maxPositionNotional: 10_000,
      },
    });
    engine.stopStrategy('mm', { flatten: false });
    for (let i = 0; i < 50; i++) await clock.advanceBy(10);
    const transitions = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'transition');
    expect(transitions[0]).toMatchObject({
      strategy: 'mm',
      from: '(start)',
      to: 'quoting',
      event: 'xstate.init',
    });
    expect(transitions.at(-1)).toMatchObject({ strategy: 'mm', to: 'stopped' });
    // Every line names the event that moved the machine.
    for (const t of transitions) expect(typeof t.event).toBe('string');
    expect(transitions.some((t) => t.event === 'STOP')).toBe(true);
    await engine.stop();
    await p;
  });
});
