import { describe, expect, it } from 'vitest';
import { type AnyMachineSnapshot, initialTransition, transition } from 'xstate';
import {
  type CrossArbitrageContext,
  type CrossArbitrageParams,
  crossArbitrageMachine,
} from '../../machines/strategies/cross-arbitrage/machine.ts';
import { coverage } from './coverage.ts';
import { filledOrder, markets, needsAttentionEvents, orderOutput, pairOutput, quote } from './fixtures.ts';

const SPOT = 'BTC/USDT';
const T0 = 1_000_000;

const params: CrossArbitrageParams = {
  venueA: { venue: 'sim', symbol: SPOT },
  venueB: { venue: 'bybit', symbol: SPOT },
  minProfitBps: 5,
  slippageBps: 0,
  maxNotional: 1e6,
  maxBalanceFraction: 1,
  staleAfterMs: 5_000,
  maxExecutions: 2,
  cooldownMs: 100,
  toleranceBase: 0.001,
};

const balances = { USDT: { free: 1e6, used: 0, total: 1e6 }, BTC: { free: 10, used: 0, total: 10 } };
const ctx = (s: AnyMachineSnapshot) => s.context as CrossArbitrageContext;

function events(s: AnyMachineSnapshot) {
  const c = ctx(s);
  const t = c.now || T0;
  const buyA = c.opportunity?.buy !== 'B';
  const legs = (qa: number, qb: number) =>
    (buyA
      ? [
          { symbol: SPOT, side: 'buy', amount: qa, price: 60_000 },
          { symbol: SPOT, side: 'sell', amount: qb, price: 60_300 },
        ]
      : [
          { symbol: SPOT, side: 'sell', amount: qa, price: 60_300 },
          { symbol: SPOT, side: 'buy', amount: qb, price: 60_000 },
        ]) as [never, never];
  const a = c.legs.A.position;
  const b = c.legs.B.position;
  const rebalance = (q: number) =>
    pairOutput(q > 0 ? 'reached' : 'unhedged', [
      { symbol: SPOT, side: 'buy', amount: 0, price: 60_000 },
      { symbol: SPOT, side: a + b > 0 ? 'sell' : 'buy', amount: q, price: 60_000 },
    ]);
  // Needs attention is explored in its own pass (the input with maxExecutions 3), from plain paths.
  if (s.matches('needsAttention'))
    return [
      quote('bybit', SPOT, 60_000, t),
      ...needsAttentionEvents({
        stopRequested: c.stopRequested !== undefined,
        resolvedFill: filledOrder(SPOT, 'sell', 0.5, 60_300, 'Slost'),
        flattened: rebalance(Number(Math.abs(a + b).toFixed(6))),
        notFlattened: rebalance(0),
      }),
    ];
  // After a flatten it trades on as before (those paths are explored above): only its way back
  // to trading, and a stop, are explored from there.
  if ((c.flattens ?? 0) > 0)
    return [
      { type: 'xstate.done.actor.pause' },
      ...(c.stopRequested ? [] : [{ type: 'STOP', flatten: false }]),
    ];
  if (c.params.maxExecutions === 3)
    return [
      quote('sim', SPOT, 60_000, t),
      quote('bybit', SPOT, 60_300, t),
      { type: 'FEED.DOWN', venue: 'bybit', symbol: SPOT, at: t },
      { type: 'FEED.UP', venue: 'bybit', symbol: SPOT, at: t },
      { type: 'xstate.done.actor.balanceA', output: balances },
      { type: 'xstate.done.actor.balanceB', output: balances },
      { type: 'xstate.error.actor.balanceA', error: new Error('down') },
      { type: 'xstate.done.actor.pause' },
      { type: 'xstate.done.actor.execution', output: pairOutput('hedged', legs(0.5, 0.45)) }, // a residual it missed
      { type: 'xstate.done.actor.execution', output: pairOutput('unhedged', legs(0.5, 0)) },
      { type: 'xstate.done.actor.execution', output: pairOutput('unresolved', legs(0.5, 0)) },
      { type: 'xstate.done.actor.execution', output: pairOutput('unresolved', legs(0, 0)) },
      ...(c.stopRequested ? [] : [{ type: 'STOP', flatten: false }]),
      ...(s.matches('detecting') || s.matches('cooldown')
        ? [
            {
              type: 'ATTENTION',
              reason: 'venue B holds less than the books',
              legs: [{ venue: 'bybit', symbol: SPOT, position: -1 }],
            },
          ]
        : []),
      // The venue closes a position mid-execution: noted, named when the execution ends.
      ...(s.matches('executing')
        ? [
            {
              type: 'ATTENTION',
              reason: 'bybit closed -1 SPOT itself (liquidation) at 70000',
              legs: [{ venue: 'bybit', symbol: SPOT, position: 0 }],
            },
          ]
        : []),
    ];
  return [
    quote('sim', SPOT, 60_000, t),
    quote('bybit', SPOT, 60_000, t),
    quote('bybit', SPOT, 60_300, t), // B rich: buy A, sell B
    quote('sim', SPOT, 60_300, t), // A rich (with B at 60 000): buy B, sell A
    { type: 'TIME.TICK', now: T0 + 10_000 },
    { type: 'FEED.DOWN', venue: 'bybit', symbol: SPOT, at: t },
    { type: 'FEED.UP', venue: 'bybit', symbol: SPOT, at: t },
    { type: 'xstate.done.actor.balanceA', output: balances },
    { type: 'xstate.done.actor.balanceB', output: balances },
    { type: 'xstate.error.actor.balanceA', error: new Error('down') },
    { type: 'xstate.error.actor.balanceB', error: new Error('down') },
    { type: 'xstate.done.actor.execution', output: pairOutput('reached', legs(0.5, 0.5)) },
    { type: 'xstate.done.actor.execution', output: pairOutput('nothingFilled', legs(0, 0)) },
    { type: 'xstate.done.actor.pause' },
    ...(c.stopRequested || c.paused || c.riskBlocked
      ? []
      : [{ type: 'STOP', flatten: false }, { type: 'PAUSE' }, { type: 'RISK.BREACH', reason: 'r' }]),
    ...(c.paused ? [{ type: 'RESUME' }] : []),
    ...(c.riskBlocked ? [{ type: 'RISK.CLEAR' }] : []),
  ];
}

