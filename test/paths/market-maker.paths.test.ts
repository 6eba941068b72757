import { describe, expect, it } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import {
  createMarketMakerMachine,
  desiredPrice,
  type MarketMakerContext,
  type MarketMakerParams,
  slotKeys,
} from '../../machines/strategies/market-making/machine.ts';
import { coverage } from './coverage.ts';
import { filledOrder, markets, orderOutput, quote } from './fixtures.ts';

const SPOT = 'BTC/USDT';
const T0 = 1_000_000;

const params: MarketMakerParams = {
  market: { venue: 'sim', symbol: SPOT },
  orderAmount: 0.01,
  levels: 1,
  spreadBps: 5,
  levelSpacingBps: 5,
  reference: 'mid',
  inventorySkewBpsPerUnit: 10,
  maxInventoryBase: 0.015,
  refreshToleranceBps: 2,
  minOrderAgeMs: 0,
  staleAfterMs: 5_000,
  rejectBackoffMs: 100,
  maxPositionNotional: 1e6,
};

const ctx = (s: AnyMachineSnapshot) => s.context as MarketMakerContext;

function events(s: AnyMachineSnapshot) {
  const c = ctx(s);
  const t = c.now || T0;
  const ev: unknown[] = [
    quote('sim', SPOT, 60_000, t),
    quote('sim', SPOT, 60_100, t), // moved beyond the refresh tolerance
    { type: 'TIME.TICK', now: T0 + 10_000 }, // stale
    { type: 'xstate.done.actor.pause' },
    // A perpetual's funding (booked once: a payment seen again carries its settlement time).
    { type: 'FUNDING.PAYMENT', venue: 'sim', symbol: SPOT, amount: -0.5, id: 'f1', timestamp: T0 + 1 },
  ];
  for (const slot of slotKeys(1)) {
    const w = c.slots[slot]?.working;
    if (!w) continue;
    const side = slot.startsWith('bid') ? 'buy' : 'sell';
    const fill = filledOrder(SPOT, side, w.amount, w.price, w.clientOrderId);
    ev.push({ type: `xstate.done.actor.${slot}`, output: orderOutput(fill, 'filled') });
    ev.push({
      type: `xstate.done.actor.${slot}`,
      output: orderOutput({ ...fill, filled: 0, trades: [], status: 'canceled' }, 'canceled'),
    });
    ev.push({ type: `xstate.done.actor.${slot}`, output: orderOutput(undefined, 'rejected') });
    // Its fate unknown (answer lost, queries failing): the slot asks again before quoting anew.
    ev.push({ type: `xstate.done.actor.${slot}`, output: orderOutput(undefined, 'lost') });
    ev.push({ type: 'ORDER.PROGRESS', order: { ...fill, status: 'open', remaining: 0 } });
  }
  // The venue deleverages the maker's inventory: booked, and the maker stops (flattening the rest).
  if (!c.stopRequested && c.leg.position !== 0) {
    const close = filledOrder(
      SPOT,
      c.leg.position > 0 ? 'sell' : 'buy',
      Math.abs(c.leg.position),
      60_000,
      'adl',
    );
    ev.push({
      type: 'ATTENTION',
      reason: 'sim closed the position itself (auto-deleveraging)',
      legs: [{ venue: 'sim', symbol: SPOT, position: 0 }],
      closed: { venue: 'sim', fill: close.trades[0] },
    });
  }
  if (!c.stopRequested && !c.paused && !c.riskBlocked)
    ev.push(
      { type: 'STOP', flatten: true },
      { type: 'STOP', flatten: false },
      { type: 'PAUSE' },
      { type: 'RISK.BREACH', reason: 'r' },
    );
  if (c.paused) ev.push({ type: 'RESUME' });
  if (c.riskBlocked) ev.push({ type: 'RISK.CLEAR' });
  if (s.matches('flattening')) {
    const side = c.leg.position > 0 ? 'sell' : 'buy';
    ev.push({
      type: 'xstate.done.actor.flatten',
      output: orderOutput(filledOrder(SPOT, side, Math.abs(c.leg.position), 60_000), 'filled'),
    });
    ev.push({ type: 'xstate.done.actor.flatten', output: orderOutput(undefined, 'rejected') });
  }
  return ev;
}

function invariant(s: AnyMachineSnapshot, stable: boolean): void {
  const c = ctx(s);
  // At rest, every resting order is one the strategy still wants: the slot may quote and the
  // price is within the refresh tolerance of the desired one (minimum age is 0 here).
  for (const slot of slotKeys(1)) {
    const w = c.slots[slot]?.working;
    if (!stable || !w || !s.matches({ quoting: { [slot]: { live: 'resting' } } })) continue;
    const want = desiredPrice(c, slot);
    expect(want).toBeDefined();
    expect((Math.abs(want! - w.price) / w.price) * 1e4).toBeLessThanOrEqual(
      c.params.refreshToleranceBps + 1e-9,
    );
    if (slot.startsWith('bid')) expect(c.leg.position).toBeLessThan(c.params.maxInventoryBase);
    else expect(c.leg.position).toBeGreaterThan(-c.params.maxInventoryBase);
  }
  if (s.matches('stopped')) {
    expect(Object.values(c.slots).every((x) => x.working === undefined)).toBe(true);
    if (c.stopRequested?.flatten && c.leg.position !== 0 && c.flattenAttempts > 0)
      expect(c.lastError?.name).toBe('FlattenIncomplete');
  }
  expect(c.flattenAttempts).toBeLessThanOrEqual(3);
}

describe('market maker path coverage', () => {
  it('reaches every state and transition of every slot', () => {
    // One level per side: every slot region is built by the same function, and six parallel
    // regions would make the explored product (4^6 configurations × context) far too large.
    const report = coverage(createMarketMakerMachine(1), {
      input: { id: 'mm', params, market: markets.spot },
      events: events as never,
      serializeState: (s) => {
        const c = ctx(s);
        return JSON.stringify([
          s.value,
          Math.round(c.leg.position * 100),
          c.quote ? Math.round(c.quote.bid) : 0,
          Math.floor(((c.now || T0) - T0) / 10_000),
          c.stopRequested?.flatten ?? null,
          c.paused,
          c.riskBlocked ?? null,
          c.flattenAttempts,
        ]);
      },
      invariant,
    });
    expect(report.states.missing).toEqual([]);
    expect(report.transitions.missing).toEqual([]);
  });
});
