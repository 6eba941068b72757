import { describe, expect, it } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import { type HedgedPairInput, hedgedPairMachine, type LegSpec } from '../../machines/hedged-pair.ts';
import type { OrderOutput } from '../../machines/order.ts';
import type { Order, OrderRequest } from '../../src/domain/index.ts';
import { coverage } from './coverage.ts';
import { filledOrder } from './fixtures.ts';

const legA: LegSpec = {
  venue: 'a',
  symbol: 'BTC/USDT',
  contractSize: 1,
  amountStep: 0.1,
  minAmount: 0.1,
  minNotional: 1,
  derivative: false,
  startBase: 0,
  targetBase: 1,
  bid: 99,
  ask: 100,
  bidSize: 5,
  askSize: 5,
};
const legB: LegSpec = {
  ...legA,
  venue: 'b',
  symbol: 'BTC/USDT:USDT',
  derivative: true,
  targetBase: -1,
  bid: 101,
  ask: 102,
};

const base = {
  tag: 'p',
  cycle: 1,
  phase: 'e' as const,
  execution: 0,
  toleranceBase: 0.05,
  maxRounds: 2,
};

/** Entry (+1, −1); exit from books of different sizes (+0.6, −0.3); rebalance of the perp to −spot. */
const inputs: HedgedPairInput[] = [
  { ...base, mode: 'open', legs: [legA, legB] },
  {
    ...base,
    phase: 'x',
    mode: 'close',
    legs: [
      { ...legA, startBase: 0.6, targetBase: 0 },
      { ...legB, startBase: -0.3, targetBase: 0 },
    ],
  },
  {
    ...base,
    phase: 'r',
    mode: 'adjust',
    legs: [
      { ...legA, startBase: 1, targetBase: 1 },
      { ...legB, startBase: -0.75, targetBase: -1 },
    ],
  },
  // The perp's minimum order (0.5) is above the residual: the spot leg takes it instead.
  {
    ...base,
    phase: 'r',
    mode: 'adjust',
    legs: [
      { ...legA, startBase: 1, targetBase: 1 },
      { ...legB, startBase: -0.75, targetBase: -1, minAmount: 0.5 },
    ],
  },
];

function output(req: OrderRequest, fraction: number | 'lost'): OrderOutput {
  if (fraction === 'lost')
    return {
      clientOrderId: req.clientOrderId,
      venue: 'x',
      outcome: 'lost',
      error: { name: 'RequestTimeout', message: 'no answer', retryable: true, outcomeUnknown: true },
    };
  if (fraction === 0)
    return {
      clientOrderId: req.clientOrderId,
      venue: 'x',
      outcome: 'rejected',
      error: { name: 'InvalidOrder', message: 'no', retryable: false, outcomeUnknown: false },
    };
  const filled = Math.round(req.amount * fraction * 10) / 10;
  const price = req.side === 'buy' ? 100 : 101;
  const order: Order = {
    id: `${req.clientOrderId}-${filled}`,
    clientOrderId: req.clientOrderId,
    symbol: req.symbol,
    side: req.side,
    type: 'market',
    timeInForce: 'IOC',
    amount: req.amount,
    filled,
    remaining: req.amount - filled,
    cost: filled * price,
    average: price,
    status: filled < req.amount ? 'canceled' : 'closed',
    fee: { cost: filled * price * 0.001, currency: 'USDT' },
    // Every fill of `filled` (the port's contract): the pair tallies fills, as the books do.
    trades: [
      {
        id: `${req.clientOrderId}-t`,
        orderId: `${req.clientOrderId}-${filled}`,
        clientOrderId: req.clientOrderId,
        symbol: req.symbol,
        side: req.side,
        price,
        amount: filled,
        cost: filled * price,
        fee: { cost: filled * price * 0.001, currency: 'USDT' },
        takerOrMaker: 'taker',
        timestamp: 0,
      },
    ],
    reduceOnly: req.reduceOnly ?? false,
    timestamp: 0,
    lastUpdateTimestamp: 0,
  };
  return { clientOrderId: req.clientOrderId, venue: 'x', outcome: filled > 0 ? 'filled' : 'canceled', order };
}

type LegCtx = {
  spec: LegSpec;
  target: number;
  position: number;
  touch: { bidSize: number; askSize: number };
};
type Ctx = {
  input: HedgedPairInput;
  legs: [LegCtx, LegCtx];
  plan: [OrderRequest | undefined, OrderRequest | undefined];
  unknown: unknown[];
  rounds: number;
  shrunk: boolean;
};

const ctx = (s: AnyMachineSnapshot) => s.context as Ctx;
const net = (c: Ctx) => c.legs[0].position + c.legs[1].position;

