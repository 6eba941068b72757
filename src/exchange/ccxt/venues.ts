/**
 * What each venue's API does about orders, written once per venue and consulted by the adapter
 * (how to read an answer, how to find and cancel by client id) and, through the port's
 * VenueCapabilities, by the order path (whether a lost order may be re-sent). Where a venue's
 * documentation is unclear the safe reading is taken, and it is one field here.
 *
 * Every profile here is proven against a local fake (PROVEN_EXCHANGES below): Binance spot and
 * USD-M (test/support/fake-binance.ts), Gate spot and USDT perpetuals, MEXC spot, Bybit's unified
 * and OKX's trading account (test/support/fake-exchange/). An exchange without one gets UNKNOWN,
 * the safest reading, and a warning at start.
 */
import type { VenueCapabilities } from '../port.ts';

export interface CcxtVenueProfile {
  capabilities: VenueCapabilities;
  /**
   * A new order (or cancel) is answered with its state ('full') or with ids only ('ack': MEXC
   * spot, Bybit v5, OKX v5) — then the adapter fetches the state before answering. An answer
   * without a status is read as ids only on every venue, whatever this says.
   */
  placeAnswer: 'full' | 'ack';
  /** The exchange has a testnet ccxt can switch to (setSandboxMode); MEXC has none. */
  sandbox: boolean;
  /** ccxt options: only the market types statearb trades, no currency or margin endpoints. */
  options: Record<string, unknown>;
  /**
   * Credentials a venue needs besides key and secret, each with why: the account's user id
   * (`<PREFIX>_UID`: Gate) or the key's passphrase (`<PREFIX>_PASSWORD`: OKX).
   */
  needs?: { uid?: string; password?: string };
  /** ccxt capability flags to switch off (Gate: fetchCurrencies, which the options cannot). */
  has?: Record<string, boolean>;
  /**
   * What the venue puts before a client id and echoes back (Gate's `t-`): stripped from every
   * answer; a cancel by client id names the order by it (ccxt would send `orders/undefined`).
   */
  clientIdPrefix?: string;
  /**
   * A finished order is found by client id (false: Gate spot, and Gate futures a minute after it
   * ended): then the adapter searches the venue's finished orders for the id.
   */
  findsFinishedByClientId: boolean;
  /** Spot and derivatives are separate wallets (Binance, Gate): the balance is one read per type. */
  walletPerType: boolean;
  /** A spot market buy is sized in quote (Gate): the adapter gives ccxt the ask to convert at. */
  marketBuyInQuote?: boolean;
  /** The trade-history filter by order id, as the venue names it. */
  tradesOrderParam: string;
  /** The parameter that names an order by client id in a lookup or cancel (ccxt translates it on some venues only). */
  clientIdParam: string;
  /**
   * How an order is looked up by client id: ccxt's fetchOrder, or (Bybit) the venue's list of
   * open and latest finished orders (ccxt's fetchOpenOrders: /order/realtime) filtered by the id
   * — ccxt's Bybit fetchOrder throws a TypeError where the venue finds none.
   */
  lookupByClientId?: 'fetchOrder' | 'recentOrdersList';
  /** The most trades one request may ask for, where the venue's default page is small (Bybit: 50 of 100). */
  tradesPage?: number;
  /**
   * The venue's funding history answers at most this span from `since` (Bybit: 7 days): an
   * older `since` is moved up, and the history is read page by page (ccxt's paginate).
   */
  fundingHistoryWindowMs?: number;
  /**
   * The venue's finished orders: ccxt's fetchClosedOrders, fetchOrders where that is all (MEXC
   * spot), or fetchCanceledAndClosedOrders where fetchClosedOrders lists the filled ones only
   * (Bybit: a cancelled order with fills would be missed).
   */
  finishedOrders?: 'fetchClosedOrders' | 'fetchOrders' | 'fetchCanceledAndClosedOrders';
  /** The venue's order history filters by `clientIdParam` (Bybit): one small page answers. */
  historyFiltersByClientId?: boolean;
  /** The most finished orders one request may ask for (Bybit: 50; otherwise 1,000). */
  finishedPage?: number;
  /**
   * One order stream carries every market type (Bybit's `order` topic, OKX's `orders` channel):
   * ccxt resolves one message for all, so one reader serves every type.
   */
  oneOrderStream?: boolean;
  /**
   * Every market type's open orders come in one list (OKX: ccxt's fetchOpenOrders ignores a
   * `type`, so one request per type would list each order once per type).
   */
  openOrdersInOneList?: boolean;
  /** Funding history is signed as a fee, positive when paid (Bybit's execFee): negated to "received". */
  fundingSignedAsFee?: boolean;
  /** The book from watchTicker (MEXC: ccxt's watchBidsAsks never resolves there, its ticker does). */
  bookFromTicker?: boolean;
  /** Load the spot markets only (ccxt's MEXC loads the swaps whatever its options say). */
  spotOnly?: boolean;
}

