import { type AnyStateMachine, createActor } from 'xstate';
import type { SpotFuturesParams } from '../../machines/strategies/spot-futures/machine.ts';
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

/** A basis strategy on venue `sim`'s BTC spot and perp: one cycle, long spot, 10 bps to enter. */
export function spotFuturesParams(over: Partial<SpotFuturesParams> = {}): SpotFuturesParams {
  return {
    spot: { venue: 'sim', symbol: 'BTC/USDT' },
    perp: { venue: 'sim', symbol: 'BTC/USDT:USDT' },
    amount: 0.5,
    direction: 'long-spot',
    minEntryBasisBps: 10,
    exitBasisBps: 2,
    maxEntryCostPct: 1,
    slippageBps: 0,
    maxHoldingHours: 24,
    maxAdverseFundingHours: 8,
    deltaToleranceBase: 0.001,
    staleAfterMs: 5_000,
    maxPositionNotional: 1_000_000,
    maxCycles: 1,
    cooldownMs: 1_000,
    ...over,
  };
}

/** Quote venue `sim`'s BTC spot (±0.5) and perp (±0.05) around the two mids, `size` shown on each side. */
export function feedBasis(
  w: { sims: Record<string, SimVenue>; clock: { now(): number } },
  spot: number,
  perp: number,
  size = 5,
): void {
  const t = w.clock.now();
  const sim = w.sims.sim!;
  sim.onBookTicker({
    symbol: 'BTC/USDT',
    bid: spot - 0.5,
    ask: spot + 0.5,
    bidSize: size,
    askSize: size,
    timestamp: t,
  });
  sim.onBookTicker({
    symbol: 'BTC/USDT:USDT',
    bid: perp - 0.05,
    ask: perp + 0.05,
    bidSize: size,
    askSize: size,
    timestamp: t,
  });
}
