import { type AnyStateMachine, createActor } from 'xstate';
import { bindActors } from '../../src/actors/bind.ts';
import { createExchangeActors } from '../../src/actors/exchange-actors.ts';
import { VirtualClock } from '../../src/clock/clock.ts';
import type { Market } from '../../src/domain/index.ts';
import type { LiquidityModel } from '../../src/exchange/sim/book.ts';
import { SimExchangeClient } from '../../src/exchange/sim/client.ts';
import { type FaultConfig, FaultInjector } from '../../src/exchange/sim/faults.ts';
import { simMarket } from '../../src/exchange/sim/markets.ts';
import { SimVenue } from '../../src/exchange/sim/venue.ts';

export interface VenueSpec {
  name: string;
  symbols: string[];
  balances: Record<string, number>;
  /** Per symbol: fee rates and anything else of the preset market to change (feeCurrency …). */
  fees?: Partial<Record<string, Partial<Market>>>;
  /** Prices of fee assets the venue has no market for (BNB). */
  assetPrices?: Record<string, number>;
}

/** Simulated venues + clients + bound actors on one virtual clock: the strategies' test bench. */
export function makeWorld(
  venues: VenueSpec[],
  opts: {
    start?: number;
    faults?: FaultConfig;
    latencyMs?: number;
    /** 'refresh': a book that refills with every update (default: the venue's, persistent). */
    liquidity?: LiquidityModel;
    /** The venues' unified-account collateral haircuts (false: only the settle wallet counts). */
    collateralHaircuts?: Record<string, number> | false;
  } = {},
) {
  const clock = new VirtualClock(opts.start ?? Date.UTC(2026, 0, 1, 7, 0));
  const sims: Record<string, SimVenue> = {};
  const clients: Record<string, SimExchangeClient> = {};
  const markets: Record<string, Market> = {};
  for (const v of venues) {
    const ms = v.symbols.map((s) => simMarket(v.name, s, v.fees?.[s] ?? {}));
    for (const m of ms) markets[`${v.name}|${m.symbol}`] = m;
    sims[v.name] = new SimVenue({
      name: v.name,
      clock,
      markets: ms,
      balances: v.balances,
      ...(v.assetPrices ? { assetPrices: v.assetPrices } : {}),
      ...(opts.liquidity ? { liquidity: opts.liquidity } : {}),
      ...(opts.collateralHaircuts !== undefined ? { collateralHaircuts: opts.collateralHaircuts } : {}),
    });
    clients[v.name] = new SimExchangeClient(sims[v.name]!, {
      latency: { requestMs: opts.latencyMs ?? 5, streamMs: 1 },
      faults: new FaultInjector(opts.faults ?? {}),
      requestTimeoutMs: 1_000,
    });
  }
  const exchange = createExchangeActors({ venues: clients, clock, orderPollMs: 500, fundingPollMs: 60_000 });
  const actors = bindActors(exchange.actors);
  return {
    clock,
    sims,
    clients,
    markets,
    actors,
    market: (venue: string, symbol: string) => markets[`${venue}|${symbol}`]!,
    provide: <M extends AnyStateMachine>(m: M): M => m.provide({ actors }) as M,
    start: <M extends AnyStateMachine>(m: M, input: unknown) => {
      const a = createActor(m.provide({ actors }) as M, { input } as never);
      a.start();
      return a;
    },
    /** Value of what an account holds now, minus what it held at the start, both at today's marks. */
    pnlAtCurrentMarks(venue: string, initial: Record<string, number>): number {
      const v = sims[venue]!;
      let start = 0;
      for (const [asset, amt] of Object.entries(initial))
        start += asset === 'USDT' ? amt : amt * v.mark(`${asset}/USDT`);
      return v.equity('USDT') - start;
    },
  };
}
