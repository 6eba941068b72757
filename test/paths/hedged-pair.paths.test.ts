import { describe, expect, it } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import { type HedgedPairInput, hedgedPairMachine } from '../../machines/hedged-pair.ts';
import type { OrderOutput } from '../../machines/order.ts';
import type { Order, OrderRequest } from '../../src/domain/index.ts';
import { coverage } from './coverage.ts';

const input: HedgedPairInput = {
  tag: 'p',
  cycle: 1,
  phase: 'e',
  legs: [
    {
      venue: 'a',
      symbol: 'BTC/USDT',
      side: 'buy',
      amount: 1,
      contractSize: 1,
      amountStep: 0.1,
      minAmount: 0.1,
      minNotional: 1,
      refPrice: 100,
      derivative: false,
    },
    {
      venue: 'b',
      symbol: 'BTC/USDT:USDT',
      side: 'sell',
      amount: 1,
      contractSize: 1,
      amountStep: 0.1,
      minAmount: 0.1,
      minNotional: 1,
      refPrice: 101,
      derivative: true,
    },
  ],
  toleranceBase: 0.05,
  maxTopUps: 1,
  maxUnwinds: 1,
};

function output(req: Pick<OrderRequest, 'symbol' | 'side' | 'clientOrderId'>, filled: number): OrderOutput {
  if (filled === 0) {
    return {
      clientOrderId: req.clientOrderId,
      venue: 'x',
      outcome: 'rejected',
      error: { name: 'InvalidOrder', message: 'no', retryable: false, outcomeUnknown: false },
    };
  }
  const price = req.side === 'buy' ? 100 : 101;
  const order: Order = {
    id: `${req.clientOrderId}-${filled}`,
    clientOrderId: req.clientOrderId,
    symbol: req.symbol,
    side: req.side,
    type: 'market',
    timeInForce: 'IOC',
    amount: filled,
    filled,
    remaining: 0,
    cost: filled * price,
    average: price,
    status: 'closed',
    fee: { cost: filled * price * 0.001, currency: 'USDT' },
    trades: [],
    reduceOnly: false,
    timestamp: 0,
    lastUpdateTimestamp: 0,
  };
  return { clientOrderId: req.clientOrderId, venue: 'x', outcome: 'filled', order };
}

type Ctx = {
  legs: { signedBase: number; spec: { side: 'buy' | 'sell'; symbol: string } }[];
  pending?: { leg: 0 | 1; request: OrderRequest };
  topUps: number;
  unwinds: number;
};

const ctx = (s: AnyMachineSnapshot) => s.context as Ctx;
const net = (c: Ctx) => c.legs[0]!.signedBase + c.legs[1]!.signedBase;

function events(s: AnyMachineSnapshot) {
  const c = ctx(s);
  const legReq = (i: 0 | 1) => ({
    symbol: c.legs[i]!.spec.symbol,
    side: c.legs[i]!.spec.side,
    clientOrderId: `L${i}`,
  });
  const ev: { type: string; output?: unknown }[] = [{ type: 'xstate.done.actor.pause' }];
  for (const f of [1, 0.93, 0.5, 0]) {
    ev.push({ type: 'xstate.done.actor.legA', output: output(legReq(0), f) });
    ev.push({ type: 'xstate.done.actor.legB', output: output(legReq(1), f) });
  }
  if (c.pending) {
    for (const f of [c.pending.request.amount, 0]) {
      ev.push({ type: 'xstate.done.actor.topUp', output: output(c.pending.request, f) });
      ev.push({ type: 'xstate.done.actor.unwind', output: output(c.pending.request, f) });
    }
  }
  return ev;
}

function invariant(s: AnyMachineSnapshot): void {
  const c = ctx(s);
  expect(c.topUps).toBeLessThanOrEqual(1);
  expect(c.unwinds).toBeLessThanOrEqual(1);
  if (s.matches('hedged')) expect(Math.abs(net(c))).toBeLessThan(0.1 + 1e-9); // within tolerance or below one step
  if (s.matches('unhedged')) expect(Math.abs(net(c))).toBeGreaterThan(0.05);
  if (s.matches('toppingUp') || s.matches('pausingBeforeTopUp')) {
    const p = c.pending!;
    expect(p.request.side).toBe(c.legs[p.leg]!.spec.side); // a top-up adds to the lagging leg
    expect(Math.abs(c.legs[p.leg]!.signedBase)).toBeLessThan(Math.abs(c.legs[1 - p.leg]!.signedBase));
  }
  if (s.matches('unwinding') || s.matches('pausingBeforeUnwind')) {
    const p = c.pending!;
    expect(p.request.side).toBe(net(c) > 0 ? 'sell' : 'buy'); // an unwind always reduces the excess
    if (c.legs[p.leg]!.spec.symbol.includes(':')) expect(p.request.reduceOnly).toBe(true);
  }
  if (s.status === 'done') {
    const out = s.output as { outcome: string; residualBase: number };
    expect(out.residualBase).toBeCloseTo(net(c), 12);
    if (out.outcome === 'unhedged') expect(Math.abs(out.residualBase)).toBeGreaterThan(0.05);
    else expect(Math.abs(out.residualBase)).toBeLessThan(0.1 + 1e-9);
  }
}

describe('hedged pair path coverage', () => {
  it('reaches every state and transition; no path ends naked without saying so', () => {
    const flatA = {
      ...input,
      legs: [{ ...input.legs[0], amount: 0 }, input.legs[1]] as HedgedPairInput['legs'],
    };
    const flatB = {
      ...input,
      legs: [input.legs[0], { ...input.legs[1], amount: 0 }] as HedgedPairInput['legs'],
    };
    const report = coverage(hedgedPairMachine, {
      input,
      // An exit where one side is already flat sends nothing on that side.
      inputs: [input, flatA, flatB],
      events: events as never,
      serializeState: (s) => {
        const c = ctx(s);
        return JSON.stringify([
          s.value,
          c.topUps,
          c.unwinds,
          c.legs.map((l) => Number(l.signedBase.toFixed(6))),
          c.pending?.leg ?? null,
        ]);
      },
      invariant,
    });
    expect(report.states.missing).toEqual([]);
    expect(report.transitions.missing).toEqual([]);
  });
});
