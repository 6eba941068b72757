/**
 * A local fake of Binance (spot and USD-M futures) for driving ccxt's real `binance` and
 * `binanceusdm` classes offline. It answers the REST endpoints and websocket streams ccxt calls,
 * in Binance's formats, with HMAC signature and API-key checks, and is backed by two simulated
 * venues — the spot wallet and the futures wallet are separate accounts, as at Binance — so
 * orders really rest, match, partially fill and pay fees.
 *
 * Built on the fake-exchange kit (fake-exchange/kit.ts): the server for every Binance host, the
 * URL rewrite, websockets, the request log and the shared faults (rate limits, lost answers,
 * ids-only answers, dropped streams); this file is Binance's wire format only.
 */
import { createHmac } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import type { Clock } from '../../src/clock/clock.ts';
import type {
  BookTicker,
  FeeCurrency,
  Fill,
  Market,
  Order,
  OrderRequest,
  TimeInForce,
} from '../../src/domain/index.ts';
import { simMarket } from '../../src/exchange/sim/markets.ts';
import { SimVenue, type VenueEvent } from '../../src/exchange/sim/venue.ts';
import { FakeExchange, type FakeRequest, VenueAnswer } from './fake-exchange/kit.ts';

export interface FakeBinanceOptions {
  clock: Clock;
  apiKey: string;
  secret: string;
  assets?: string[];
  spotBalances?: Record<string, number>;
  futuresBalances?: Record<string, number>;
  /** What spot fees are charged in (default: the asset received, as Binance does without BNB). */
  spotFeeCurrency?: FeeCurrency;
}

/** Binance's refusal: an HTTP status and `{ code, msg }`. */
class BinanceError extends VenueAnswer {
  constructor(status: number, code: number, msg: string, headers: Record<string, string> = {}) {
    super(status, { code, msg }, headers);
  }
}

/** Binance's client-id rule: a reused id is refused only while the first order rests. */
const BINANCE_CLIENT_IDS = { refusesReused: 'while-open' } as const;

const SPOT_HOSTS = new Set(['api.binance.com', 'api1.binance.com', 'api2.binance.com', 'api3.binance.com']);
const FUTURES_HOST = 'fapi.binance.com';

const str = (n: number | undefined) => (n === undefined ? '0' : String(Number(n.toPrecision(15))));
const tradeNo = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1).replace(/\D/g, '')) || 0;

function binanceStatus(o: Order): string {
  if (o.status === 'open') return o.filled > 0 ? 'PARTIALLY_FILLED' : 'NEW';
  if (o.status === 'closed') return 'FILLED';
  if (o.status === 'canceled') return 'CANCELED';
  if (o.status === 'expired') return 'EXPIRED';
  return 'REJECTED';
}

export class FakeBinance extends FakeExchange {
  readonly spot: SimVenue;
  readonly futures: SimVenue;
  private readonly listenKeys = new Set<string>();
  private nextUpdateId = 1;

  constructor(private readonly opts: FakeBinanceOptions) {
    super();
    const assets = opts.assets ?? ['BTC', 'ETH'];
    this.spot = new SimVenue({
      name: 'binance',
      clock: opts.clock,
      markets: assets.map((a) =>
        simMarket('binance', `${a}/USDT`, opts.spotFeeCurrency ? { feeCurrency: opts.spotFeeCurrency } : {}),
      ),
      balances: opts.spotBalances ?? { USDT: 100_000, BTC: 1, ETH: 10 },
      // newClientOrderId is unique among open orders only.
      clientIds: BINANCE_CLIENT_IDS,
    });
    this.futures = new SimVenue({
      name: 'binance',
      clock: opts.clock,
      markets: assets.map((a) => simMarket('binance', `${a}/USDT:USDT`)),
      balances: opts.futuresBalances ?? { USDT: 100_000 },
      clientIds: BINANCE_CLIENT_IDS,
    });
  }

  protected started(): void {
    // Order updates of both wallets go to the user streams.
    this.spot.subscribeOrders((o) => this.pushOrder('spot', o));
    this.futures.subscribeOrders((o) => this.pushOrder('futures', o));
    // Positions the venue closes itself reach the user stream as Binance sends them.
    this.futures.subscribeEvents((e) => {
      if (e.type === 'liquidation' || e.type === 'adl') this.pushVenueClose(e);
    });
    for (const v of [this.spot, this.futures])
      for (const m of v.listMarkets())
        v.subscribeBook(m.symbol, (t) => this.pushBook(v === this.spot ? 'spot' : 'futures', m, t));
  }