function invariant(s: AnyMachineSnapshot, stable: boolean): void {
  const c = ctx(s);
  const imbalance = Math.abs(c.legs.A.position + c.legs.B.position);
  if (
    stable &&
    c.params.maxExecutions !== 3 &&
    (s.matches('detecting') || s.matches('cooldown') || s.matches('completed'))
  )
    expect(imbalance).toBeLessThanOrEqual(c.params.toleranceBase); // only ever balanced inventory outside recovery
  if (s.matches('executing')) expect(c.opportunity?.amountBase).toBeGreaterThan(0);
  if (s.matches('needsAttention')) {
    expect(c.attention?.reason).toBeTruthy();
    expect(c.attention?.legs.length).toBeGreaterThan(0);
  }
  // Never stopped with inventory off balance quietly: an operator's resolve says so, or the stop
  // names what each venue holds and the net (a residual below the smallest tradable size).
  if (s.matches('stopped') && imbalance > c.params.toleranceBase) {
    expect(c.lastError?.name).toMatch(/^(ResolvedByOperator|InventoryMovedBetweenVenues)$/);
    if (c.lastError?.name === 'InventoryMovedBetweenVenues')
      expect(c.lastError.message).toMatch(/\(net [-+]?\d/);
  }
}

describe('cross-exchange arbitrage path coverage', () => {
  it('reaches every state and transition; recovering is reachable from each operational state', () => {
    const input = { id: 'xa', params, markets: { A: markets.spot, B: markets.spotB } };
    const report = coverage(crossArbitrageMachine, {
      input,
      inputs: [input, { ...input, params: { ...params, maxExecutions: 3 } }],
      events: events as never,
      serializeState: (s) => {
        const c = ctx(s);
        return JSON.stringify([
          s.value,
          Math.round(c.legs.A.position * 100),
          Math.round(c.legs.B.position * 100),
          c.quotes.A ? Math.round(c.quotes.A.bid) : 0,
          c.quotes.B ? Math.round(c.quotes.B.bid) : 0,
          c.balances.A ? 1 : 0,
          c.balances.B ? 1 : 0,
          c.feedDown.length,
          Math.floor(((c.now || T0) - T0) / 10_000),
          c.stopRequested ? 1 : 0,
          c.paused,
          c.riskBlocked ?? null,
          c.executions,
          c.opportunity?.buy ?? null,
          c.attention !== undefined,
          c.attention?.unknownOrders.length ?? 0,
        ]);
      },
      invariant,
    });
    expect(report.states.missing).toEqual([]);
    expect(report.transitions.missing).toEqual([]);
  });
});

/** One path, event by event, on the machine's pure transition function. */
function walk(events: unknown[], maxExecutions = 3): AnyMachineSnapshot {
  const input = {
    id: 'xa',
    params: { ...params, maxExecutions },
    markets: { A: markets.spot, B: markets.spotB },
  };
  let [s] = initialTransition(crossArbitrageMachine, input as never) as unknown as [AnyMachineSnapshot];
  for (const e of events)
    [s] = transition(crossArbitrageMachine, s as never, e as never) as unknown as [AnyMachineSnapshot];
  return s;
}

/** Balances loaded, B rich, one execution that left 0.05 BTC of inventory off: the books are not hedged. */
const OFF_AFTER_EXECUTION = [
  { type: 'xstate.done.actor.balanceA', output: balances },
  { type: 'xstate.done.actor.balanceB', output: balances },
  quote('sim', SPOT, 60_000, T0),
  quote('bybit', SPOT, 60_300, T0),
  {
    type: 'xstate.done.actor.execution',
    output: pairOutput('hedged', [
      { symbol: SPOT, side: 'buy', amount: 0.5, price: 60_000 },
      { symbol: SPOT, side: 'sell', amount: 0.45, price: 60_300 },
    ]),
  },
];

describe('cross-exchange arbitrage: a stop never ends it with inventory off', () => {
  it('a kill switch with flatten after an execution left the books off flattens them (the shared control block honours a breach that asks to flatten), then stops balanced', () => {
    let s = walk(OFF_AFTER_EXECUTION);
    expect(s.value).toBe('settling');
    // The engine's kill switch: RISK.BREACH asking to flatten, then STOP with flatten.
    s = walk([
      ...OFF_AFTER_EXECUTION,
      { type: 'RISK.BREACH', reason: 'kill switch: operator', flatten: true },
    ]);
    expect(s.matches('needsAttention')).toBe(true);
    expect(ctx(s).attention?.reason).toMatch(/^inventory is off by 0\.0(5|49+)/);
    s = walk([
      ...OFF_AFTER_EXECUTION,
      { type: 'RISK.BREACH', reason: 'kill switch: operator', flatten: true },
      { type: 'STOP', flatten: true },
    ]);
    expect(s.matches({ needsAttention: 'flattening' })).toBe(true);
    s = walk([
      ...OFF_AFTER_EXECUTION,
      { type: 'RISK.BREACH', reason: 'kill switch: operator', flatten: true },
      { type: 'STOP', flatten: true },
      {
        type: 'xstate.done.actor.flatten',
        output: pairOutput('reached', [
          { symbol: SPOT, side: 'buy', amount: 0, price: 60_000 },
          { symbol: SPOT, side: 'sell', amount: 0.05, price: 60_000 },
        ]),
      },
    ]);
    expect(s.value).toBe('stopped');
    expect(Math.abs(ctx(s).legs.A.position + ctx(s).legs.B.position)).toBeLessThanOrEqual(
      params.toleranceBase,
    );
  });

  it('a stop without flatten after an execution left the books off keeps the locks and says so (needs attention), never stopped', () => {
    const s = walk([...OFF_AFTER_EXECUTION, { type: 'STOP', flatten: false }]);
    expect(s.matches('needsAttention')).toBe(true);
    expect(s.status).toBe('active');
  });

  it('the last execution leaving the books off does not complete it: it needs attention, locks kept', () => {
    const s = walk(OFF_AFTER_EXECUTION, 1);
    expect(s.matches('needsAttention')).toBe(true);
    expect(ctx(s).attention?.reason).toMatch(/^inventory is off by 0\.0(5|49+) base after the execution/);
  });

  it('a kill switch with flatten that arrives while an execution runs is carried out once the execution leaves exposure', () => {
    const executing = OFF_AFTER_EXECUTION.slice(0, 4);
    expect(walk(executing).value).toBe('executing');
    const kill = [
      { type: 'RISK.BREACH', reason: 'kill switch: operator', flatten: true },
      { type: 'STOP', flatten: true },
    ];
    const unhedged = {
      type: 'xstate.done.actor.execution',
      output: pairOutput('unhedged', [
        { symbol: SPOT, side: 'buy', amount: 0.5, price: 60_000 },
        { symbol: SPOT, side: 'sell', amount: 0, price: 60_300 },
      ]),
    };
    let s = walk([...executing, ...kill, unhedged]);
    // The stop's flatten, asked before the execution ended, is not left for an operator.
    expect(s.matches({ needsAttention: 'flattening' })).toBe(true);
    // Carried out once: a flatten that fails waits for the operator, it is not retried in a loop.
    s = walk([
      ...executing,
      ...kill,
      unhedged,
      {
        type: 'xstate.done.actor.flatten',
        output: pairOutput('unhedged', [
          { symbol: SPOT, side: 'buy', amount: 0, price: 60_000 },
          { symbol: SPOT, side: 'sell', amount: 0, price: 60_000 },
        ]),
      },
    ]);
    expect(s.matches({ needsAttention: 'waitingForOperator' })).toBe(true);
  });

  it('an order re-asked about whose fills still do not cover what it filled stays unknown', () => {
    const executing = OFF_AFTER_EXECUTION.slice(0, 4);
    const unresolved = {
      type: 'xstate.done.actor.execution',
      output: pairOutput('unresolved', [
        { symbol: SPOT, side: 'buy', amount: 0.5, price: 60_000 },
        { symbol: SPOT, side: 'sell', amount: 0, price: 60_300 },
      ]),
    };
    expect(walk([...executing, unresolved]).matches({ needsAttention: 'resolvingOrders' })).toBe(true);
    const answer = filledOrder(SPOT, 'sell', 0.5, 60_300, 'Slost');
    const s = walk([
      ...executing,
      unresolved,
      // Filled 0.5, one fill of 0.2 shown: 0.3 the books cannot see.
      {
        type: 'xstate.done.actor.resolve',
        output: orderOutput(
          { ...answer, trades: [{ ...answer.trades[0]!, amount: 0.2, cost: 0.2 * 60_300 }] },
          'filled',
        ),
      },
    ]);
    expect(s.matches({ needsAttention: 'waitingForVenue' })).toBe(true);
    expect(ctx(s).attention?.unknownOrders.map((u) => u.clientOrderId)).toEqual(['Slost']);
  });
});