/** ccxt's own client-side request timeout (the adapter does not change it). */
const CCXT_TIMEOUT_MS = 10_000;

const common = { maxRetriesOnFailure: 0 };

/**
 * The longest the adapter holds an order between being asked to send it (its intent already
 * journalled) and handing it to ccxt: the account's rate budget, a price to size by. Held longer,
 * it is refused as not sent (RateLimitExceeded, outcome known).
 */
export const PRE_SEND_LIMIT_MS = 5_000;

/**
 * From its journal time a request is at most PRE_SEND_LIMIT_MS in the adapter, some time in
 * ccxt's throttle, then refused by the venue once older than its receive window (measured from
 * the signature's timestamp) or given up by ccxt after its timeout. After all that, with two
 * seconds for the throttle and clock skew, a request that did not land will not.
 */
const landing = (recvWindowMs: number) => PRE_SEND_LIMIT_MS + Math.max(recvWindowMs, CCXT_TIMEOUT_MS) + 2_000;

/** A venue that answers with the order's state, has a testnet, finds finished orders by client id. */
const profile = (
  p: Partial<CcxtVenueProfile> & Pick<CcxtVenueProfile, 'capabilities'>,
): CcxtVenueProfile => ({
  placeAnswer: 'full',
  sandbox: true,
  options: common,
  findsFinishedByClientId: true,
  walletPerType: false,
  tradesOrderParam: 'orderId',
  clientIdParam: 'clientOrderId',
  ...p,
});

