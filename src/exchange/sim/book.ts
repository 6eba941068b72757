import type { BookTicker, OrderBook, PriceLevel, Side } from '../../domain/index.ts';

export interface BookFill {
  price: number;
  amount: number;
}

/**
 * What happens to the liquidity our takers consumed when the recorded book updates:
 * - 'persistent' (default): it stays consumed until that level's price or size actually
 *   changes; a size increase restores only the increase. A recorded book does not know we
 *   traded, so an update that repeats a level must not hand back what we took from it;
 * - 'refresh': every update restores the whole displayed size (the older, kinder model).
 */
export type LiquidityModel = 'persistent' | 'refresh';

/**
 * The simulator's view of one market's book: the last top of book (or L2 when the source has
 * depth), plus how much of each displayed level our own taker orders consumed, by price.
 * Without the consumption a second order would fill against liquidity the first one took.
 */
export class SimBook {
  bid = Number.NaN;
  bidSize = 0;
  ask = Number.NaN;
  askSize = 0;
  timestamp = 0;
  /** Best bid/size before the last update, for the queue model. */
  prevBid = Number.NaN;
  prevBidSize = 0;
  prevAsk = Number.NaN;
  prevAskSize = 0;
  private bidLevels: PriceLevel[] | undefined;
  private askLevels: PriceLevel[] | undefined;
  /** Consumed size per price level, per side of the book. */
  private bidTaken = new Map<number, number>();
  private askTaken = new Map<number, number>();

  constructor(
    readonly symbol: string,
    private readonly liquidity: LiquidityModel = 'persistent',
  ) {}

  hasQuote(): boolean {
    return this.bid > 0 && this.ask > 0;
  }

  mid(): number {
    return (this.bid + this.ask) / 2;
  }

  applyTicker(t: BookTicker): void {
    const before = this.levelsIfConsumed();
    this.rememberPrevious();
    this.bid = t.bid;
    this.bidSize = t.bidSize;
    this.ask = t.ask;
    this.askSize = t.askSize;
    this.timestamp = t.timestamp;
    this.bidLevels = undefined;
    this.askLevels = undefined;
    this.carryConsumption(before);
  }

  applyOrderBook(b: OrderBook): void {
    this.rememberPrevious();
    const bb = b.bids[0];
    const ba = b.asks[0];
    this.bid = bb ? bb[0] : Number.NaN;
    this.bidSize = bb ? bb[1] : 0;
    this.ask = ba ? ba[0] : Number.NaN;
    this.askSize = ba ? ba[1] : 0;
    this.timestamp = b.timestamp;
    const before = this.levelsIfConsumed();
    this.bidLevels = b.bids.map((l) => [l[0], l[1]] as PriceLevel);
    this.askLevels = b.asks.map((l) => [l[0], l[1]] as PriceLevel);
    this.carryConsumption(before);
  }

  /**
   * The levels as they were, only when something of them is consumed: the per-quote hot path of
   * every backtest allocates nothing while our takers have taken nothing since the last change.
   */
  private levelsIfConsumed(): { bids: PriceLevel[]; asks: PriceLevel[] } | undefined {
    if (this.bidTaken.size === 0 && this.askTaken.size === 0) return undefined;
    return { bids: this.levels('sell'), asks: this.levels('buy') };
  }

  /** After an update: what stays consumed at each level (see LiquidityModel). */
  private carryConsumption(before: { bids: PriceLevel[]; asks: PriceLevel[] } | undefined): void {
    if (!before) return;
    if (this.liquidity === 'refresh') {
      this.bidTaken.clear();
      this.askTaken.clear();
      return;
    }
    this.bidTaken = carried(this.bidTaken, before.bids, this.levels('sell'));
    this.askTaken = carried(this.askTaken, before.asks, this.levels('buy'));
  }

  ticker(): BookTicker {
    return {
      symbol: this.symbol,
      bid: this.bid,
      bidSize: this.bidSize,
      ask: this.ask,
      askSize: this.askSize,
      timestamp: this.timestamp,
    };
  }

  /**
   * Liquidity a taker on `side` can reach at prices no worse than `limit` (undefined = any):
   * a buy walks the asks, a sell walks the bids. With `consume` the taken size is removed
   * until the next book update.
   */
  take(side: Side, amount: number, limit: number | undefined, consume: boolean): BookFill[] {
    const levels = this.levels(side);
    const taken = side === 'buy' ? this.askTaken : this.bidTaken;
    const fills: BookFill[] = [];
    let left = amount;
    for (let i = 0; i < levels.length && left > 1e-12; i++) {
      const [price, size] = levels[i]!;
      if (!(price > 0)) break;
      if (limit !== undefined && (side === 'buy' ? price > limit : price < limit)) break;
      const avail = size - (taken.get(price) ?? 0);
      if (avail <= 1e-12) continue;
      const q = Math.min(avail, left);
      fills.push({ price, amount: q });
      left -= q;
      if (consume) taken.set(price, (taken.get(price) ?? 0) + q);
    }
    return fills;
  }

  /** Remove `amount` of displayed liquidity at prices through `limit` without producing fills (queue ahead). */
  consume(side: Side, amount: number, limit: number): number {
    let eaten = 0;
    for (const f of this.take(side, amount, limit, true)) eaten += f.amount;
    return eaten;
  }

  private levels(takerSide: Side): PriceLevel[] {
    if (takerSide === 'buy') return this.askLevels ?? [[this.ask, this.askSize]];
    return this.bidLevels ?? [[this.bid, this.bidSize]];
  }

  private rememberPrevious(): void {
    this.prevBid = this.bid;
    this.prevBidSize = this.bidSize;
    this.prevAsk = this.ask;
    this.prevAskSize = this.askSize;
  }
}

/**
 * Consumption that survives an update: a level at the same price whose size stayed or grew keeps
 * all of it (a growth restores only the increase); a level whose size fell or that is gone keeps none.
 */
function carried(taken: Map<number, number>, before: PriceLevel[], after: PriceLevel[]): Map<number, number> {
  if (taken.size === 0) return taken;
  const out = new Map<number, number>();
  const sizeBefore = new Map(before.map(([p, q]) => [p, q]));
  for (const [price, size] of after) {
    const t = taken.get(price);
    const was = sizeBefore.get(price);
    if (t === undefined || was === undefined || size < was) continue;
    // Grown: what it shows beyond what we took is the increase (and what we had left).
    out.set(price, t);
  }
  return out;
}
