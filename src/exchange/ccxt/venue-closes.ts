/**
 * Orders a venue placed itself to close an account's position — a liquidation or an
 * auto-deleveraging — recognised in the order stream by each venue's own marker. ccxt 4.5
 * keeps the marker in the unified `clientOrderId` on Binance and Gate, and only in the raw
 * `info` elsewhere:
 * - Binance USDⓈ-M: client id `autoclose-…` (liquidation; order type LIQUIDATION) or
 *   `adl_autoclose` (ADL); `settlement_autoclose-…` is a delivery, not a close of ours.
 * - Bybit v5: `info.createType` CreateByLiq / CreateByTakeOver_PassThrough (liquidation),
 *   CreateByAdl_PassThrough (ADL).
 * - OKX: `info.category` full_liquidation / partial_liquidation, adl.
 * - Gate futures: `text` (ccxt's clientOrderId) liquidation, liq-…, hedge-liq-…, pm_liquidate,
 *   comb_margin_liquidate, scm_liquidate; auto_deleveraging or finish_as auto_deleveraged (ADL).
 * - MEXC contract: `info.category` 2 (system take-over: liquidation), 4 (ADL reduction).
 */
import type { Order as CcxtOrder } from 'ccxt';
import { type AccountEvent, type Fill, isPortableClientOrderId, type Market } from '../../domain/index.ts';

export type VenueCloseKind = 'liquidation' | 'adl';

const GATE_LIQUIDATION = /^(liquidation|liq-|hedge-liq-|pm_liquidate|comb_margin_liquidate|scm_liquidate)/;

export function venueCloseKind(exchangeId: string, o: CcxtOrder): VenueCloseKind | undefined {
  const info = (o.info ?? {}) as Record<string, unknown>;
  const cid = String(o.clientOrderId ?? '');
  // One of ours (Gate prefixes its text with t-) is never the venue's own, whatever it finished as.
  if (isPortableClientOrderId(cid.replace(/^t-/, ''))) return undefined;
  switch (exchangeId) {
    case 'binance':
    case 'binanceusdm':
      if (cid.startsWith('adl_autoclose')) return 'adl';
      if (cid.startsWith('autoclose-') || o.type === 'liquidation') return 'liquidation';
      return undefined;
    case 'bybit': {
      const t = String(info.createType ?? '');
      if (t.startsWith('CreateByAdl')) return 'adl';
      if (t === 'CreateByLiq' || t.startsWith('CreateByTakeOver')) return 'liquidation';
      return undefined;
    }
    case 'okx': {
      const c = String(info.category ?? '');
      if (c === 'adl') return 'adl';
      if (c === 'full_liquidation' || c === 'partial_liquidation') return 'liquidation';
      return undefined;
    }
    case 'gate':
    case 'gateio': {
      const text = String(info.text ?? cid);
      if (text === 'auto_deleveraging' || info.finish_as === 'auto_deleveraged') return 'adl';
      if (GATE_LIQUIDATION.test(text)) return 'liquidation';
      return undefined;
    }
    case 'mexc': {
      const c = Number(info.category);
      return c === 4 ? 'adl' : c === 2 ? 'liquidation' : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The account event for a venue's own close once it has filled (a liquidation order can arrive
 * NEW first): the close as one fill of the account — id from the venue's order id, so a repeated
 * update is booked once — at its average price with its fee. Undefined while nothing filled.
 */
export function venueCloseEvent(
  kind: VenueCloseKind,
  o: CcxtOrder,
  m: Market,
): Extract<AccountEvent, { type: VenueCloseKind }> | undefined {
  const filled = o.filled ?? 0;
  const done =
    o.status === 'closed' || o.status === 'canceled' || o.status === 'expired' || o.remaining === 0;
  if (!(filled > 0) || !done || !o.side) return undefined;
  const price = o.average ?? o.price ?? 0;
  const side = o.side === 'buy' ? 'buy' : 'sell';
  const timestamp = o.lastUpdateTimestamp ?? o.timestamp ?? Date.now();
  const fill: Fill = {
    id: `${m.venue}-${kind}-${o.id}`,
    orderId: String(o.id),
    clientOrderId: '',
    symbol: m.symbol,
    side,
    price,
    amount: filled,
    cost: filled * price * m.contractSize,
    fee: { currency: o.fee?.currency ?? m.settle ?? m.quote, cost: Math.abs(o.fee?.cost ?? 0) },
    takerOrMaker: 'taker',
    timestamp,
  };
  // The position closed: a sell closes a long (+), a buy a short (−).
  const size = side === 'sell' ? filled : -filled;
  return { type: kind, symbol: m.symbol, size, price, fill, timestamp };
}