  /** A new top of book for `symbol` (BTC/USDT or BTC/USDT:USDT). */
  quote(symbol: string, bid: number, ask: number, size = 5): void {
    const venue = symbol.includes(':') ? this.futures : this.spot;
    venue.onBookTicker({ symbol, bid, ask, bidSize: size, askSize: size, timestamp: this.opts.clock.now() });
  }

  protected disposed(): void {
    this.spot.dispose();
    this.futures.dispose();
  }

  // ── HTTP ────────────────────────────────────────────────────────────────────────────────────

  protected route(r: FakeRequest): unknown {
    const query = r.method === 'GET' || r.method === 'DELETE' ? r.rawQuery : r.body;
    const params = Object.fromEntries(new URLSearchParams(query));
    const market = SPOT_HOSTS.has(r.host) ? 'spot' : r.host === FUTURES_HOST ? 'futures' : undefined;
    if (!market) throw new BinanceError(404, -1000, `unknown host ${r.host}`);
    const key = `${r.method} ${r.path}`;
    const signed = 'signature' in params;
    if (signed || r.path.endsWith('listenKey') || r.path.endsWith('userDataStream'))
      this.authenticate(r, query, signed);
    if (signed)
      this.signedRequest(
        key,
        () =>
          new BinanceError(
            429,
            -1003,
            'Too many requests; current limit of IP is 1200 requests per minute.',
            {
              'Retry-After': '1',
            },
          ),
      );
    return market === 'spot' ? this.spotRoute(key, params, r.res) : this.futuresRoute(key, params, r.res);
  }

  protected errorAnswer(e: Error): VenueAnswer {
    return new BinanceError(400, -1000, e.message ?? 'An unknown error occurred');
  }

  private authenticate(req: FakeRequest, query: string, signed: boolean): void {
    if (req.headers['x-mbx-apikey'] !== this.opts.apiKey)
      throw new BinanceError(401, -2015, 'Invalid API-key, IP, or permissions for action.');
    if (!signed) return;
    const i = query.lastIndexOf('&signature=');
    const expected = createHmac('sha256', this.opts.secret).update(query.slice(0, i)).digest('hex');
    if (i < 0 || query.slice(i + '&signature='.length) !== expected)
      throw new BinanceError(400, -1022, 'Signature for this request is not valid.');
  }

  private venueMarket(venue: SimVenue, id: string | undefined): Market {
    const m = venue.listMarkets().find((x) => x.id === id);
    if (!m) throw new BinanceError(400, -1121, 'Invalid symbol.');
    return m;
  }

  private spotRoute(key: string, p: Record<string, string>, res: ServerResponse): unknown {
    const v = this.spot;
    switch (key) {
      case 'GET /api/v3/ping':
        return {};
      case 'GET /api/v3/time':
        return { serverTime: this.opts.clock.now() };
      case 'GET /api/v3/exchangeInfo':
        return {
          timezone: 'UTC',
          serverTime: this.opts.clock.now(),
          rateLimits: [],
          exchangeFilters: [],
          symbols: v.listMarkets().map((m) => ({
            symbol: m.id,
            status: 'TRADING',
            baseAsset: m.base,
            baseAssetPrecision: 8,
            quoteAsset: m.quote,
            quotePrecision: 8,
            quoteAssetPrecision: 8,
            baseCommissionPrecision: 8,
            quoteCommissionPrecision: 8,
            orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET'],
            icebergAllowed: false,
            ocoAllowed: false,
            quoteOrderQtyMarketAllowed: true,
            allowTrailingStop: false,
            cancelReplaceAllowed: true,
            isSpotTradingAllowed: true,
            isMarginTradingAllowed: false,
            filters: [
              {
                filterType: 'PRICE_FILTER',
                minPrice: str(m.precision.price),
                maxPrice: '1000000',
                tickSize: str(m.precision.price),
              },
              {
                filterType: 'LOT_SIZE',
                minQty: str(m.limits.amount.min),
                maxQty: '9000',
                stepSize: str(m.precision.amount),
              },
              {
                filterType: 'NOTIONAL',
                minNotional: str(m.limits.cost.min),
                applyMinToMarket: true,
                maxNotional: '9000000',
                applyMaxToMarket: false,
                avgPriceMins: 5,
              },
            ],
            permissions: [],
            permissionSets: [['SPOT']],
            defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
            allowedSelfTradePreventionModes: ['EXPIRE_MAKER'],
          })),
        };
      case 'GET /api/v3/ticker/bookTicker':
        return this.bookTickers(v, p);
      case 'GET /api/v3/depth':
        return this.depth(v, p.symbol);
      case 'POST /api/v3/order':
        return this.place(v, p, res, 'spot');
      case 'GET /api/v3/order':
        return this.spotOrder(this.find(v, p));
      case 'DELETE /api/v3/order':
        return this.spotOrder(this.cancel(v, p));
      case 'GET /api/v3/openOrders':
        return v
          .fetchOpenOrders(p.symbol ? this.venueMarket(v, p.symbol).symbol : undefined)
          .map((o) => this.spotOrder(o));
      case 'GET /api/v3/myTrades': {
        const m = this.venueMarket(v, p.symbol);
        return this.fills(v, m, p).map((f) => ({
          symbol: m.id,
          id: tradeNo(f.id),
          orderId: Number(f.orderId),
          orderListId: -1,
          price: str(f.price),
          qty: str(f.amount),
          quoteQty: str(f.cost),
          commission: str(f.fee.cost),
          commissionAsset: f.fee.currency,
          time: f.timestamp,
          isBuyer: f.side === 'buy',
          isMaker: f.takerOrMaker === 'maker',
          isBestMatch: true,
        }));
      }
      case 'GET /api/v3/account':
        return {
          makerCommission: 10,
          takerCommission: 10,
          canTrade: true,
          canWithdraw: true,
          canDeposit: true,
          updateTime: this.opts.clock.now(),
          accountType: 'SPOT',
          balances: Object.entries(v.balances()).map(([asset, b]) => ({
            asset,
            free: str(b.free),
            locked: str(b.used),
          })),
          permissions: ['SPOT'],
        };
      case 'POST /api/v3/userDataStream':
        return { listenKey: this.newListenKey() };
      case 'PUT /api/v3/userDataStream':
      case 'DELETE /api/v3/userDataStream':
        return {};
      default:
        throw new BinanceError(404, -1000, `fake Binance has no ${key} (spot)`);
    }
  }

