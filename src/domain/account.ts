export interface BalanceEntry {
  free: number;
  used: number;
  total: number;
}

export type Balances = Record<string, BalanceEntry>;

/** A derivative position in one-way mode. `size` is signed in contracts: > 0 long, < 0 short. */
export interface Position {
  symbol: string;
  size: number;
  contractSize: number;
  entryPrice: number;
  markPrice: number;
  unrealizedPnl: number;
  realizedPnl: number;
  leverage: number;
  initialMargin: number;
  maintenanceMargin: number;
  liquidationPrice?: number;
  timestamp: number;
}

/** Unrealized PnL of a linear position at `mark`. */
export function linearUnrealizedPnl(
  p: Pick<Position, 'size' | 'entryPrice' | 'contractSize'>,
  mark: number,
): number {
  return p.size * p.contractSize * (mark - p.entryPrice);
}
