/**
 * The venues a config names, as ExchangeClients: in-process simulated venues (with their saved
 * paper state), remote simulated venues (`statearb venue`), and — for live trading — ccxt.
 */
import { join } from 'node:path';
import type { Clock } from '../clock/clock.ts';
import type { CcxtVenueConfig, Config, SimulatedVenueConfig } from '../config/schema.ts';
import type { CcxtExchangeClient } from '../exchange/ccxt/client.ts';
import { createCcxtClient, knownCcxtExchange } from '../exchange/ccxt/create.ts';
import { PROVEN_EXCHANGES, venueProfile } from '../exchange/ccxt/venues.ts';
import type { ExchangeClient } from '../exchange/port.ts';
import { RemoteExchangeClient } from '../exchange/sim/remote-client.ts';
import { createPaperVenues, type PaperVenueSpec, type PaperVenues } from '../paper/venues.ts';

/** A venue the config names that cannot be used as asked (no credentials, no --live …): exit code 2. */
export class VenueSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VenueSetupError';
  }
}

export interface Venues {
  clients: Record<string, ExchangeClient>;
  /** The in-process simulated venues, when the config has any. */
  paper: PaperVenues | undefined;
  close(): Promise<void>;
}

export function paperVenueSpec(name: string, v: SimulatedVenueConfig): PaperVenueSpec {
  const { timeoutRate, rejectRate, unavailableRate, orderQueryTimeoutRate, rateLimit, seed } = v.faults;
  return {
    name,
    balances: v.balances,
    latency: { requestMs: v.latencyMs, jitterMs: v.jitterMs, streamMs: v.streamLatencyMs },
    requestTimeoutMs: v.requestTimeoutMs,
    queueModel: v.queueModel,
    liquidity: v.liquidity,
    ...(v.fees ? { fees: v.fees } : {}),
    ...(v.collateral !== undefined
      ? { collateralHaircuts: v.collateral === 'settle-only' ? (false as const) : v.collateral }
      : {}),
    faults: {
      seed,
      rates: {
        timeoutBeforePlace: timeoutRate / 2,
        timeoutAfterPlace: timeoutRate / 2,
        reject: rejectRate,
        unavailable: unavailableRate,
        orderQueryTimeout: orderQueryTimeoutRate,
      },
      ...(rateLimit ? { rateLimit } : {}),
    },
  };
}

/** Names of the environment variables holding a ccxt venue's credentials. */
export function credentialEnv(
  name: string,
  v: CcxtVenueConfig,
): { apiKey: string; secret: string; password: string; uid: string } {
  const prefix = v.credentialsEnv ?? `ARB_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  return {
    apiKey: `${prefix}_API_KEY`,
    secret: `${prefix}_SECRET`,
    password: `${prefix}_PASSWORD`,
    uid: `${prefix}_UID`,
  };
}

export interface BuildVenuesOptions {
  clock: Clock;
  /** Save and resume the simulated venues' accounts here (paper trading across restarts). */
  statePath?: string;
  /** --live was given: ccxt venues may trade real money. */
  live: boolean;
  /** Where the ccxt adapter reports back-offs and skipped updates. */
  logger?: { warn(obj: object, msg: string): void };
  env?: NodeJS.ProcessEnv;
}

export function buildVenues(config: Config, opts: BuildVenuesOptions): Venues {
  const env = opts.env ?? process.env;
  const clients: Record<string, ExchangeClient> = {};
  const simulated: PaperVenueSpec[] = [];
  const remote: RemoteExchangeClient[] = [];
  const live: CcxtExchangeClient[] = [];
  for (const [name, v] of Object.entries(config.venues)) {
    if (v.type === 'simulated') simulated.push(paperVenueSpec(name, v));
    else if (v.type === 'remote') {
      const c = new RemoteExchangeClient({
        url: v.url,
        venue: v.venue ?? name,
        requestTimeoutMs: v.requestTimeoutMs,
        // A venue service bound beyond loopback asks for its token (secrets: environment only).
        ...(env.ARB_VENUE_TOKEN ? { token: env.ARB_VENUE_TOKEN } : {}),
      });
      remote.push(c);
      clients[name] = c;
    } else {
      if (config.mode !== 'live' || !opts.live)
        throw new VenueSetupError(
          `venues.${name}: a ccxt venue trades on a real exchange; it needs mode: live in the config and --live on the command line`,
        );
      const keys = credentialEnv(name, v);
      const needs = venueProfile(v.exchange).needs ?? {};
      const extra = (['uid', 'password'] as const).filter((k) => needs[k]);
      const missing = [keys.apiKey, keys.secret, ...extra.map((k) => keys[k])].filter((k) => !env[k]);
      const why = extra
        .filter((k) => missing.includes(keys[k]))
        .map((k) => ` (${v.exchange}: ${needs[k]})`)
        .join('');
      if (missing.length > 0)
        throw new VenueSetupError(
          `venues.${name}: credentials missing from the environment: ${missing.join(', ')}${why}`,
        );
      if (!knownCcxtExchange(v.exchange))
        throw new VenueSetupError(`venues.${name}: ccxt has no websocket-capable exchange "${v.exchange}"`);
      if (!PROVEN_EXCHANGES.includes(v.exchange))
        opts.logger?.warn(
          { venue: name, exchange: v.exchange },
          `${v.exchange} is not proven against a local fake (README: live venues through ccxt): lost orders, lookups by client id and streams may not behave as statearb expects`,
        );
      const c = createCcxtClient({
        name,
        exchange: v.exchange,
        sandbox: v.sandbox,
        demo: v.demo,
        account: v.account,
        credentials: {
          apiKey: env[keys.apiKey],
          secret: env[keys.secret],
          password: env[keys.password],
          uid: env[keys.uid],
        },
        ...(opts.logger ? { logger: opts.logger } : {}),
        ...(v.assetPrices ? { assetPrices: v.assetPrices } : {}),
      });
      live.push(c);
      clients[name] = c;
    }
  }
  const paper =
    simulated.length > 0
      ? createPaperVenues({
          venues: simulated,
          bases: config.assets,
          datedFutures: config.datedFutures,
          clock: opts.clock,
          ...(opts.statePath ? { statePath: opts.statePath } : {}),
        })
      : undefined;
  paper?.clients.forEach((c, i) => {
    clients[simulated[i]!.name] = c;
  });
  return {
    clients,
    paper,
    async close() {
      for (const c of remote) await c.close();
      for (const c of live) await c.close();
      for (const v of paper?.venues ?? []) v.dispose();
    },
  };
}

export function paperStatePath(config: Config): string {
  return join(config.dataDir, 'paper-venues.json');
}