  private futuresRoute(key: string, p: Record<string, string>, res: ServerResponse): unknown {
    const v = this.futures;
    const now = this.opts.clock.now();
    switch (key) {
      case 'GET /fapi/v1/ping':
        return {};
      case 'GET /fapi/v1/time':
        return { serverTime: now };
      case 'GET /fapi/v1/exchangeInfo':
        return {
          timezone: 'UTC',
          serverTime: now,
          futuresType: 'U_MARGINED',
          rateLimits: [],
          exchangeFilters: [],
          assets: [{ asset: 'USDT', marginAvailable: true, autoAssetExchange: '-10000' }],
          symbols: v.listMarkets().map((m) => ({
            symbol: m.id,
            pair: m.id,
            contractType: 'PERPETUAL',
            deliveryDate: 4133404800000,
            onboardDate: 1569398400000,
            status: 'TRADING',
            maintMarginPercent: '2.5000',
            requiredMarginPercent: '5.0000',
            baseAsset: m.base,
            quoteAsset: m.quote,
            marginAsset: 'USDT',
            pricePrecision: 2,
            quantityPrecision: 3,
            baseAssetPrecision: 8,
            quotePrecision: 8,
            underlyingType: 'COIN',
            underlyingSubType: [],
            settlePlan: 0,
            triggerProtect: '0.0500',
            liquidationFee: '0.012500',
            marketTakeBound: '0.05',
            maxMoveOrderLimit: 10000,
            filters: [
              {
                filterType: 'PRICE_FILTER',
                minPrice: str(m.precision.price),
                maxPrice: '4529764',
                tickSize: str(m.precision.price),
              },
              {
                filterType: 'LOT_SIZE',
                minQty: str(m.limits.amount.min),
                maxQty: '1000',
                stepSize: str(m.precision.amount),
              },
              {
                filterType: 'MARKET_LOT_SIZE',
                minQty: str(m.limits.amount.min),
                maxQty: '120',
                stepSize: str(m.precision.amount),
              },
              { filterType: 'MAX_NUM_ORDERS', limit: 200 },
              { filterType: 'MIN_NOTIONAL', notional: str(m.limits.cost.min) },
              {
                filterType: 'PERCENT_PRICE',
                multiplierUp: '1.0500',
                multiplierDown: '0.9500',
                multiplierDecimal: '4',
              },
            ],
            orderTypes: [
              'LIMIT',
              'MARKET',
              'STOP',
              'STOP_MARKET',
              'TAKE_PROFIT',
              'TAKE_PROFIT_MARKET',
              'TRAILING_STOP_MARKET',
            ],
            timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
          })),
        };
      case 'GET /fapi/v1/ticker/bookTicker':
        return this.bookTickers(v, p);
      case 'GET /fapi/v1/depth':
        return this.depth(v, p.symbol);
      case 'GET /fapi/v1/premiumIndex': {
        const m = this.venueMarket(v, p.symbol);
        const f = v.fundingRate(m.symbol);
        const mark = v.mark(m.symbol);
        return {
          symbol: m.id,
          markPrice: str(mark),
          indexPrice: str(mark),
          estimatedSettlePrice: str(mark),
          lastFundingRate: str(f.rate),
          interestRate: '0.00010000',
          nextFundingTime: f.nextFundingTimestamp,
          time: now,
        };
      }
      case 'POST /fapi/v1/leverage': {
        const m = this.venueMarket(v, p.symbol);
        v.setLeverage(m.symbol, Number(p.leverage));
        return { leverage: Number(p.leverage), maxNotionalValue: '1000000', symbol: m.id };
      }
      case 'GET /fapi/v1/leverageBracket':
        return v
          .listMarkets()
          .filter((m) => !p.symbol || m.id === p.symbol)
          .map((m) => ({
            symbol: m.id,
            notionalCoef: 1,
            brackets: [
              {
                bracket: 1,
                initialLeverage: 50,
                notionalCap: 1_000_000_000,
                notionalFloor: 0,
                maintMarginRatio: m.maintenanceMarginRate ?? 0.005,
                cum: 0,
              },
            ],
          }));
      case 'POST /fapi/v1/marginType':
        if (p.marginType !== 'CROSSED') throw new BinanceError(400, -4046, 'only cross margin in the fake');
        return { code: 200, msg: 'success' };
      case 'POST /fapi/v1/order':
        return this.place(v, p, res, 'futures');
      case 'GET /fapi/v1/order':
        return this.futuresOrder(this.find(v, p));
      case 'DELETE /fapi/v1/order':
        return this.futuresOrder(this.cancel(v, p));
      case 'GET /fapi/v1/openOrders':
        return v
          .fetchOpenOrders(p.symbol ? this.venueMarket(v, p.symbol).symbol : undefined)
          .map((o) => this.futuresOrder(o));
      case 'GET /fapi/v1/userTrades': {
        const m = this.venueMarket(v, p.symbol);
        return this.fills(v, m, p).map((f) => ({
          buyer: f.side === 'buy',
          commission: str(f.fee.cost),
          commissionAsset: f.fee.currency,
          id: tradeNo(f.id),
          maker: f.takerOrMaker === 'maker',
          orderId: Number(f.orderId),
          price: str(f.price),
          qty: str(f.amount),
          quoteQty: str(f.cost),
          realizedPnl: '0',
          side: f.side.toUpperCase(),
          positionSide: 'BOTH',
          symbol: m.id,
          time: f.timestamp,
        }));
      }
      case 'GET /fapi/v1/income':
        return v.listMarkets().flatMap((m) =>
          (p.symbol && p.symbol !== m.id ? [] : v.fundingPayments(m.symbol, Number(p.startTime ?? 0))).map(
            (f) => ({
              symbol: m.id,
              incomeType: 'FUNDING_FEE',
              income: str(f.amount),
              asset: 'USDT',
              info: '',
              time: f.timestamp,
              tranId: tradeNo(f.id),
              tradeId: '',
            }),
          ),
        );
      case 'GET /fapi/v2/account':
      case 'GET /fapi/v3/account': {
        const b = v.balances().USDT ?? { free: 0, used: 0, total: 0 };
        const positions = v.positions();
        const upnl = positions.reduce((s, x) => s + x.unrealizedPnl, 0);
        return {
          feeTier: 0,
          canTrade: true,
          totalInitialMargin: str(b.used),
          totalMaintMargin: '0',
          totalWalletBalance: str(b.total),
          totalUnrealizedProfit: str(upnl),
          totalMarginBalance: str(b.total + upnl),
          availableBalance: str(b.free),
          maxWithdrawAmount: str(b.free),
          assets: [
            {
              asset: 'USDT',
              walletBalance: str(b.total),
              unrealizedProfit: str(upnl),
              marginBalance: str(b.total + upnl),
              maintMargin: '0',
              initialMargin: str(b.used),
              positionInitialMargin: str(b.used),
              openOrderInitialMargin: '0',
              crossWalletBalance: str(b.total),
              crossUnPnl: str(upnl),
              availableBalance: str(b.free),
              maxWithdrawAmount: str(b.free),
              updateTime: now,
            },
          ],
          positions: positions.map((x) => this.positionRow(x)),
        };
      }
      case 'GET /fapi/v2/positionRisk':
      case 'GET /fapi/v3/positionRisk': {
        const symbols = p.symbol ? [this.venueMarket(v, p.symbol).symbol] : undefined;
        return v.positions(symbols).map((x) => this.positionRow(x));
      }
      case 'POST /fapi/v1/listenKey':
        return { listenKey: this.newListenKey() };
      case 'PUT /fapi/v1/listenKey':
      case 'DELETE /fapi/v1/listenKey':
        return {};
      default:
        throw new BinanceError(404, -1000, `fake Binance has no ${key} (futures)`);
    }
  }

