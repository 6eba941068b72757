import { describe, expect, it } from 'vitest';
import { sleep, VirtualClock } from '../src/clock/clock.ts';

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
