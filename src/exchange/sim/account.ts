import type { Balances, Fee, Market, Position, Side } from '../../domain/index.ts';
import { roundToStep } from '../../domain/index.ts';

/** Internal per-symbol derivative position (one-way mode, cross margin). */
export interface PositionState {
  symbol: string;
  size: number;
  entryPrice: number;
  realizedPnl: number;
  /** Funding received (> 0) or paid (< 0) over the position's life. */
  funding: number;
  leverage: number;
}

export interface AccountLedger {
  /** Fees paid per currency (rebates are negative). */
  fees: Record<string, number>;
  /** Net funding received in the settle currency (> 0 received). */
  funding: number;
  /** Realized derivative PnL in the settle currency. */
  realizedPnl: number;
}

export interface AccountState {
  balances: Record<string, { total: number; used: number }>;
  positions: PositionState[];
  leverage: Record<string, number>;
  ledger: AccountLedger;
}

/**
 * Balances and positions of one simulated account. Spot and USDT-margined derivatives share
 * one wallet per currency (a unified account, as on Bybit UTA or OKX): the settle-currency
 * wallet is the derivatives' collateral, and what spot orders reserve is not available as margin.
 * Spot fees leave the wallet the market charges them in (`Market.feeCurrency`): the quote, the
 * asset received, or a third asset such as BNB.
 */
export class SimAccount {
  private readonly balances = new Map<string, { total: number; used: number }>();
  readonly positions = new Map<string, PositionState>();
  private readonly leverageBySymbol = new Map<string, number>();
  readonly ledger: AccountLedger = { fees: {}, funding: 0, realizedPnl: 0 };

  constructor(
    initial: Record<string, number> = {},
    private readonly defaultLeverage = 5,
  ) {
    for (const [asset, amount] of Object.entries(initial))
      this.balances.set(asset, { total: amount, used: 0 });
  }

  private entry(asset: string): { total: number; used: number } {
    let e = this.balances.get(asset);
    if (!e) {
      e = { total: 0, used: 0 };
      this.balances.set(asset, e);
    }
    return e;
  }

  total(asset: string): number {
    return this.balances.get(asset)?.total ?? 0;
  }

  free(asset: string): number {
    const e = this.balances.get(asset);
    return e ? e.total - e.used : 0;
  }

  reserve(asset: string, amount: number): void {
    this.entry(asset).used += amount;
  }

  release(asset: string, amount: number): void {
    const e = this.entry(asset);
    e.used -= amount;
    if (e.used < 1e-9) e.used = 0;
  }

  /** Deposit or withdraw (tests, paper-account funding). */
  adjust(asset: string, delta: number): void {
    this.entry(asset).total += delta;
  }

  leverage(symbol: string): number {
    return this.leverageBySymbol.get(symbol) ?? this.defaultLeverage;
  }

  setLeverage(symbol: string, leverage: number): void {
    this.leverageBySymbol.set(symbol, leverage);
    const p = this.positions.get(symbol);
    if (p) p.leverage = leverage;
  }

  private chargeFee(currency: string, fee: number): void {
    this.entry(currency).total -= fee;
    this.ledger.fees[currency] = (this.ledger.fees[currency] ?? 0) + fee;
  }

  /** Spot fill: base moves one way, quote the other, the fee leaves the wallet it is charged in. */
  applySpotFill(m: Market, side: Side, amount: number, price: number, fee: Fee): void {
    const cost = amount * price;
    if (side === 'buy') {
      this.entry(m.base).total += amount;
      this.entry(m.quote).total -= cost;
    } else {
      this.entry(m.base).total -= amount;
      this.entry(m.quote).total += cost;
    }
    this.chargeFee(fee.currency, fee.cost);
  }