  private positionRow(x: ReturnType<SimVenue['positions']>[number]) {
    const m = this.futures.market(x.symbol);
    return {
      symbol: m.id,
      positionSide: 'BOTH',
      positionAmt: str(x.size),
      entryPrice: str(x.entryPrice),
      breakEvenPrice: str(x.entryPrice),
      markPrice: str(x.markPrice),
      unRealizedProfit: str(x.unrealizedPnl),
      unrealizedProfit: str(x.unrealizedPnl),
      liquidationPrice: str(x.liquidationPrice ?? 0),
      leverage: String(x.leverage),
      marginType: 'cross',
      isolatedMargin: '0',
      isAutoAddMargin: 'false',
      notional: str(x.size * x.markPrice),
      marginAsset: 'USDT',
      isolatedWallet: '0',
      initialMargin: str(x.initialMargin),
      maintMargin: str(x.maintenanceMargin),
      positionInitialMargin: str(x.initialMargin),
      openOrderInitialMargin: '0',
      adl: 0,
      bidNotional: '0',
      askNotional: '0',
      updateTime: x.timestamp,
    };
  }

  /** `symbol=X` → one; `symbols=["X","Y"]` or nothing → a list (Binance's three forms). */
  private bookTickers(v: SimVenue, p: Record<string, string>) {
    if (p.symbol) return this.bookTicker(v, p.symbol);
    const ids = p.symbols ? (JSON.parse(p.symbols) as string[]) : v.listMarkets().map((m) => m.id);
    return ids.map((id) => this.bookTicker(v, id));
  }

