import { describe, expect, it } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import { type OrderContext, orderMachine } from '../../machines/order.ts';
import {
  InvalidOrder,
  NetworkError,
  type Order,
  OrderNotFound,
  RateLimitExceeded,
  RequestTimeout,
} from '../../src/domain/index.ts';
import { coverage } from './coverage.ts';

const base: Order = {
  id: '1',
  clientOrderId: 'c1',
  symbol: 'BTC/USDT',
  side: 'buy',
  type: 'limit',
  timeInForce: 'GTC',
  price: 100,
  amount: 1,
  filled: 0,
  remaining: 1,
  cost: 0,
  status: 'open',
  fee: { cost: 0, currency: 'USDT' },
  trades: [],
  reduceOnly: false,
  timestamp: 0,
  lastUpdateTimestamp: 0,
};
const open = base;
const partial: Order = { ...base, filled: 0.4, remaining: 0.6, cost: 40 };
const closed: Order = { ...base, filled: 1, remaining: 0, cost: 100, status: 'closed' };
const canceled: Order = { ...partial, status: 'canceled' };
const expired: Order = { ...partial, status: 'expired' };
const rejected: Order = { ...base, status: 'rejected' };

const done = (id: string, output: unknown) => ({ type: `xstate.done.actor.${id}`, output });
const fail = (id: string, error: unknown) => ({ type: `xstate.error.actor.${id}`, error });

const alphabet = [
  ...[open, partial, closed, canceled, expired, rejected].map((o) => done('place', o)),
  fail('place', new RequestTimeout('t')),
  fail('place', new RateLimitExceeded('r', 10)),
  fail('place', new InvalidOrder('bad')),
  done('pause', undefined),
  done('query', closed),
  done('query', partial),
  done('query', null),
  fail('query', new NetworkError('n')),
  { type: 'ORDER.UPDATE', order: partial },
  { type: 'ORDER.UPDATE', order: closed },
  { type: 'ORDER.UPDATE', order: canceled },
  { type: 'ORDER.UPDATE', order: expired },
  { type: 'ORDER.UPDATE', order: rejected },
  { type: 'ORDER.UPDATE', order: open },
  { type: 'CANCEL' },
  done('cancel', canceled),
  done('cancel', open),
  fail('cancel', new OrderNotFound('gone')),
  fail('cancel', new NetworkError('n')),
];

function ctx(s: AnyMachineSnapshot): OrderContext {
  return s.context as OrderContext;
}

function invariant(s: AnyMachineSnapshot): void {
  const c = ctx(s);
  expect(c.submits).toBeLessThanOrEqual(c.maxSubmits);
  expect(c.queries).toBeLessThanOrEqual(c.maxQueries + 1);
  expect(c.cancels).toBeLessThanOrEqual(c.maxCancels);
  if (s.matches('filled')) expect(c.order?.status).toBe('closed');
  if (s.matches('canceled')) expect(c.order?.status).toBe('canceled');
  if (s.matches('expired')) expect(c.order?.status).toBe('expired');
  if (s.matches({ live: 'open' }) || s.matches({ live: 'partiallyFilled' }))
    expect(c.order?.status).toBe('open');
  if (s.matches({ live: 'partiallyFilled' })) expect(c.order!.filled).toBeGreaterThan(0);
  // Never "rejected" because of an unknown outcome or "not found" (a slow request may still land):
  // only the venue's refusal of a request it answered.
  if (s.matches('rejected'))
    expect(c.lastError?.outcomeUnknown !== true || c.order?.status === 'rejected').toBe(true);
  if (s.matches('rejected')) expect(c.order === undefined ? c.lastError !== undefined : true).toBe(true);
  // A resolving machine never sends.
  if (c.resolveOnly) expect(c.submits).toBe(0);
  if (s.status === 'done') expect(s.output).toMatchObject({ clientOrderId: 'c1' });
}

describe('order machine path coverage', () => {
  it('reaches every state and transition, asserting each state’s invariant on every path', () => {
    const input = {
      venue: 'sim',
      request: {
        symbol: 'BTC/USDT',
        side: 'buy' as const,
        type: 'limit' as const,
        price: 100,
        amount: 1,
        clientOrderId: 'c1',
      },
      maxSubmits: 2,
      maxQueries: 2,
      maxCancels: 2,
      // Three "not found" answers a grace apart: past the window a request could still land in.
      inFlightGraceMs: 2_000,
      landingWindowMs: 6_000,
    };
    const report = coverage(orderMachine, {
      input,
      // …and one asking about an order sent earlier whose outcome is unknown.
      inputs: [input, { ...input, resolveOnly: true }],
      events: () => alphabet as never,
      serializeState: (s) => {
        const c = ctx(s);
        return JSON.stringify([
          s.value,
          c.submits,
          c.queries,
          c.cancels,
          c.notFoundOnce,
          c.notFoundCount,
          c.cancelRequested,
          c.order?.status,
          c.order?.filled,
          c.resolveOnly ?? false,
        ]);
      },
      invariant,
    });
    expect(report.states.missing).toEqual([]);
    expect(report.transitions.missing).toEqual([]);
    expect(report.paths).toBeGreaterThan(50);
  });
});
