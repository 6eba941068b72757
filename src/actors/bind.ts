/**
 * Give machines their concrete actors. Child machines (orders inside hedged pairs inside
 * strategies) must be provided too: XState resolves an invoked `src` from the parent's actor
 * map, so each level gets a child machine that already has its implementations.
 */
import { hedgedPairMachine } from '../../machines/hedged-pair.ts';
import { orderMachine } from '../../machines/order.ts';
import type { ExchangeActors } from './exchange-actors.ts';

export function bindActors(exchange: ExchangeActors) {
  const order = orderMachine.provide({ actors: exchange });
  const hedgedPair = hedgedPairMachine.provide({ actors: { ...exchange, order } });
  return { ...exchange, order, hedgedPair };
}

export type BoundActors = ReturnType<typeof bindActors>;
