/**
 * The order machine meeting a lost placement answer against a venue's fake: a market sell whose
 * answer the fake never sends, resolved by client id (never re-sent) through the real actors.
 */
import { createActor, waitFor } from 'xstate';
import { type OrderOutput, orderMachine } from '../../machines/order.ts';
import { createExchangeActors, InMemoryIntentJournal } from '../../src/actors/exchange-actors.ts';
import type { Clock } from '../../src/clock/clock.ts';
import type { ExchangeClient } from '../../src/exchange/port.ts';
import type { FakeExchange } from '../support/fake-exchange/kit.ts';

export async function sellWithLostAnswer(o: {
  venue: string;
  client: ExchangeClient;
  fake: FakeExchange;
  clock: Clock;
  symbol: string;
  amount: number;
  clientOrderId: string;
}): Promise<OrderOutput> {
  const journal = new InMemoryIntentJournal(() => o.clock.now());
  const exchange = createExchangeActors({
    venues: { [o.venue]: o.client },
    clock: o.clock,
    journal,
    orderPollMs: 200,
  });
  try {
    o.fake.faults.timeoutAfterPlace = 1;
    const actor = createActor(orderMachine.provide({ actors: exchange.actors }), {
      input: {
        venue: o.venue,
        request: {
          symbol: o.symbol,
          side: 'sell',
          type: 'market',
          amount: o.amount,
          clientOrderId: o.clientOrderId,
        },
        retryDelayMs: 100,
        inFlightGraceMs: 300,
      },
    }).start();
    const done = await waitFor(actor, (s) => s.status === 'done', { timeout: 20_000 });
    return done.output as OrderOutput;
  } finally {
    exchange.dispose();
  }
}