  private bookTicker(v: SimVenue, id: string | undefined) {
    const m = this.venueMarket(v, id);
    const t = v.ticker(m.symbol);
    return {
      symbol: m.id,
      bidPrice: str(t?.bid),
      bidQty: str(t?.bidSize),
      askPrice: str(t?.ask),
      askQty: str(t?.askSize),
      time: t?.timestamp ?? this.opts.clock.now(),
    };
  }

  private depth(v: SimVenue, id: string | undefined) {
    const m = this.venueMarket(v, id);
    const t = v.ticker(m.symbol);
    return {
      lastUpdateId: this.nextUpdateId++,
      E: this.opts.clock.now(),
      T: this.opts.clock.now(),
      bids: t ? [[str(t.bid), str(t.bidSize)]] : [],
      asks: t ? [[str(t.ask), str(t.askSize)]] : [],
    };
  }

  // ── orders ──────────────────────────────────────────────────────────────────────────────────

  private place(
    v: SimVenue,
    p: Record<string, string>,
    res: ServerResponse,
    kind: 'spot' | 'futures',
  ): unknown {
    const m = this.venueMarket(v, p.symbol);
    const type = p.type;
    if (type !== 'MARKET' && type !== 'LIMIT' && type !== 'LIMIT_MAKER')
      throw new BinanceError(400, -1116, 'Invalid orderType.');
    const tif: TimeInForce | undefined =
      type === 'LIMIT_MAKER' || p.timeInForce === 'GTX'
        ? 'PO'
        : p.timeInForce === 'IOC' || p.timeInForce === 'FOK'
          ? p.timeInForce
          : type === 'LIMIT'
            ? 'GTC'
            : undefined;
    if (!p.newClientOrderId)
      throw new BinanceError(400, -1102, "Mandatory parameter 'newClientOrderId' was not sent.");
    const req: OrderRequest = {
      symbol: m.symbol,
      side: p.side === 'BUY' ? 'buy' : 'sell',
      type: type === 'MARKET' ? 'market' : 'limit',
      amount: Number(p.quantity),
      clientOrderId: p.newClientOrderId,
      ...(p.price !== undefined ? { price: Number(p.price) } : {}),
      ...(tif ? { timeInForce: tif } : {}),
      ...(p.reduceOnly === 'true' ? { reduceOnly: true } : {}),
    };
    let order: Order;
    try {
      order = v.placeOrder(req);
    } catch (e) {
      throw this.translate(e as Error, kind);
    }
    return this.answerPlacement(res, () => this.placementAnswer(order, p, kind));
  }

