import { describe, expect, it } from 'vitest';
import { sleep, VirtualClock } from '../src/clock/clock.ts';
import { Ticker } from '../src/clock/ticker.ts';

describe('VirtualClock', () => {
  it('fires timers in time then insertion order, with time set to each timer', async () => {
    const c = new VirtualClock(1000);
    const seen: [string, number][] = [];
    c.setTimeout(() => seen.push(['b', c.now()]), 20);
    c.setTimeout(() => seen.push(['a', c.now()]), 10);
    c.setTimeout(() => seen.push(['c', c.now()]), 20);
    const cancelled = c.setTimeout(() => seen.push(['x', c.now()]), 15);
    c.clearTimeout(cancelled);
    await c.advanceTo(1015);
    expect(seen).toEqual([['a', 1010]]);
    expect(c.now()).toBe(1015);
    await c.advanceBy(100);
    expect(seen).toEqual([
      ['a', 1010],
      ['b', 1020],
      ['c', 1020],
    ]);
    expect(c.now()).toBe(1115);
  });

  it('lets promise chains started by a timer schedule and run their own timers within one advance', async () => {
    const c = new VirtualClock(0);
    const log: number[] = [];
    const chain = async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(c, 10);
        log.push(c.now());
      }
    };
    void chain();
    await c.advanceTo(100);
    expect(log).toEqual([10, 20, 30]);
  });

  it('jumpTo refuses to skip a due timer; runAll drains everything', async () => {
    const c = new VirtualClock(0);
    let fired = 0;
    c.setTimeout(() => fired++, 50);
    expect(() => c.jumpTo(60)).toThrow(/skip a due timer/);
    c.jumpTo(40);
    expect(c.now()).toBe(40);
    c.setTimeout(() => fired++, 1_000_000);
    await c.runAll();
    expect(fired).toBe(2);
    expect(c.nextTimerAt()).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('Ticker', () => {
  it('one timer per period for every subscriber, in subscription order, stopped with the last', async () => {
    const c = new VirtualClock(0);
    const t = new Ticker(c);
    const seen: string[] = [];
    const offA = t.subscribe(1000, (now) => seen.push(`a@${now}`));
    const offB = t.subscribe(1000, (now) => seen.push(`b@${now}`));
    t.subscribe(500, (now) => seen.push(`h@${now}`));
    expect(c.pendingTimers()).toBe(2);
    await c.advanceTo(1000);
    // Timers due at the same time fire in the order they were set.
    expect(seen).toEqual(['h@500', 'a@1000', 'b@1000', 'h@1000']);
    offA();
    await c.advanceTo(2000);
    expect(seen.slice(4)).toEqual(['h@1500', 'b@2000', 'h@2000']);
    offB();
    expect(t.activePeriods()).toEqual([500]);
    t.dispose();
    expect(c.pendingTimers()).toBe(0);
  });

  it('a subscriber added during a tick starts on the next; one removed during a tick is not called', async () => {
    const c = new VirtualClock(0);
    const t = new Ticker(c);
    const seen: string[] = [];
    let offC: () => void = () => {};
    t.subscribe(100, (now) => {
      seen.push(`a@${now}`);
      if (now === 100) t.subscribe(100, (n) => seen.push(`late@${n}`));
      if (now === 200) offC();
    });
    offC = t.subscribe(100, (now) => seen.push(`c@${now}`));
    await c.advanceTo(300);
    expect(seen).toEqual(['a@100', 'c@100', 'a@200', 'late@200', 'a@300', 'late@300']);
  });

  it('the same function subscribed twice is two subscriptions', async () => {
    const c = new VirtualClock(0);
    const t = new Ticker(c);
    let n = 0;
    const f = () => n++;
    const off1 = t.subscribe(10, f);
    t.subscribe(10, f);
    await c.advanceTo(10);
    expect(n).toBe(2);
    off1();
    off1(); // twice is harmless
    await c.advanceTo(20);
    expect(n).toBe(3);
  });
});
