/**
 * A local fake of MEXC spot (REST v3 and the protobuf websockets) for driving ccxt's real `mexc`
 * class offline, in MEXC's wire format as ccxt 4.5 sends and parses it: every parameter in the
 * signed query (HMAC-SHA256, key in X-MEXC-APIKEY), a new order answered with ids only, orders
 * looked up by `origClientOrderId`, `-2013`/`-2011` for an unknown order, the listen-key user
 * stream, and pushes as binary PushDataV3ApiWrapper frames (ccxt's own compiled schema) with the
 * text `{"method":"ping"}` answered `PONG`.
 *
 * A reused client id is not refused (MEXC documents no rule: the safe reading). Whether a
 * finished order stays findable by client id is `findsFinishedByClientId` (default true, as the
 * documentation reads; false to prove the adapter's history search).
 */
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { WebSocket } from 'ws';
import type { Clock } from '../../../src/clock/clock.ts';
import type { BookTicker, Market, Order, OrderRequest, TimeInForce } from '../../../src/domain/index.ts';
import { simMarket } from '../../../src/exchange/sim/markets.ts';
import { SimVenue } from '../../../src/exchange/sim/venue.ts';
import { decimal, FakeExchange, type FakeRequest, VenueAnswer } from './kit.ts';

/** ccxt's compiled MEXC schema (not in its exports: found beside its entry): the fake encodes what ccxt decodes. */
const require = createRequire(import.meta.url);
const ccxtRoot = require.resolve('ccxt').replace(/(node_modules[\\/]ccxt)[\\/].*$/, '$1');
const { PushDataV3ApiWrapper } = require(join(ccxtRoot, 'js/src/protobuf/mexc/compiled.cjs')) as {
  PushDataV3ApiWrapper: { encode(m: object): { finish(): Uint8Array } };
};

export interface FakeMexcOptions {
  clock: Clock;
  apiKey: string;
  secret: string;
  balances?: Record<string, number>;
  findsFinishedByClientId?: boolean;
}

const REST = 'api.mexc.com';
const WS = 'wbs-api.mexc.com';
const ORDERS_CHANNEL = 'spot@private.orders.v3.api.pb';

const mexcError = (status: number, code: number, msg: string) => new VenueAnswer(status, { code, msg });

function mexcStatus(o: Order): string {
  if (o.status === 'open') return o.filled > 0 ? 'PARTIALLY_FILLED' : 'NEW';
  if (o.status === 'closed') return 'FILLED';
  return o.filled > 0 ? 'PARTIALLY_CANCELED' : 'CANCELED';
}

/** The private order push's status: 1 new, 2 filled, 3 partially filled, 4 canceled. */
function wsStatus(o: Order): number {
  if (o.status === 'open') return o.filled > 0 ? 3 : 1;
  if (o.status === 'closed') return 2;
  return 4;
}

export class FakeMexc extends FakeExchange {
  readonly spot: SimVenue;
  private readonly listenKeys = new Set<string>();
  /** Per socket: the channels it subscribed, and whether it is a listen-key (private) socket. */
  private readonly subs = new Map<WebSocket, { private: boolean; channels: Set<string> }>();
  private nextKey = 1;

  constructor(private readonly opts: FakeMexcOptions) {
    super();
    this.spot = new SimVenue({
      name: 'mexc',
      clock: opts.clock,
      markets: [simMarket('mexc', 'BTC/USDT', { maker: 0, taker: 0.0005, feeCurrency: 'quote' })],
      balances: opts.balances ?? { USDT: 100_000, BTC: 1 },
      clientIds: { refusesReused: 'never' },
    });
  }

  quote(symbol: string, bid: number, ask: number, size = 5): void {
    this.spot.onBookTicker({
      symbol,
      bid,
      ask,
      bidSize: size,
      askSize: size,
      timestamp: this.opts.clock.now(),
    });
  }

  protected started(): void {
    this.spot.subscribeOrders((o) => this.pushOrder(o));
    for (const m of this.spot.listMarkets()) this.spot.subscribeBook(m.symbol, (t) => this.pushBook(m, t));
  }

  protected disposed(): void {
    this.spot.dispose();
  }

  protected errorAnswer(e: Error): VenueAnswer {
    switch (e.name) {
      case 'InsufficientFunds':
        return mexcError(400, 30004, 'Insufficient position');
      case 'OrderImmediatelyFillable':
        return mexcError(400, 30016, 'Post only order would immediately match');
      case 'OrderNotFound':
        return mexcError(400, -2013, 'Order does not exist.');
      case 'InvalidOrder':
        return mexcError(400, 30002, `order rejected: ${e.message}`);
      default:
        return mexcError(500, 500, e.message);
    }
  }

