import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import {
  type HedgedPairInput,
  type HedgedPairOutput,
  hedgedPairMachine,
  type LegSpec,
} from '../../machines/hedged-pair.ts';
import { bindActors } from '../../src/actors/bind.ts';
import { createExchangeActors } from '../../src/actors/exchange-actors.ts';
import { SimExchangeClient } from '../../src/exchange/sim/client.ts';
import { FaultInjector, type ScriptedFault } from '../../src/exchange/sim/faults.ts';
import { makeVenue, PERP, quote, SPOT } from '../helpers.ts';

function setup(script: ScriptedFault[] = [], perpAskSize = 5, perpBidSize = 5) {
  const { venue, clock } = makeVenue();
  const client = new SimExchangeClient(venue, {
    faults: new FaultInjector({ script }),
    latency: { requestMs: 5, streamMs: 1 },
    requestTimeoutMs: 200,
  });
  const { actors } = createExchangeActors({ venues: { sim: client }, clock, orderPollMs: 100 });
  const machine = hedgedPairMachine.provide({ actors: bindActors(actors) });
  venue.onBookTicker(quote(SPOT, 60_000, 60_010, 5, 5));
  venue.onBookTicker(quote(PERP, 60_100, 60_101, perpBidSize, perpAskSize));
  return { venue, clock, machine };
}

function leg(symbol: string, side: 'buy' | 'sell', amount: number, refPrice: number): LegSpec {
  const spot = symbol === SPOT;
  return {
    venue: 'sim',
    symbol,
    side,
    amount,
    contractSize: 1,
    amountStep: spot ? 0.00001 : 0.001,
    minAmount: spot ? 0.00001 : 0.001,
    minNotional: 5,
    refPrice,
    derivative: !spot,
  };
}

function entry(amount = 0.5): HedgedPairInput {
  return {
    tag: 'test001',
    cycle: 1,
    phase: 'e',
    legs: [leg(SPOT, 'buy', amount, 60_010), leg(PERP, 'sell', amount, 60_100)],
    toleranceBase: 0.0005,
    retryDelayMs: 100,
  };
}

async function run(
  s: ReturnType<typeof setup>,
  input: HedgedPairInput,
  onTick?: (t: number) => void,
): Promise<HedgedPairOutput> {
  const actor = createActor(s.machine, { input });
  actor.start();
  for (let t = 0; t < 100; t++) {
    await s.clock.advanceBy(50);
    onTick?.(t);
    if (actor.getSnapshot().status === 'done') break;
  }
  expect(actor.getSnapshot().status).toBe('done');
  return actor.getSnapshot().output!;
}

const position = (s: ReturnType<typeof setup>) => ({
  spot: s.venue.balances().BTC!.total - 1,
  perp: s.venue.positions([PERP])[0]?.size ?? 0,
});

describe('hedged pair against the simulated venue', () => {
  it('both legs fill: hedged, residual zero, fees and slippage reported', async () => {
    const s = setup();
    const out = await run(s, entry());
    expect(out.outcome).toBe('hedged');
    expect(out.residualBase).toBeCloseTo(0, 12);
    expect(out.legs[0].signedBase).toBeCloseTo(0.5, 12);
    expect(out.legs[1].signedBase).toBeCloseTo(-0.5, 12);
    expect(out.legs[0].averagePrice).toBe(60_010);
    expect(out.legs[1].slippageBps).toBeCloseTo(0, 9);
    expect(out.fees).toBeCloseTo(0.5 * 60_010 * 0.002 + 0.5 * 60_100 * 0.0005, 9);
    expect(out.orders.map((o) => o.order.clientOrderId)).toEqual(['Stest0011ea0', 'Stest0011eb0']);
    const p = position(s);
    expect(p.spot + p.perp).toBeCloseTo(0, 12);
  });

  it('a thin perp book fills partly; the missing quantity is retried once the book refreshes', async () => {
    const s = setup([], 5, 5);
    s.venue.onBookTicker(quote(PERP, 60_100, 60_101, 0.2, 5)); // only 0.2 bid for our sell
    const out = await run(s, entry(), (t) => {
      if (t === 1) s.venue.onBookTicker(quote(PERP, 60_099, 60_100, 5, 5));
    });
    expect(out.outcome).toBe('hedged');
    expect(out.topUps).toBe(1);
    expect(out.legs[1].signedBase).toBeCloseTo(-0.5, 12);
    expect(out.legs[1].averagePrice).toBeCloseTo((0.2 * 60_100 + 0.3 * 60_099) / 0.5, 9);
    const p = position(s);
    expect(p.spot + p.perp).toBeCloseTo(0, 12);
  });

  it('one leg rejected and retries rejected too: the filled leg is unwound, ending flat', async () => {
    const s = setup([
      { atRequest: 2, fault: 'reject' },
      { atRequest: 3, fault: 'reject' },
      { atRequest: 4, fault: 'reject' },
    ]);
    const out = await run(s, entry());
    expect(out.outcome).toBe('flat');
    expect(out.topUps).toBe(2);
    expect(out.unwinds).toBe(1);
    expect(out.residualBase).toBeCloseTo(0, 12);
    expect(out.errors.length).toBe(3);
    const p = position(s);
    expect(p.spot).toBeCloseTo(0, 12);
    expect(p.perp).toBeCloseTo(0, 12);
  });

  it('an answer lost after placement is resolved by client id, not treated as a reject', async () => {
    const s = setup([{ atRequest: 1, fault: 'timeoutAfterPlace' }]);
    const out = await run(s, entry());
    expect(out.outcome).toBe('hedged');
    expect(out.topUps).toBe(0);
    expect(s.venue.allOrders()).toHaveLength(2);
  });

  it('when nothing can correct the residual it says so: unhedged with the residual', async () => {
    const s = setup([{ atRequest: 2, fault: 'reject' }]);
    const input = { ...entry(), maxTopUps: 0, maxUnwinds: 0 };
    const out = await run(s, input);
    expect(out.outcome).toBe('unhedged');
    expect(out.residualBase).toBeCloseTo(0.5, 12);
  });
});