  /**
   * Derivative fill with average-cost accounting: adding to a position moves the entry price,
   * reducing it realizes (price − entry) × closed × contractSize into the settle wallet.
   * Returns the realized PnL of this fill.
   */
  applyDerivativeFill(m: Market, side: Side, amount: number, price: number, fee: number): number {
    const settle = m.settle ?? m.quote;
    let p = this.positions.get(m.symbol);
    if (!p) {
      p = {
        symbol: m.symbol,
        size: 0,
        entryPrice: 0,
        realizedPnl: 0,
        funding: 0,
        leverage: this.leverage(m.symbol),
      };
      this.positions.set(m.symbol, p);
    }
    const q = side === 'buy' ? amount : -amount;
    let realized = 0;
    if (p.size === 0 || Math.sign(p.size) === Math.sign(q)) {
      const newSize = Math.abs(p.size) + amount;
      p.entryPrice = (Math.abs(p.size) * p.entryPrice + amount * price) / newSize;
      p.size += q;
    } else {
      const closed = Math.min(amount, Math.abs(p.size));
      realized = closed * m.contractSize * (price - p.entryPrice) * Math.sign(p.size);
      const flips = amount > Math.abs(p.size);
      p.size += q;
      if (flips) p.entryPrice = price;
    }
    p.size = roundToStep(p.size, m.precision.amount, 'nearest');
    if (p.size === 0) p.entryPrice = 0;
    if (realized !== 0) {
      this.entry(settle).total += realized;
      p.realizedPnl += realized;
      this.ledger.realizedPnl += realized;
    }
    this.chargeFee(settle, fee);
    return realized;
  }

  /** Funding exchange at a funding time: longs pay shorts when rate > 0. Returns the amount received. */
  applyFunding(m: Market, rate: number, markPrice: number): number {
    const p = this.positions.get(m.symbol);
    if (!p || p.size === 0) return 0;
    const received = -p.size * m.contractSize * markPrice * rate;
    this.entry(m.settle ?? m.quote).total += received;
    p.funding += received;
    this.ledger.funding += received;
    return received;
  }

  /** Close a position at `price` without fees (dated-future settlement). Returns realized PnL. */
  settlePosition(m: Market, price: number): number {
    const p = this.positions.get(m.symbol);
    if (!p || p.size === 0) return 0;
    return this.applyDerivativeFill(m, p.size > 0 ? 'sell' : 'buy', Math.abs(p.size), price, 0);
  }

  balanceView(): Balances {
    const out: Balances = {};
    for (const [asset, e] of this.balances)
      out[asset] = { free: e.total - e.used, used: e.used, total: e.total };
    return out;
  }

  positionView(m: Market, mark: number, now: number): Position {
    const p = this.positions.get(m.symbol);
    const size = p?.size ?? 0;
    const entry = p?.entryPrice ?? 0;
    const lev = p?.leverage ?? this.leverage(m.symbol);
    const notional = Math.abs(size) * m.contractSize * mark;
    const mmr = m.maintenanceMarginRate ?? 0.005;
    return {
      symbol: m.symbol,
      size,
      contractSize: m.contractSize,
      entryPrice: entry,
      markPrice: mark,
      unrealizedPnl: size * m.contractSize * (mark - entry),
      realizedPnl: p?.realizedPnl ?? 0,
      leverage: lev,
      initialMargin: notional / lev,
      maintenanceMargin: notional * mmr,
      timestamp: now,
    };
  }

  toState(): AccountState {
    return {
      balances: Object.fromEntries([...this.balances].map(([k, v]) => [k, { ...v }])),
      positions: [...this.positions.values()].map((p) => ({ ...p })),
      leverage: Object.fromEntries(this.leverageBySymbol),
      ledger: {
        fees: { ...this.ledger.fees },
        funding: this.ledger.funding,
        realizedPnl: this.ledger.realizedPnl,
      },
    };
  }

  static fromState(s: AccountState, defaultLeverage = 5): SimAccount {
    const a = new SimAccount({}, defaultLeverage);
    for (const [k, v] of Object.entries(s.balances)) a.balances.set(k, { ...v });
    for (const p of s.positions) a.positions.set(p.symbol, { ...p });
    for (const [k, v] of Object.entries(s.leverage)) a.leverageBySymbol.set(k, v);
    Object.assign(a.ledger, {
      fees: { ...s.ledger.fees },
      funding: s.ledger.funding,
      realizedPnl: s.ledger.realizedPnl,
    });
    return a;
  }
}