  // ── REST ────────────────────────────────────────────────────────────────────────────────────

  protected route(r: FakeRequest): unknown {
    if (r.host !== REST) throw mexcError(404, 404, `unknown host ${r.host}`);
    const key = `${r.method} ${r.path}`;
    const q = Object.fromEntries(r.query);
    switch (key) {
      case 'GET /api/v3/time':
        return { serverTime: Date.now() };
      case 'GET /api/v3/exchangeInfo':
        return {
          timezone: 'CST',
          serverTime: Date.now(),
          rateLimits: [],
          exchangeFilters: [],
          symbols: this.spot.listMarkets().map((m) => ({
            symbol: m.id,
            status: '1',
            baseAsset: m.base,
            quoteAsset: m.quote,
            baseAssetPrecision: Math.round(-Math.log10(m.precision.amount)),
            quoteAssetPrecision: Math.round(-Math.log10(m.precision.price)),
            quotePrecision: Math.round(-Math.log10(m.precision.price)),
            quoteAmountPrecision: decimal(m.limits.cost.min || 1),
            baseSizePrecision: '0',
            maxQuoteAmount: '2000000',
            isSpotTradingAllowed: true,
            isMarginTradingAllowed: false,
            makerCommission: decimal(m.maker),
            takerCommission: decimal(m.taker),
            orderTypes: ['LIMIT', 'MARKET', 'LIMIT_MAKER'],
            permissions: ['SPOT'],
            filters: [],
          })),
        };
      case 'GET /api/v1/contract/detail':
        // MEXC lists its perpetuals here; a spot-only client must not load (then poll) them.
        return {
          success: true,
          code: 0,
          data: [
            {
              symbol: 'BTC_USDT',
              baseCoin: 'BTC',
              quoteCoin: 'USDT',
              settleCoin: 'USDT',
              contractSize: 0.0001,
              priceUnit: 0.1,
              volUnit: 1,
              minVol: 1,
              maxVol: 1_000_000,
              minLeverage: 1,
              maxLeverage: 200,
              takerFeeRate: 0.0002,
              makerFeeRate: 0,
              state: 0,
            },
          ],
        };
      case 'GET /api/v3/depth': {
        const t = this.spot.ticker(this.market(q.symbol).symbol);
        return {
          lastUpdateId: 1,
          bids: t ? [[decimal(t.bid), decimal(t.bidSize)]] : [],
          asks: t ? [[decimal(t.ask), decimal(t.askSize)]] : [],
          timestamp: this.opts.clock.now(),
        };
      }
    }
    this.authenticate(r);
    this.signedRequest(key, () => mexcError(429, 429, 'Too Many Requests'));
    const v = this.spot;
    switch (key) {
      case 'GET /api/v3/capital/config/getall':
        return [];
      case 'POST /api/v3/order':
        return this.place(r, q);
      case 'GET /api/v3/order':
        return this.orderJson(this.find(q));
      case 'DELETE /api/v3/order': {
        let o: Order;
        try {
          o = this.find(q);
        } catch {
          throw mexcError(400, -2011, 'Unknown order sent.');
        }
        if (o.status !== 'open') throw mexcError(400, -2011, 'Unknown order sent.');
        return { ...this.orderJson(v.cancelOrder({ id: o.id })), origClientOrderId: o.clientOrderId };
      }
      case 'GET /api/v3/openOrders':
        return v
          .fetchOpenOrders(q.symbol ? this.market(q.symbol).symbol : undefined)
          .map((o) => this.orderJson(o));
      case 'GET /api/v3/allOrders': {
        const m = this.market(q.symbol);
        const from = Number(q.startTime ?? 0);
        return v
          .allOrders()
          .filter((o) => o.symbol === m.symbol && o.timestamp >= from)
          .slice(-Number(q.limit ?? 500))
          .map((o) => this.orderJson(o));
      }
      case 'GET /api/v3/myTrades': {
        const m = this.market(q.symbol);
        const from = Number(q.startTime ?? 0);
        return v
          .allOrders()
          .filter((o) => o.symbol === m.symbol && (!q.orderId || o.id === q.orderId))
          .flatMap((o) =>
            o.trades.map((t) => ({
              symbol: m.id,
              id: t.id,
              orderId: o.id,
              orderListId: '-1',
              price: decimal(t.price),
              qty: decimal(t.amount),
              quoteQty: decimal(t.cost),
              commission: decimal(t.fee.cost),
              commissionAsset: t.fee.currency,
              time: t.timestamp,
              isBuyer: t.side === 'buy',
              isMaker: t.takerOrMaker === 'maker',
              isBestMatch: true,
              isSelfTrade: false,
            })),
          )
          .filter((t) => t.time >= from);
      }
      case 'GET /api/v3/account':
        return {
          canTrade: true,
          canWithdraw: true,
          canDeposit: true,
          accountType: 'SPOT',
          permissions: ['SPOT'],
          balances: Object.entries(v.balances()).map(([asset, b]) => ({
            asset,
            free: decimal(b.free),
            locked: decimal(b.used),
          })),
        };
      case 'POST /api/v3/userDataStream': {
        const listenKey = `LK${this.nextKey++}`;
        this.listenKeys.add(listenKey);
        return { listenKey };
      }
      case 'PUT /api/v3/userDataStream':
      case 'DELETE /api/v3/userDataStream':
        if (!this.listenKeys.has(q.listenKey ?? '')) throw mexcError(400, 700004, 'listenKey does not exist');
        return { listenKey: q.listenKey };
    }
    throw mexcError(404, 404, `no route ${key}`);
  }