const PROFILES: Record<string, CcxtVenueProfile> = {
  // Binance: newClientOrderId is unique among open orders only; a filled order stays findable.
  binance: profile({
    capabilities: { refusesReusedClientId: 'while-open', landingWindowMs: landing(10_000) },
    options: {
      ...common,
      fetchMarkets: ['spot', 'linear'],
      fetchCurrencies: false,
      fetchMargins: false,
      warnOnFetchOpenOrdersWithoutSymbol: false,
    },
    walletPerType: true,
  }),
  binanceusdm: profile({
    capabilities: { refusesReusedClientId: 'while-open', landingWindowMs: landing(10_000) },
    options: {
      ...common,
      fetchMarkets: ['linear'],
      fetchCurrencies: false,
      warnOnFetchOpenOrdersWithoutSymbol: false,
    },
  }),
  // MEXC spot answers a new order with ids only. Not documented, so read on the safe side: a
  // reused client id is not refused, and a finished order may not be found by it (its history is
  // searched). ccxt ignores fetchMarkets and fetchCurrencies options here: `has` and spotOnly.
  mexc: profile({
    capabilities: { refusesReusedClientId: 'never', landingWindowMs: landing(5_000) },
    placeAnswer: 'ack',
    sandbox: false,
    has: { fetchCurrencies: false },
    findsFinishedByClientId: false,
    finishedOrders: 'fetchOrders',
    bookFromTicker: true,
    spotOnly: true,
  }),
  // Gate: `text` is not refused when reused, and a request's Timestamp may be 60 s old. ccxt reads
  // fetchMarkets as { types }, swaps per settlement currency, and fetchCurrencies only from `has`.
  gate: profile({
    capabilities: { refusesReusedClientId: 'never', landingWindowMs: landing(60_000) },
    options: {
      ...common,
      fetchMarkets: { types: ['spot', 'swap'] },
      swap: { fetchMarkets: { settlementCurrencies: ['usdt'] } },
      unifiedAccount: false,
    },
    has: { fetchCurrencies: false },
    needs: { uid: 'its perpetual order stream subscribes by user id' },
    clientIdPrefix: 't-',
    findsFinishedByClientId: false,
    walletPerType: true,
    marketBuyInQuote: true,
    tradesOrderParam: 'order_id',
  }),
  // Bybit v5, unified trading account: answers with ids only; finds an order by orderLinkId while
  // it rests and among the category's last 500 finished ones (lost when Bybit restarts), after
  // that only in the order history. How long a reused orderLinkId is refused is not documented:
  // read as never. ccxt's fetchOrder needs `acknowledged`; knowing the account is unified spares
  // two requests per start, and fetchCurrencies is off only through `has`.
  bybit: profile({
    capabilities: { refusesReusedClientId: 'never', landingWindowMs: landing(5_000) },
    placeAnswer: 'ack',
    options: {
      ...common,
      fetchMarkets: { types: ['spot', 'linear'] },
      enableUnifiedAccount: true,
      enableUnifiedMargin: false,
      acknowledged: true,
    },
    has: { fetchCurrencies: false },
    clientIdParam: 'orderLinkId',
    lookupByClientId: 'recentOrdersList',
    findsFinishedByClientId: false,
    finishedOrders: 'fetchCanceledAndClosedOrders',
    historyFiltersByClientId: true,
    finishedPage: 50,
    tradesPage: 100,
    oneOrderStream: true,
    fundingSignedAsFee: true,
    fundingHistoryWindowMs: 7 * 86_400_000,
  }),
  // OKX v5, trading account: answers with ids only (to batch-orders, where ccxt sends a new
  // order); accepts a request whose timestamp is up to 30 s old; refuses a clOrdId only while
  // its order is live. Every order is found by clOrdId except a cancelled one that filled
  // nothing, after two hours — not finding that one loses nothing. One `orders` channel carries
  // every instType (ccxt subscribes it once), and orders-pending lists them all. Its fills
  // filter is `ordId`.
  okx: profile({
    capabilities: { refusesReusedClientId: 'never', landingWindowMs: landing(30_000) },
    placeAnswer: 'ack',
    options: { ...common, fetchMarkets: { types: ['spot', 'swap'] } },
    has: { fetchCurrencies: false },
    needs: { password: "every request is signed with the API key's passphrase too" },
    clientIdParam: 'clOrdId',
    tradesOrderParam: 'ordId',
    tradesPage: 100,
    oneOrderStream: true,
    openOrdersInOneList: true,
  }),
};

/** For an exchange with no profile: nothing assumed beyond what every venue does. */
const UNKNOWN: CcxtVenueProfile = profile({
  capabilities: { refusesReusedClientId: 'never', landingWindowMs: landing(60_000) },
  placeAnswer: 'ack',
  findsFinishedByClientId: false,
});

/** ccxt ids that are not exchange classes in ccxt 4.5, with the one to use instead. */
const RENAMED: Record<string, string> = { gateio: 'gate', huobi: 'htx', okex: 'okx' };

export function venueProfile(exchangeId: string): CcxtVenueProfile {
  return PROFILES[exchangeId] ?? UNKNOWN;
}

/** The ccxt id a config should name instead of `exchangeId`, when it names an old one. */
export function renamedExchange(exchangeId: string): string | undefined {
  return RENAMED[exchangeId];
}

/** Exchanges whose adapter keeps the contract against a local fake (test/exchange/venues.contract.test.ts). */
export const PROVEN_EXCHANGES: readonly string[] = ['binance', 'binanceusdm', 'bybit', 'gate', 'mexc', 'okx'];
