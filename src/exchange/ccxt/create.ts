/**
 * A configured ccxt pro instance for one venue: keys from the environment only, testnet or demo
 * trading, the options statearb relies on, and the account's shared request budget.
 */
import { createHash } from 'node:crypto';
import ccxt, { type Exchange } from 'ccxt';
import { type CcxtClientLogger, CcxtExchangeClient } from './client.ts';
import { rateBudget } from './rate-budget.ts';
import { renamedExchange, venueProfile } from './venues.ts';

export interface CcxtVenueSpec {
  /** statearb's venue name. */
  name: string;
  /** ccxt exchange id (binance, binanceusdm, bybit, okx…). */
  exchange: string;
  sandbox: boolean;
  demo: boolean;
  /** Accounts sharing one request budget (default: the exchange id and key). */
  account?: string | undefined;
  credentials: {
    apiKey: string | undefined;
    secret: string | undefined;
    password?: string | undefined;
    /** The account's user id, where a venue's private streams need it (Gate). */
    uid?: string | undefined;
  };
  /** ccxt markets from an earlier loadMarkets (e.g. cached on disk): no exchangeInfo request at start. */
  markets?: Record<string, unknown>;
  /** Tests: send every request and websocket to another host (a local fake exchange). */
  rewriteUrl?: (url: string) => string;
  streamStaleMs?: number;
  logger?: CcxtClientLogger;
  /** Quote-currency prices of fee assets (BNB); default: asked of the venue. */
  assetPrices?: Record<string, number> | undefined;
}

/** Replace every URL string under `urls` (nested) with `rewrite(url)`. */
function rewriteUrls(node: Record<string, unknown>, rewrite: (u: string) => string): void {
  for (const [k, v] of Object.entries(node)) {
    if (typeof v === 'string' && /^(https?|wss?):\/\//.test(v)) node[k] = rewrite(v);
    else if (v && typeof v === 'object') rewriteUrls(v as Record<string, unknown>, rewrite);
  }
}

export function knownCcxtExchange(id: string): boolean {
  return typeof (ccxt.pro as unknown as Record<string, unknown>)[id] === 'function';
}

export function createCcxtClient(spec: CcxtVenueSpec): CcxtExchangeClient {
  const Cls = (ccxt.pro as unknown as Record<string, new (config: object) => Exchange>)[spec.exchange];
  if (!Cls) {
    const renamed = renamedExchange(spec.exchange);
    throw new Error(
      `venues.${spec.name}.exchange: ccxt has no websocket-capable exchange "${spec.exchange}"${renamed ? ` (ccxt names it "${renamed}")` : ''}`,
    );
  }
  const profile = venueProfile(spec.exchange);
  if (spec.sandbox && !spec.demo && !profile.sandbox)
    throw new Error(
      `venues.${spec.name}.sandbox: ${spec.exchange} has no testnet (ccxt would send every request nowhere); set sandbox: false to trade the live venue, or trade on paper`,
    );
  const ex = new Cls({
    apiKey: spec.credentials.apiKey,
    secret: spec.credentials.secret,
    ...(spec.credentials.password ? { password: spec.credentials.password } : {}),
    ...(spec.credentials.uid ? { uid: spec.credentials.uid } : {}),
    enableRateLimit: true,
    options: profile.options,
    ...(profile.has ? { has: profile.has } : {}),
    // Ping every 5 s and give up after two missed pongs: a dead socket is seen in seconds.
    streaming: { keepAlive: 5_000, maxPingPongMisses: 2 },
  });
  // Binance futures moved from a testnet to demo trading; ccxt refuses the old sandbox there.
  if (spec.demo) (ex as unknown as { enableDemoTrading(on: boolean): void }).enableDemoTrading(true);
  else if (spec.sandbox) ex.setSandboxMode(true);
  if (spec.rewriteUrl) rewriteUrls(ex.urls as unknown as Record<string, unknown>, spec.rewriteUrl);
  // ccxt's MEXC loads its swaps whatever the options say, and then polls and streams them too.
  if (profile.spotOnly)
    (ex as unknown as { fetchSwapMarkets: () => Promise<unknown[]> }).fetchSwapMarkets = async () => [];
  if (spec.markets) ex.setMarkets(spec.markets as never);
  // Default account: the exchange family and (a digest of) the key — spot and USD-M on one key share.
  const keyDigest = createHash('sha256')
    .update(spec.credentials.apiKey ?? '')
    .digest('hex')
    .slice(0, 12);
  const budget = rateBudget(spec.account ?? `${spec.exchange.replace(/usdm$|coinm$/, '')}:${keyDigest}`);
  budget.join(ex);
  return new CcxtExchangeClient({
    venue: spec.name,
    exchange: ex,
    profile,
    budget,
    plainWebsockets: Boolean(spec.rewriteUrl),
    ...(spec.streamStaleMs !== undefined ? { streamStaleMs: spec.streamStaleMs } : {}),
    ...(spec.logger ? { logger: spec.logger } : {}),
    ...(spec.assetPrices ? { assetPrices: spec.assetPrices } : {}),
  });
}