  /** `newOrderRespType=ACK` (or the ackOnly fault): ids only; otherwise the order (spot: with its fills). */
  private placementAnswer(order: Order, p: Record<string, string>, kind: 'spot' | 'futures'): unknown {
    if (this.takeAckOnly() || p.newOrderRespType === 'ACK') {
      return kind === 'spot'
        ? {
            symbol: p.symbol,
            orderId: Number(order.id),
            orderListId: -1,
            clientOrderId: order.clientOrderId,
            transactTime: order.timestamp,
          }
        : {
            orderId: Number(order.id),
            symbol: p.symbol,
            clientOrderId: order.clientOrderId,
            updateTime: order.timestamp,
          };
    }
    return kind === 'spot'
      ? { ...this.spotOrder(order), transactTime: order.timestamp, fills: this.spotFills(order) }
      : this.futuresOrder(order);
  }

  private translate(e: Error, kind: 'spot' | 'futures'): BinanceError {
    switch (e.name) {
      case 'DuplicateClientOrderId':
        return kind === 'spot'
          ? new BinanceError(400, -2010, 'Duplicate order sent.')
          : new BinanceError(400, -4116, 'ClientOrderId is duplicated.');
      case 'InsufficientFunds':
        return kind === 'spot'
          ? new BinanceError(400, -2010, 'Account has insufficient balance for requested action.')
          : new BinanceError(400, -2019, 'Margin is insufficient.');
      case 'OrderImmediatelyFillable':
        return kind === 'spot'
          ? new BinanceError(400, -2010, 'Order would immediately match and take.')
          : new BinanceError(
              400,
              -5022,
              'Due to the order could not be executed as maker, the Post Only order will be rejected.',
            );
      case 'InvalidOrder':
        return new BinanceError(400, -1013, `Filter failure: ${e.message}`);
      default:
        return new BinanceError(400, -1000, e.message);
    }
  }

  private find(v: SimVenue, p: Record<string, string>): Order {
    try {
      return p.origClientOrderId
        ? v.fetchOrder({ clientOrderId: p.origClientOrderId })
        : v.fetchOrder({ id: String(p.orderId) });
    } catch {
      throw new BinanceError(400, -2013, 'Order does not exist.');
    }
  }

  private cancel(v: SimVenue, p: Record<string, string>): Order {
    const o = this.find(v, p);
    if (o.status !== 'open') throw new BinanceError(400, -2011, 'Unknown order sent.');
    return v.cancelOrder({ id: o.id });
  }

  private fills(v: SimVenue, m: Market, p: Record<string, string>): Fill[] {
    const orders = v
      .allOrders()
      .filter((o) => o.symbol === m.symbol && (!p.orderId || o.id === String(p.orderId)));
    return orders.flatMap((o) => o.trades).filter((f) => f.timestamp >= Number(p.startTime ?? 0));
  }

  private spotFills(o: Order) {
    return o.trades.map((f) => ({
      price: str(f.price),
      qty: str(f.amount),
      commission: str(f.fee.cost),
      commissionAsset: f.fee.currency,
      tradeId: tradeNo(f.id),
    }));
  }

  private spotOrder(o: Order) {
    const m = this.spot.market(o.symbol);
    return {
      symbol: m.id,
      orderId: Number(o.id),
      orderListId: -1,
      clientOrderId: o.clientOrderId,
      price: str(o.price ?? 0),
      origQty: str(o.amount),
      executedQty: str(o.filled),
      cummulativeQuoteQty: str(o.cost),
      status: binanceStatus(o),
      timeInForce: o.timeInForce === 'PO' ? 'GTC' : o.timeInForce,
      type: o.type === 'market' ? 'MARKET' : o.timeInForce === 'PO' ? 'LIMIT_MAKER' : 'LIMIT',
      side: o.side.toUpperCase(),
      stopPrice: '0',
      icebergQty: '0',
      time: o.timestamp,
      updateTime: o.lastUpdateTimestamp,
      isWorking: true,
      workingTime: o.timestamp,
      origQuoteOrderQty: '0',
      selfTradePreventionMode: 'EXPIRE_MAKER',
    };
  }

  private futuresOrder(o: Order) {
    const m = this.futures.market(o.symbol);
    return {
      orderId: Number(o.id),
      symbol: m.id,
      status: binanceStatus(o),
      clientOrderId: o.clientOrderId,
      price: str(o.price ?? 0),
      avgPrice: str(o.average ?? 0),
      origQty: str(o.amount),
      executedQty: str(o.filled),
      cumQty: str(o.filled),
      cumQuote: str(o.cost),
      timeInForce: o.timeInForce === 'PO' ? 'GTX' : o.type === 'market' ? 'GTC' : o.timeInForce,
      type: o.type === 'market' ? 'MARKET' : 'LIMIT',
      reduceOnly: o.reduceOnly,
      closePosition: false,
      side: o.side.toUpperCase(),
      positionSide: 'BOTH',
      stopPrice: '0',
      workingType: 'CONTRACT_PRICE',
      priceProtect: false,
      origType: o.type === 'market' ? 'MARKET' : 'LIMIT',
      priceMatch: 'NONE',
      selfTradePreventionMode: 'NONE',
      goodTillDate: 0,
      time: o.timestamp,
      updateTime: o.lastUpdateTimestamp,
    };
  }