  /** X-MEXC-APIKEY, and `signature` = HMAC-SHA256 of the raw query before it, within recvWindow. */
  private authenticate(r: FakeRequest): void {
    if (r.headers['x-mexc-apikey'] !== this.opts.apiKey) throw mexcError(400, 10072, 'Api key info invalid');
    const i = r.rawQuery.lastIndexOf('&signature=');
    const expected = createHmac('sha256', this.opts.secret).update(r.rawQuery.slice(0, i)).digest('hex');
    if (i < 0 || r.rawQuery.slice(i + '&signature='.length) !== expected)
      throw mexcError(400, 700002, 'Signature for this request is not valid.');
    const ts = Number(r.query.get('timestamp'));
    const window = Number(r.query.get('recvWindow') ?? 5_000);
    if (!(ts < Date.now() + 1_000 && Date.now() - ts <= window))
      throw mexcError(400, 700003, 'Timestamp for this request is outside of the recvWindow.');
  }

  private place(r: FakeRequest, q: Record<string, string>): unknown {
    const m = this.market(q.symbol);
    const type = q.type;
    const tif: TimeInForce | undefined =
      type === 'LIMIT_MAKER'
        ? 'PO'
        : type === 'IMMEDIATE_OR_CANCEL'
          ? 'IOC'
          : type === 'FILL_OR_KILL'
            ? 'FOK'
            : type === 'LIMIT'
              ? 'GTC'
              : undefined;
    if (type !== 'MARKET' && !tif) throw mexcError(400, 700008, `illegal order type ${type}`);
    let amount = Number(q.quantity);
    if (type === 'MARKET' && q.quantity === undefined) {
      // Sized in quote: what the budget buys (or sells) at the touch.
      const t = this.spot.ticker(m.symbol);
      const px = q.side === 'BUY' ? t?.ask : t?.bid;
      if (!px) throw mexcError(400, 30002, 'no price to size the order');
      amount = Math.floor(Number(q.quoteOrderQty) / px / m.precision.amount + 1e-9) * m.precision.amount;
    }
    const req: OrderRequest = {
      symbol: m.symbol,
      side: q.side === 'BUY' ? 'buy' : 'sell',
      type: type === 'MARKET' ? 'market' : 'limit',
      amount,
      clientOrderId: q.newClientOrderId ?? `mexc-${Date.now()}`,
      ...(type !== 'MARKET' ? { price: Number(q.price) } : {}),
      ...(tif ? { timeInForce: tif } : {}),
    };
    const o = this.spot.placeOrder(req);
    // MEXC answers every new order with ids only (no status, nothing about fills).
    return this.answerPlacement(r.res, () => ({
      symbol: m.id,
      orderId: o.id,
      orderListId: '-1',
      price: decimal(o.price ?? 0),
      origQty: decimal(o.amount),
      type,
      side: q.side,
      transactTime: o.timestamp,
    }));
  }

  private find(q: Record<string, string>): Order {
    const m = this.market(q.symbol);
    let o: Order | undefined;
    if (q.orderId) o = this.spot.allOrders().find((x) => x.id === q.orderId && x.symbol === m.symbol);
    else if (q.origClientOrderId) {
      o = this.spot
        .allOrders()
        .filter((x) => x.clientOrderId === q.origClientOrderId && x.symbol === m.symbol)
        .sort((a, b) => Number(b.id) - Number(a.id))[0];
      if (o && o.status !== 'open' && this.opts.findsFinishedByClientId === false) o = undefined;
    } else throw mexcError(400, 700004, 'Mandatory parameter orderId or origClientOrderId was not sent');
    if (!o) throw mexcError(400, -2013, 'Order does not exist.');
    return o;
  }

