/**
 * The strategies' books against what the venues hold: a derivative leg against the venue's
 * position (one strategy per instrument: locks), the spot legs of a venue together against the
 * account's balance. Used at recovery (a lasting mismatch halts) and, every few seconds, on the
 * strategies at rest (a lasting mismatch moves the strategy to needs attention).
 */
import type { LegBook } from '../../machines/accounting.ts';
import type { Clock } from '../clock/clock.ts';
import type { Market, Position } from '../domain/index.ts';
import type { ExchangeClient } from '../exchange/port.ts';
import type { EngineLogger, StrategyHost } from './strategy-host.ts';

/** One leg's position as a check saw it at the venue. */
export interface AttentionLeg {
  venue: string;
  symbol: string;
  position: number;
}

/**
 * A derivative leg's books against the venue's position: undefined when they agree within half
 * an amount step, else the venue's size (base units) and the reason.
 */
export function derivativeMismatch(
  leg: LegBook,
  m: Market,
  positions: Position[],
): { venueSize: number; reason: string } | undefined {
  const venueSize = (positions[0]?.size ?? 0) * m.contractSize;
  if (Math.abs(venueSize - leg.position) <= (m.precision.amount * m.contractSize) / 2) return undefined;
  return {
    venueSize,
    reason: `${leg.venue} ${leg.symbol}: the venue holds ${venueSize}, the books ${leg.position}`,
  };
}

export interface PositionCheckDeps {
  hosts: () => Iterable<StrategyHost>;
  markets: Map<string, Market>;
  venues: Record<string, ExchangeClient>;
  clock: Clock;
  log: EngineLogger;
  /** How long a mismatch must last, in the same state, before it counts, ms. */
  settleMs: number;
}

/**
 * The running check. Strategies at rest only (in flight, books lag the venue by an answer): each
 * derivative leg's books against the venue's position, and per venue and spot asset, what the
 * strategies' books hold long against the account's balance (the account may hold more; it may
 * not hold less). A mismatch that lasts `settleMs` in the same state moves the strategy to
 * needs attention, with both numbers.
 */
export class RunningPositionCheck {
  private running = false;
  /** Mismatches seen: since when, in which state. */
  private readonly mismatches = new Map<string, { since: number; state: string }>();

  constructor(private readonly deps: PositionCheckDeps) {}

  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const { markets, venues, clock, log, settleMs } = this.deps;
    try {
      const found = new Map<
        string,
        { host: StrategyHost; state: string; reason: string; legs: AttentionLeg[] }
      >();
      const spotHeld = new Map<
        string,
        { venue: string; asset: string; books: number; hosts: StrategyHost[] }
      >();
      for (const host of this.deps.hosts()) {
        if (host.done || host.dropped) continue;
        const state = host.state;
        if (
          !host.kind.rest.includes(state) ||
          state === 'needsAttention' ||
          host.kind.terminal.includes(state)
        ) {
          this.mismatches.delete(host.id);
          continue;
        }
        for (const leg of host.kind.legs(host.context)) {
          const m = markets.get(`${leg.venue}|${leg.symbol}`);
          if (!m) continue;
          if (m.type === 'spot') {
            if (leg.position <= 0) continue;
            const key = `${leg.venue}|${m.base}`;
            const h = spotHeld.get(key) ?? { venue: leg.venue, asset: m.base, books: 0, hosts: [] };
            h.books += leg.position;
            h.hosts.push(host);
            spotHeld.set(key, h);
            continue;
          }
          const seen = derivativeMismatch(leg, m, await venues[leg.venue]!.fetchPositions([leg.symbol]));
          if (seen && !found.has(host.id))
            found.set(host.id, {
              host,
              state,
              reason: seen.reason,
              legs: [{ venue: leg.venue, symbol: leg.symbol, position: seen.venueSize }],
            });
        }
      }
      const balances = new Map<string, Awaited<ReturnType<ExchangeClient['fetchBalance']>>>();
      for (const h of spotHeld.values()) {
        if (!balances.has(h.venue)) balances.set(h.venue, await venues[h.venue]!.fetchBalance());
        const total = balances.get(h.venue)![h.asset]?.total ?? 0;
        if (total >= h.books - 1e-9) continue;
        for (const host of h.hosts)
          if (!found.has(host.id))
            found.set(host.id, {
              host,
              state: host.state,
              reason: `${h.venue} holds ${total} ${h.asset}, less than the ${h.books} the strategies' books hold`,
              legs: [{ venue: h.venue, symbol: `${h.asset} (balance)`, position: total }],
            });
      }
      const now = clock.now();
      for (const host of this.deps.hosts()) if (!found.has(host.id)) this.mismatches.delete(host.id);
      for (const f of found.values()) {
        const seen = this.mismatches.get(f.host.id);
        if (!seen || seen.state !== f.state) {
          this.mismatches.set(f.host.id, { since: now, state: f.state });
          continue;
        }
        if (now - seen.since < settleMs) continue;
        this.mismatches.delete(f.host.id);
        log.error({ strategy: f.host.id, reason: f.reason }, 'position mismatch: strategy needs attention');
        f.host.send({ type: 'ATTENTION', reason: `position check: ${f.reason}`, legs: f.legs });
      }
    } catch (e) {
      // A venue that cannot answer now is asked again at the next check.
      log.warn({ err: String(e) }, 'position check could not ask a venue');
    } finally {
      this.running = false;
    }
  }
}