  private newListenKey(): string {
    const k = `lk${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    this.listenKeys.add(k);
    return k;
  }

  // ── websockets ──────────────────────────────────────────────────────────────────────────────

  private readonly subs = new Map<
    WebSocket,
    { kind: 'market' | 'user' | 'wsapi'; host: string; streams: Set<string> }
  >();

  protected onSocket(ws: WebSocket, host: string, fullPath: string, query: URLSearchParams): void {
    const path = fullPath.slice(1);
    ws.on('close', () => this.subs.delete(ws));
    if (path.startsWith('ws-api/')) {
      this.subs.set(ws, { kind: 'wsapi', host, streams: new Set() });
      ws.on('message', (d) => this.onWsApi(ws, String(d)));
      return;
    }
    const listenKey = path.startsWith('ws/') ? path.slice(3) : (query.get('listenKey') ?? '');
    if (listenKey && this.listenKeys.has(listenKey)) {
      this.subs.set(ws, { kind: 'user', host, streams: new Set() });
      return;
    }
    this.subs.set(ws, { kind: 'market', host, streams: new Set() });
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { method: string; params?: string[]; id: number };
      const s = this.subs.get(ws)!;
      if (m.method === 'SUBSCRIBE') for (const p of m.params ?? []) s.streams.add(p);
      if (m.method === 'UNSUBSCRIBE') for (const p of m.params ?? []) s.streams.delete(p);
      ws.send(JSON.stringify({ result: null, id: m.id }));
    });
  }

  /** Spot user data through the WebSocket API: `userDataStream.subscribe.signature`. */
  private onWsApi(ws: WebSocket, text: string): void {
    const m = JSON.parse(text) as { id: string; method: string; params?: Record<string, string | number> };
    const reply = (status: number, body: object) => ws.send(JSON.stringify({ id: m.id, status, ...body }));
    if (m.method !== 'userDataStream.subscribe.signature') {
      reply(400, { error: { code: -1000, msg: `fake Binance has no ws-api method ${m.method}` } });
      return;
    }
    const params = { ...(m.params ?? {}) };
    const signature = String(params.signature ?? '');
    delete params.signature;
    const payload = Object.keys(params)
      .sort()
      .map((k) => `${k}=${params[k]}`)
      .join('&');
    const expected = createHmac('sha256', this.opts.secret).update(payload).digest('hex');
    if (params.apiKey !== this.opts.apiKey || signature !== expected) {
      reply(401, { error: { code: -1022, msg: 'Signature for this request is not valid.' } });
      return;
    }
    this.subs.get(ws)!.streams.add('user:spot');
    reply(200, { result: { subscriptionId: 0 } });
  }

  private send(
    kind: 'market' | 'user' | 'wsapi',
    host: (h: string) => boolean,
    stream: string | undefined,
    msg: object,
  ): void {
    const text = JSON.stringify(msg);
    for (const [ws, s] of this.subs)
      if (
        s.kind === kind &&
        host(s.host) &&
        (stream === undefined || s.streams.has(stream)) &&
        ws.readyState === ws.OPEN
      )
        ws.send(text);
  }

  private pushBook(kind: 'spot' | 'futures', m: Market, t: BookTicker): void {
    const stream = `${m.id.toLowerCase()}@bookTicker`;
    const u = this.nextUpdateId++;
    if (kind === 'spot')
      this.send('market', (h) => h.startsWith('stream.binance'), stream, {
        u,
        s: m.id,
        b: str(t.bid),
        B: str(t.bidSize),
        a: str(t.ask),
        A: str(t.askSize),
      });
    else
      this.send('market', (h) => h === 'fstream.binance.com', stream, {
        e: 'bookTicker',
        u,
        s: m.id,
        b: str(t.bid),
        B: str(t.bidSize),
        a: str(t.ask),
        A: str(t.askSize),
        T: t.timestamp,
        E: t.timestamp,
      });
  }

  private pushOrder(kind: 'spot' | 'futures', o: Order): void {
    const last = o.trades.at(-1);
    const justFilled = last !== undefined && last.timestamp === o.lastUpdateTimestamp;
    const now = this.opts.clock.now();
    if (kind === 'spot') {
      const m = this.spot.market(o.symbol);
      const s = this.spotOrder(o);
      this.send('wsapi', () => true, 'user:spot', {
        subscriptionId: 0,
        event: {
          e: 'executionReport',
          E: now,
          s: m.id,
          c: o.clientOrderId,
          S: s.side,
          o: s.type,
          f: s.timeInForce,
          q: s.origQty,
          p: s.price,
          P: '0',
          F: '0',
          g: -1,
          C: '',
          x: justFilled
            ? 'TRADE'
            : s.status === 'NEW'
              ? 'NEW'
              : s.status === 'CANCELED'
                ? 'CANCELED'
                : 'EXPIRED',
          X: s.status,
          r: 'NONE',
          i: Number(o.id),
          l: str(justFilled ? last.amount : 0),
          z: str(o.filled),
          L: str(justFilled ? last.price : 0),
          n: str(justFilled ? last.fee.cost : 0),
          N: justFilled ? last.fee.currency : null,
          T: o.lastUpdateTimestamp,
          t: justFilled ? tradeNo(last.id) : -1,
          I: 0,
          w: o.status === 'open',
          m: justFilled ? last.takerOrMaker === 'maker' : false,
          M: false,
          O: o.timestamp,
          Z: str(o.cost),
          Y: str(justFilled ? last.cost : 0),
          Q: '0',
          W: o.timestamp,
          V: 'EXPIRE_MAKER',
        },
      });
      return;
    }
    const m = this.futures.market(o.symbol);
    const f = this.futuresOrder(o);
    this.send('user', (h) => h === 'fstream.binance.com', undefined, {
      e: 'ORDER_TRADE_UPDATE',
      E: now,
      T: now,
      o: {
        s: m.id,
        c: o.clientOrderId,
        S: f.side,
        o: f.type,
        f: f.timeInForce,
        q: f.origQty,
        p: f.price,
        ap: f.avgPrice,
        sp: '0',
        x: justFilled
          ? 'TRADE'
          : f.status === 'NEW'
            ? 'NEW'
            : f.status === 'CANCELED'
              ? 'CANCELED'
              : 'EXPIRED',
        X: f.status,
        i: Number(o.id),
        l: str(justFilled ? last.amount : 0),
        z: str(o.filled),
        L: str(justFilled ? last.price : 0),
        N: justFilled ? last.fee.currency : 'USDT',
        n: str(justFilled ? last.fee.cost : 0),
        T: o.lastUpdateTimestamp,
        t: justFilled ? tradeNo(last.id) : 0,
        b: '0',
        a: '0',
        m: justFilled ? last.takerOrMaker === 'maker' : false,
        R: o.reduceOnly,
        wt: 'CONTRACT_PRICE',
        ot: f.origType,
        ps: 'BOTH',
        cp: false,
        rp: '0',
        pP: false,
        si: 0,
        ss: 0,
        V: 'NONE',
        pm: 'NONE',
        gtd: 0,
      },
    });
  }
  /**
   * A liquidation or auto-deleveraging as Binance's USDⓈ-M user stream reports it: an
   * ORDER_TRADE_UPDATE of an order the venue placed itself — client id `autoclose-<ts>` and
   * order type LIQUIDATION with execution type CALCULATED for a liquidation, `adl_autoclose` for
   * ADL — filled at once.
   */
  private pushVenueClose(e: Extract<VenueEvent, { type: 'liquidation' | 'adl' }>): void {
    const m = this.futures.market(e.symbol);
    const f = e.fill;
    const liquidation = e.type === 'liquidation';
    this.send('user', (h) => h === 'fstream.binance.com', undefined, {
      e: 'ORDER_TRADE_UPDATE',
      E: f.timestamp,
      T: f.timestamp,
      o: {
        s: m.id,
        c: liquidation ? `autoclose-${f.timestamp}` : 'adl_autoclose',
        S: f.side.toUpperCase(),
        o: liquidation ? 'LIQUIDATION' : 'MARKET',
        f: 'IOC',
        q: str(f.amount),
        p: str(f.price),
        ap: str(f.price),
        sp: '0',
        x: liquidation ? 'CALCULATED' : 'TRADE',
        X: 'FILLED',
        i: 9_000_000 + tradeNo(f.id),
        l: str(f.amount),
        z: str(f.amount),
        L: str(f.price),
        N: f.fee.currency,
        n: str(f.fee.cost),
        T: f.timestamp,
        t: tradeNo(f.id),
        b: '0',
        a: '0',
        m: false,
        R: true,
        wt: 'CONTRACT_PRICE',
        ot: liquidation ? 'LIQUIDATION' : 'MARKET',
        ps: 'BOTH',
        cp: false,
        rp: '0',
        pP: false,
        si: 0,
        ss: 0,
        V: 'NONE',
        pm: 'NONE',
        gtd: 0,
      },
    });
  }
}