  private orderJson(o: Order): Record<string, unknown> {
    const m = this.spot.market(o.symbol);
    return {
      symbol: m.id,
      orderId: o.id,
      orderListId: '-1',
      clientOrderId: o.clientOrderId,
      price: decimal(o.price ?? 0),
      origQty: decimal(o.amount),
      executedQty: decimal(o.filled),
      cummulativeQuoteQty: decimal(o.cost),
      status: mexcStatus(o),
      timeInForce: null,
      type: o.type === 'market' ? 'MARKET' : o.timeInForce === 'PO' ? 'LIMIT_MAKER' : 'LIMIT',
      side: o.side.toUpperCase(),
      time: o.timestamp,
      updateTime: o.lastUpdateTimestamp,
      isWorking: o.status === 'open',
    };
  }

  private market(id: string | undefined): Market {
    const m = this.spot.listMarkets().find((x) => x.id === id);
    if (!m) throw mexcError(400, -1121, 'Invalid symbol.');
    return m;
  }

  // ── websockets ──────────────────────────────────────────────────────────────────────────────

  protected onSocket(ws: WebSocket, host: string, path: string, query: URLSearchParams): void {
    if (host !== WS || path !== '/ws') {
      ws.close();
      return;
    }
    const listenKey = query.get('listenKey');
    if (listenKey !== null && !this.listenKeys.has(listenKey)) {
      ws.send('Invalid listen key');
      ws.close();
      return;
    }
    this.subs.set(ws, { private: listenKey !== null, channels: new Set() });
    ws.on('close', () => this.subs.delete(ws));
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as { method: string; params?: string[] };
      const method = m.method.toUpperCase();
      if (method === 'PING') return ws.send(JSON.stringify({ id: 0, code: 0, msg: 'PONG' }));
      const s = this.subs.get(ws)!;
      for (const c of m.params ?? []) {
        if (method === 'SUBSCRIPTION') s.channels.add(c);
        if (method === 'UNSUBSCRIPTION') s.channels.delete(c);
        ws.send(JSON.stringify({ id: 0, code: 0, msg: c }));
      }
    });
  }

  private pushBinary(which: (s: { private: boolean; channels: Set<string> }) => boolean, msg: object): void {
    const frame = PushDataV3ApiWrapper.encode(msg).finish();
    for (const [ws, s] of this.subs) if (ws.readyState === ws.OPEN && which(s)) ws.send(frame);
  }

  private pushBook(m: Market, t: BookTicker): void {
    const channel = `spot@public.aggre.bookTicker.v3.api.pb@100ms@${m.id}`;
    this.pushBinary((s) => s.channels.has(channel), {
      channel,
      symbol: m.id,
      sendTime: Math.floor(t.timestamp),
      publicAggreBookTicker: {
        bidPrice: decimal(t.bid),
        bidQuantity: decimal(t.bidSize),
        askPrice: decimal(t.ask),
        askQuantity: decimal(t.askSize),
      },
    });
  }

  private pushOrder(o: Order): void {
    const m = this.spot.market(o.symbol);
    this.pushBinary((s) => s.private && s.channels.has(ORDERS_CHANNEL), {
      channel: ORDERS_CHANNEL,
      symbol: m.id,
      sendTime: Math.floor(this.opts.clock.now()),
      privateOrders: {
        id: o.id,
        clientId: o.clientOrderId,
        price: decimal(o.price ?? 0),
        quantity: decimal(o.amount),
        amount: decimal((o.price ?? o.average ?? 0) * o.amount),
        avgPrice: decimal(o.average ?? 0),
        orderType: o.type === 'market' ? 5 : o.timeInForce === 'PO' ? 2 : 1,
        tradeType: o.side === 'buy' ? 1 : 2,
        isMaker: false,
        remainAmount: decimal((o.price ?? 0) * o.remaining),
        remainQuantity: decimal(o.remaining),
        lastDealQuantity: decimal(o.trades.at(-1)?.amount ?? 0),
        cumulativeQuantity: decimal(o.filled),
        cumulativeAmount: decimal(o.cost),
        status: wsStatus(o),
        createTime: Math.floor(o.timestamp),
      },
    });
  }
}
