/**
 * Placeholder actor logic with the contracts' types. Machines are defined against these; the
 * engine (or a test) replaces every one through `machine.provide({ actors })`. Calling one that
 * was not provided fails loudly instead of doing nothing.
 */
import { fromCallback, fromPromise } from 'xstate';
import type { Balances, Order } from '../src/domain/index.ts';
import type {
  CancelOrderInput,
  ClockTickInput,
  FetchBalanceInput,
  MarketEvent,
  OrderUpdateEvent,
  PlaceOrderInput,
  QueryOrderInput,
  WaitInput,
  WatchFundingInput,
  WatchOrderInput,
  WatchQuotesInput,
} from './contracts.ts';

function missing(name: string): never {
  throw new Error(`actor "${name}" was not provided; pass it with machine.provide({ actors })`);
}

export const actorContracts = {
  placeOrder: fromPromise<Order, PlaceOrderInput>(async () => missing('placeOrder')),
  cancelOrder: fromPromise<Order, CancelOrderInput>(async () => missing('cancelOrder')),
  queryOrder: fromPromise<Order | null, QueryOrderInput>(async () => missing('queryOrder')),
  watchOrder: fromCallback<{ type: 'noop' }, WatchOrderInput, OrderUpdateEvent>(() => missing('watchOrder')),
  watchQuotes: fromCallback<{ type: 'noop' }, WatchQuotesInput, MarketEvent>(() => missing('watchQuotes')),
  watchFunding: fromCallback<{ type: 'noop' }, WatchFundingInput, MarketEvent>(() => missing('watchFunding')),
  clockTick: fromCallback<{ type: 'noop' }, ClockTickInput, MarketEvent>(() => missing('clockTick')),
  wait: fromPromise<void, WaitInput>(async () => missing('wait')),
  fetchBalance: fromPromise<Balances, FetchBalanceInput>(async () => missing('fetchBalance')),
};

export type ActorContracts = typeof actorContracts;
