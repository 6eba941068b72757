/** ccxt's unified structures → statearb's domain types (which follow ccxt's names closely). */
import type {
  Balances,
  MarketInterface as CcxtMarket,
  Order as CcxtOrder,
  OrderBook as CcxtOrderBook,
  Position as CcxtPosition,
  Ticker as CcxtTicker,
  Trade,
} from 'ccxt';
import type {
  BookTicker,
  Balances as DomainBalances,
  Fill,
  Market,
  MarketType,
  Order,
  OrderStatus,
  Position,
  TimeInForce,
} from '../../domain/index.ts';

/** ccxt's precision modes (base/functions/number). */
const DECIMAL_PLACES = 2;
const SIGNIFICANT_DIGITS = 3;

/** A precision value in ccxt's mode → a step size (statearb works in tick sizes). */
function step(value: number | undefined, mode: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (mode === DECIMAL_PLACES || mode === SIGNIFICANT_DIGITS) return 10 ** -value;
  return value;
}

/** Spot, linear perpetuals and linear dated futures; other markets are left out. */
export function toMarket(venue: string, m: CcxtMarket, precisionMode: number): Market | undefined {
  if (m.active === false) return undefined;
  const type: MarketType | undefined = m.spot
    ? 'spot'
    : m.swap && m.linear
      ? 'swap'
      : m.future && m.linear
        ? 'future'
        : undefined;
  if (!type || m.option) return undefined;
  const amount = step(m.precision?.amount, precisionMode);
  const price = step(m.precision?.price, precisionMode);
  if (amount === undefined || price === undefined) return undefined;
  const out: Market = {
    venue,
    symbol: m.symbol,
    id: m.id ?? m.symbol,
    base: m.base,
    quote: m.quote,
    type,
    linear: type !== 'spot',
    contractSize: type === 'spot' ? 1 : (m.contractSize ?? 1),
    precision: { amount, price },
    limits: {
      amount: {
        min: m.limits?.amount?.min ?? amount,
        ...(m.limits?.amount?.max ? { max: m.limits.amount.max } : {}),
      },
      cost: { min: m.limits?.cost?.min ?? 0 },
      ...(m.limits?.leverage?.max ? { leverage: { max: m.limits.leverage.max } } : {}),
    },
    maker: m.maker ?? 0.001,
    taker: m.taker ?? 0.001,
  };
  if (m.settle) out.settle = m.settle;
  if (type === 'future' && m.expiry) out.expiry = m.expiry;
  return out;
}

/**
 * A ccxt trade as a fill of the order placed with `clientOrderId`. The fills inside an order's
 * answer often carry no side (Binance spot's `fills`): the order's side is theirs.
 */
export function toFill(t: Trade, market: Market, clientOrderId: string, orderSide: string | undefined): Fill {
  const price = t.price ?? 0;
  const amount = t.amount ?? 0;
  return {
    id: String(t.id),
    orderId: String(t.order ?? ''),
    clientOrderId,
    symbol: market.symbol,
    side: (t.side ?? orderSide) === 'sell' ? 'sell' : 'buy',
    price,
    amount,
    cost: t.cost ?? amount * price * market.contractSize,
    fee: { cost: t.fee?.cost ?? 0, currency: t.fee?.currency ?? market.quote },
    takerOrMaker: t.takerOrMaker === 'maker' ? 'maker' : 'taker',
    timestamp: t.timestamp ?? 0,
  };
}

function status(o: CcxtOrder): OrderStatus {
  switch (o.status) {
    case 'open':
      return 'open';
    case 'closed':
      return 'closed';
    case 'canceled':
      return 'canceled';
    case 'expired':
      return 'expired';
    case 'rejected':
      return 'rejected';
    default:
      // ccxt leaves status undefined when the venue did not say. The client never hands on a
      // placement or cancel answer without one (it fetches the order: CcxtExchangeClient
      // withState); what is left is a state whose amounts say it: something left is open.
      return (o.remaining ?? 0) > 0 ? 'open' : 'closed';
  }
}

/**
 * An order ccxt calls closed with part of it unfilled ended by a cancel after filling some
 * (Bybit's PartiallyFilledCanceled, limit or market): here closed means filled, so it is
 * canceled — expired where the venue dropped an immediate order's rest. Not where the amount is
 * in another unit than the fills (a spot market buy sized in quote: Gate).
 */
function endedPartFilled(o: CcxtOrder, amount: number, filled: number, m: Market, amountInQuote: boolean) {
  if (o.status !== 'closed' || amountInQuote || !(amount - filled > m.precision.amount / 2)) return undefined;
  return timeInForce(o) === 'GTC' || timeInForce(o) === 'PO' ? 'canceled' : 'expired';
}

