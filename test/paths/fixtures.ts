import type { HedgedPairOutput } from '../../machines/hedged-pair.ts';
import type { OrderOutput } from '../../machines/order.ts';
import type { Order, Side } from '../../src/domain/index.ts';
import { simMarket } from '../../src/exchange/sim/markets.ts';

let seq = 0;

/** A filled venue order with one trade (unique fill id, so accounting applies it once). */
export function filledOrder(
  symbol: string,
  side: Side,
  amount: number,
  price: number,
  clientOrderId?: string,
): Order {
  // The same venue order always carries the same fill id, so a repeated update is deduplicated.
  const id = clientOrderId ? `f-${clientOrderId}` : `f${seq++}`;
  clientOrderId ??= `c${id}`;
  const cost = amount * price;
  return {
    id,
    clientOrderId,
    symbol,
    side,
    type: 'market',
    timeInForce: 'IOC',
    amount,
    filled: amount,
    remaining: 0,
    cost,
    average: price,
    status: 'closed',
    fee: { cost: cost * 0.0005, currency: 'USDT' },
    trades: [
      {
        id,
        orderId: id,
        clientOrderId,
        symbol,
        side,
        price,
        amount,
        cost,
        fee: { cost: cost * 0.0005, currency: 'USDT' },
        takerOrMaker: 'taker',
        timestamp: 0,
      },
    ],
    reduceOnly: false,
    timestamp: 0,
    lastUpdateTimestamp: 0,
  };
}

export function pairOutput(
  outcome: HedgedPairOutput['outcome'],
  legs: [
    { symbol: string; side: Side; amount: number; price: number },
    { symbol: string; side: Side; amount: number; price: number },
  ],
): HedgedPairOutput {
  const orders = legs.flatMap((l, i) =>
    l.amount > 0 ? [{ leg: i as 0 | 1, order: filledOrder(l.symbol, l.side, l.amount, l.price) }] : [],
  );
  const signed = legs.map((l) => (l.side === 'buy' ? l.amount : -l.amount));
  const leg = (i: number) => ({
    signedBase: signed[i]!,
    positionBase: signed[i]!,
    cost: legs[i]!.amount * legs[i]!.price,
    fees: 0,
    averagePrice: legs[i]!.price,
  });
  const unknown =
    outcome === 'unresolved'
      ? [
          {
            leg: 1 as const,
            venue: 'sim',
            symbol: legs[1].symbol,
            clientOrderId: 'Slost',
            request: {
              symbol: legs[1].symbol,
              side: legs[1].side,
              type: 'market' as const,
              amount: 1,
              clientOrderId: 'Slost',
            },
          },
        ]
      : [];
  return {
    outcome,
    legs: [leg(0), leg(1)],
    residualBase: signed[0]! + signed[1]!,
    toleranceBase: 0.01,
    fees: 0,
    orders,
    unknown,
    rounds: 1,
    errors: outcome === 'unhedged' || outcome === 'unresolved' ? ['legB: InvalidOrder: refused'] : [],
  };
}

export function orderOutput(o: Order | undefined, outcome: OrderOutput['outcome']): OrderOutput {
  return { clientOrderId: o?.clientOrderId ?? 'x', venue: 'sim', outcome, ...(o ? { order: o } : {}) };
}

export const markets = {
  spot: simMarket('sim', 'BTC/USDT', { taker: 0.0005, maker: 0.0002 }),
  perp: simMarket('sim', 'BTC/USDT:USDT', { taker: 0.0005, maker: 0.0002 }),
  perpB: simMarket('bybit', 'BTC/USDT:USDT', { taker: 0.0005, maker: 0.0002 }),
  spotB: simMarket('bybit', 'BTC/USDT', { taker: 0.0005, maker: 0.0002 }),
};

export const quote = (venue: string, symbol: string, mid: number, t: number, half = 0.5) => ({
  type: 'QUOTE' as const,
  venue,
  symbol,
  bid: mid - half,
  ask: mid + half,
  bidSize: 1,
  askSize: 1,
  timestamp: t,
  receivedAt: t,
});

/**
 * What a strategy in needs attention is explored with (the same for every hedging kind): the
 * operator's commands, a stop with and without flatten (unless one is pending), the venue's answer
 * for an unknown order (filled, still unknown, never filled), and a flatten that closes or not.
 */
export function needsAttentionEvents(o: {
  stopRequested: boolean;
  resolvedFill: Order;
  flattened: HedgedPairOutput;
  notFlattened: HedgedPairOutput;
}) {
  return [
    { type: 'xstate.done.actor.pause' },
    { type: 'OPERATOR.FLATTEN' },
    { type: 'OPERATOR.RESOLVE' },
    ...(o.stopRequested
      ? []
      : [
          { type: 'STOP', flatten: true },
          { type: 'STOP', flatten: false },
        ]),
    { type: 'xstate.done.actor.resolve', output: orderOutput(o.resolvedFill, 'filled') },
    { type: 'xstate.done.actor.resolve', output: orderOutput(undefined, 'lost') },
    { type: 'xstate.done.actor.resolve', output: orderOutput(undefined, 'canceled') },
    { type: 'xstate.done.actor.flatten', output: o.flattened },
    { type: 'xstate.done.actor.flatten', output: o.notFlattened },
  ];
}