function events(s: AnyMachineSnapshot) {
  const c = ctx(s);
  const ev: { type: string; output?: unknown; [k: string]: unknown }[] = [
    { type: 'xstate.done.actor.pause' },
  ];
  c.plan.forEach((req, i) => {
    if (!req) return;
    for (const f of [1, 0.5, 0, 'lost'] as const)
      ev.push({ type: `xstate.done.actor.${i === 0 ? 'legA' : 'legB'}`, output: output(req, f) });
  });
  // The perp's book thins to 0.3 and comes back: the next round is sized to what it shows. (Offered
  // between rounds, so the invariant can compare each round's orders with the touch they were sized to.)
  const q = (size: number) => ({
    type: 'QUOTE',
    venue: 'b',
    symbol: legB.symbol,
    bid: 101,
    ask: 102,
    bidSize: size,
    askSize: size,
    timestamp: 0,
    receivedAt: 0,
  });
  if (!s.matches('sending') && c.legs[1].touch.bidSize !== 5) ev.push({ type: 'QUOTES', quotes: [q(5)] });
  // The venue liquidates the perp between rounds: the pair plans from what the venue left.
  const perp = c.legs[1].position;
  if (s.status === 'active' && c.rounds === 1 && !s.matches('sending') && Math.abs(perp) > 1e-9) {
    const close = filledOrder(legB.symbol, perp < 0 ? 'buy' : 'sell', Math.abs(perp), 101.5, 'liq');
    ev.push({
      type: 'ATTENTION',
      reason: 'b closed the perp itself (liquidation)',
      legs: [{ venue: 'b', symbol: legB.symbol, position: 0 }],
      closed: { venue: 'b', fill: close.trades[0] },
    });
  }
  for (const size of [0.3, 5])
    if (c.legs[1].touch.bidSize !== size && !s.matches('sending'))
      ev.push({
        type: 'QUOTE',
        venue: 'b',
        symbol: legB.symbol,
        bid: 101,
        ask: 102,
        bidSize: size,
        askSize: size,
        timestamp: 0,
        receivedAt: 0,
      });
  return ev;
}

function invariant(s: AnyMachineSnapshot): void {
  const c = ctx(s);
  const tol = 0.1; // max(0.05, the smallest tradable size 0.1)
  c.plan.forEach((req, i) => {
    // Each planned order against the leg as it was planned: while its order is out.
    if (!req || !s.matches({ sending: { [i === 0 ? 'legA' : 'legB']: 'working' } })) return;
    const l = c.legs[i as 0 | 1];
    const shown = req.side === 'buy' ? l.touch.askSize : l.touch.bidSize;
    expect(req.amount).toBeLessThanOrEqual(shown + 1e-9); // never more than the touch shows
    const reduces = req.side === 'buy' ? l.position < 0 : l.position > 0;
    if (l.spec.derivative && reduces) expect(req.reduceOnly).toBe(true);
    if (c.input.mode === 'close') {
      // An exit only ever reduces a leg, never past flat: it cannot re-open one.
      expect(reduces).toBe(true);
      expect(req.amount).toBeLessThanOrEqual(Math.abs(l.position) + 1e-9);
    }
  });
  if (c.plan[0] && c.plan[1]) expect(c.plan[0].amount).toBeCloseTo(c.plan[1].amount, 12); // paired: same base
  if (s.matches('unresolved')) expect(c.unknown.length).toBeGreaterThan(0);
  // Once an order's fill is unknown nothing new is planned: the round in flight ends, then it stops.
  if (c.unknown.length > 0)
    expect(s.matches('sending') || s.matches('checkingRound') || s.matches('unresolved')).toBe(true);
  if (s.status === 'done') {
    const out = s.output as { outcome: string; residualBase: number; unknown: unknown[] };
    expect(out.residualBase).toBeCloseTo(net(c), 12);
    if (out.outcome === 'unhedged') expect(Math.abs(out.residualBase)).toBeGreaterThan(tol);
    else if (out.outcome === 'unresolved') expect(out.unknown.length).toBeGreaterThan(0);
    else expect(Math.abs(out.residualBase)).toBeLessThanOrEqual(tol + 1e-9);
    if (c.input.mode === 'close' && out.outcome === 'flat')
      for (const l of c.legs) expect(Math.abs(l.position)).toBeLessThan(0.1);
  }
}

describe('hedged pair path coverage', () => {
  it('reaches every state and transition; no path ends naked without saying so', () => {
    const report = coverage(hedgedPairMachine, {
      input: inputs[0],
      inputs,
      events: events as never,
      serializeState: (s) => {
        const c = ctx(s);
        return JSON.stringify([
          s.value,
          c.input.mode,
          c.rounds,
          c.shrunk,
          c.unknown.length,
          c.legs.map((l) => [Number(l.position.toFixed(6)), Number(l.target.toFixed(6)), l.touch.bidSize]),
          c.plan.map((p) => p?.amount ?? null),
        ]);
      },
      invariant,
    });
    expect(report.states.missing).toEqual([]);
    expect(report.transitions.missing).toEqual([]);
  });
});