function timeInForce(o: CcxtOrder): TimeInForce {
  if (o.postOnly || o.timeInForce === 'PO' || o.timeInForce === 'GTX') return 'PO';
  if (o.timeInForce === 'IOC' || o.timeInForce === 'FOK') return o.timeInForce;
  return o.type === 'market' ? 'IOC' : 'GTC';
}

/** A ccxt order with its fills (fetched separately where the venue's answer has none). */
/** `amountInQuote`: the venue states this order's amount in quote (Gate's spot market buys). */
export function toOrder(o: CcxtOrder, market: Market, fills: Fill[], amountInQuote = false): Order {
  const filled = o.filled ?? fills.reduce((s, f) => s + f.amount, 0);
  const amount = o.amount ?? filled;
  // Nothing filled costs nothing (MEXC's order push puts the order's quote size in `cost`).
  const cost = fills.length > 0 ? fills.reduce((s, f) => s + f.cost, 0) : filled > 0 ? (o.cost ?? 0) : 0;
  const feeCost = fills.length > 0 ? fills.reduce((s, f) => s + f.fee.cost, 0) : (o.fee?.cost ?? 0);
  const out: Order = {
    id: String(o.id),
    clientOrderId: o.clientOrderId ?? '',
    symbol: market.symbol,
    side: o.side === 'sell' ? 'sell' : 'buy',
    type: o.type === 'market' ? 'market' : 'limit',
    timeInForce: timeInForce(o),
    amount,
    filled,
    remaining: o.remaining ?? Math.max(0, amount - filled),
    cost,
    status: endedPartFilled(o, amount, filled, market, amountInQuote) ?? status(o),
    fee: { cost: feeCost, currency: fills[0]?.fee.currency ?? o.fee?.currency ?? market.quote },
    trades: fills,
    reduceOnly: Boolean(o.reduceOnly),
    timestamp: o.timestamp ?? 0,
    lastUpdateTimestamp: o.lastUpdateTimestamp ?? o.lastTradeTimestamp ?? o.timestamp ?? 0,
  };
  if (o.price) out.price = o.price;
  const average = o.average ?? (filled > 0 && cost > 0 ? cost / (filled * market.contractSize) : undefined);
  if (average) out.average = average;
  return out;
}

/** The top of a ccxt ticker (or bids/asks entry) with both sides, else undefined. */
export function tickerTop(symbol: string, t: CcxtTicker | undefined): BookTicker | undefined {
  if (!t?.bid || !t.ask) return undefined;
  return {
    symbol,
    bid: t.bid,
    ask: t.ask,
    bidSize: t.bidVolume ?? 0,
    askSize: t.askVolume ?? 0,
    timestamp: t.timestamp ?? Date.now(),
  };
}

/** The best level of each side of a ccxt order book, stamped `timestamp`, else undefined. */
export function orderBookTop(symbol: string, b: CcxtOrderBook, timestamp: number): BookTicker | undefined {
  const bid = b.bids[0];
  const ask = b.asks[0];
  if (!bid?.[0] || !ask?.[0]) return undefined;
  return { symbol, bid: bid[0], ask: ask[0], bidSize: bid[1] ?? 0, askSize: ask[1] ?? 0, timestamp };
}

export function toPosition(p: CcxtPosition, market: Market): Position {
  const contracts = p.contracts ?? 0;
  const out: Position = {
    symbol: market.symbol,
    size: p.side === 'short' ? -Math.abs(contracts) : Math.abs(contracts),
    contractSize: p.contractSize ?? market.contractSize,
    entryPrice: p.entryPrice ?? 0,
    markPrice: p.markPrice ?? 0,
    unrealizedPnl: p.unrealizedPnl ?? 0,
    realizedPnl: p.realizedPnl ?? 0,
    leverage: p.leverage ?? 1,
    initialMargin: p.initialMargin ?? 0,
    maintenanceMargin: p.maintenanceMargin ?? 0,
    timestamp: p.timestamp ?? 0,
  };
  if (p.liquidationPrice) out.liquidationPrice = p.liquidationPrice;
  return out;
}

export function toBalances(b: Balances): DomainBalances {
  const out: DomainBalances = {};
  const total = (b.total ?? {}) as unknown as Record<string, number | undefined>;
  const free = (b.free ?? {}) as unknown as Record<string, number | undefined>;
  const used = (b.used ?? {}) as unknown as Record<string, number | undefined>;
  for (const [asset, t] of Object.entries(total)) {
    if (t === undefined) continue;
    out[asset] = { total: t, free: free[asset] ?? t - (used[asset] ?? 0), used: used[asset] ?? 0 };
  }
  return out;
}
