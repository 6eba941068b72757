/**
 * The config file: venues, market data, store, risk, inspector, logging and the strategies to
 * run. One zod schema is the single source of truth: validation, defaults, the JSON schema that
 * `statearb strategies` prints, and the reference table in the README (kept in sync by a test).
 */
import { z } from 'zod';
import { type AnyStrategyKind, BUILT_IN_KINDS } from '../../machines/strategies/index.ts';
import { renamedExchange, venueProfile } from '../exchange/ccxt/venues.ts';

const venueName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*$/, 'venue names are lower-case letters, digits, - and _');

const feeTierSchema = z.strictObject({
  maker: z.number().min(-0.001).max(0.01).describe('maker fee rate (negative = rebate)'),
  taker: z.number().min(0).max(0.01).describe('taker fee rate'),
});

const feesSchema = z
  .strictObject({
    maker: z
      .number()
      .min(-0.001)
      .max(0.01)
      .optional()
      .describe('maker fee rate of every market (negative = rebate)'),
    taker: z.number().min(0).max(0.01).optional().describe('taker fee rate of every market'),
    spot: feeTierSchema.optional().describe('fee tier of the spot markets'),
    derivatives: feeTierSchema.optional().describe('fee tier of the perpetual and dated-future markets'),
    symbols: z
      .record(z.string(), feeTierSchema)
      .optional()
      .describe('fee tier per symbol, e.g. {"BTC/USDT": {maker: 0, taker: 0.001}} (wins over the rest)'),
    spotFeeCurrency: z
      .union([z.enum(['quote', 'received']), z.string().regex(/^[A-Z0-9]+$/, 'an asset code such as BNB')])
      .optional()
      .describe(
        'what spot fees are charged in: quote, received (base on a buy, quote on a sell: Binance, Bybit, OKX) or an asset such as BNB',
      ),
    assetPrices: z
      .record(z.string().regex(/^[A-Z0-9]+$/), z.number().positive())
      .optional()
      .describe('quote-currency price of a fee asset the venue has no market for, e.g. {"BNB": 600}'),
  })
  .refine((f) => (f.maker === undefined) === (f.taker === undefined), {
    message: 'maker and taker are given together',
    path: ['taker'],
  });

const simulatedVenueSchema = z.strictObject({
  type: z.literal('simulated').describe('the embedded simulated venue'),
  balances: z
    .record(z.string().regex(/^[A-Z0-9]+$/, 'asset codes are upper-case'), z.number().nonnegative())
    .default({ USDT: 100_000, BTC: 2, ETH: 20 })
    .describe('starting balances per asset'),
  latencyMs: z.number().int().nonnegative().default(0).describe('one-way REST latency, ms'),
  jitterMs: z.number().int().nonnegative().default(0).describe('uniform extra latency per request, ms'),
  streamLatencyMs: z
    .number()
    .int()
    .nonnegative()
    .default(0)
    .describe('quote and order-update delivery latency, ms'),
  requestTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(5_000)
    .describe('a request without an answer after this fails with RequestTimeout, ms'),
  queueModel: z
    .enum(['cross', 'queue'])
    .default('cross')
    .describe('resting-order fill model: at the touch, or after the queue ahead traded'),
  liquidity: z
    .enum(['persistent', 'refresh'])
    .default('persistent')
    .describe(
      'what our takers consumed stays consumed until the recorded level changes (persistent), or comes back with every update (refresh)',
    ),
  fees: feesSchema
    .optional()
    .describe(
      'fee tiers and fee currency (default: the venue’s public base tier, e.g. Binance spot 0.1 %, perp 0.02/0.05 %)',
    ),
  collateral: z
    .union([
      z.literal('settle-only'),
      z.record(z.string().regex(/^([A-Z0-9]+|default)$/), z.number().min(0).max(1)),
    ])
    .optional()
    .describe(
      'what margins the derivatives: "settle-only" (the settle wallet, as Binance’s separate futures wallet), or a haircut per asset (and "default") at which spot holdings count (a unified account). Default: the venue’s preset — binance settle-only; bybit, okx and others BTC/ETH 5 %, other assets 10 %',
    ),
  faults: z
    .strictObject({
      seed: z.number().int().nonnegative().default(1).describe('seed of the fault stream'),
      timeoutRate: z
        .number()
        .min(0)
        .max(1)
        .default(0)
        .describe('probability an order request times out (half of them after placing)'),
      rejectRate: z.number().min(0).max(1).default(0).describe('probability an order is rejected'),
      orderQueryTimeoutRate: z
        .number()
        .min(0)
        .max(1)
        .default(0)
        .describe('probability an order query (by client id, open orders) times out; placement unaffected'),
      unavailableRate: z
        .number()
        .min(0)
        .max(1)
        .default(0)
        .describe('probability an order request meets a 503'),
      rateLimit: z
        .strictObject({ maxRequests: z.number().int().positive(), windowMs: z.number().int().positive() })
        .optional()
        .describe('more than maxRequests within windowMs → 429'),
    })
    .prefault({})
    .describe('fault injection between the engine and the venue'),
});

const ccxtVenueSchema = z
  .strictObject({
    type: z.literal('ccxt').describe('a real exchange through ccxt'),
    exchange: z
      .string()
      .regex(/^[a-z0-9]+$/, 'a ccxt exchange id such as binance or binanceusdm')
      .describe('ccxt exchange id'),
    sandbox: z.boolean().default(true).describe('use the exchange’s testnet (setSandboxMode)'),
    demo: z.boolean().default(false).describe('use demo trading (Binance futures: enableDemoTrading)'),
    account: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/)
      .optional()
      .describe(
        'venues naming the same account share one request budget (default: same exchange family and key, e.g. binance + binanceusdm)',
      ),
    credentialsEnv: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]*$/)
      .optional()
      .describe(
        'prefix of the environment variables holding the keys (default ARB_<VENUE>): <PREFIX>_API_KEY, <PREFIX>_SECRET, <PREFIX>_PASSWORD',
      ),
    assetPrices: z
      .record(z.string().regex(/^[A-Z0-9]+$/), z.number().positive())
      .optional()
      .describe('quote-currency prices of fee assets such as BNB (default: asked of the venue, ASSET/QUOTE)'),
  })
  .superRefine((v, ctx) => {
    const renamed = renamedExchange(v.exchange);
    if (renamed)
      ctx.addIssue({
        code: 'custom',
        path: ['exchange'],
        message: `ccxt has no exchange "${v.exchange}": it is "${renamed}"`,
      });
    if (v.sandbox && !v.demo && !venueProfile(v.exchange).sandbox)
      ctx.addIssue({
        code: 'custom',
        path: ['sandbox'],
        message: `${v.exchange} has no testnet (sandbox defaults to true): set sandbox: false to trade the live venue`,
      });
  });

const remoteVenueSchema = z.strictObject({
  type: z.literal('remote').describe('a simulated venue served by another process (statearb venue)'),
  url: z
    .url({ protocol: /^https?$/ })
    .describe('base URL of the statearb venue service, e.g. http://127.0.0.1:8700'),
  venue: z.string().optional().describe('the venue’s name at that service (default: this venue’s name)'),
  requestTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(5_000)
    .describe('a request without an answer after this fails with RequestTimeout, ms'),
});

const syntheticSourceSchema = z.strictObject({
  source: z
    .literal('synthetic')
    .describe('seeded synthetic market: correlated spot/perp, mean-reverting basis, funding'),
  seed: z.number().int().nonnegative().default(1).describe('seed of the generator'),
  stepMs: z.number().int().min(10).max(60_000).default(250).describe('time between updates, ms'),
  prices: z
    .record(z.string(), z.number().positive())
    .default({})
    .describe('starting price per base asset (default BTC 60000, ETH 3000)'),
  basisMeanBps: z.number().optional().describe('long-run mean of the perp basis, bps'),
  basisVolBps: z.number().nonnegative().optional().describe('volatility of the perp basis, bps'),
  venuePremiumVolBps: z
    .number()
    .nonnegative()
    .optional()
    .describe('volatility of each venue’s premium over the others, bps'),
  durationHours: z
    .number()
    .positive()
    .optional()
    .describe('backtest only: how much synthetic time to generate, hours (default 24)'),
  startTs: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('backtest only: epoch ms of the first update (default 2026-01-01)'),
});

const csvSourceSchema = z.strictObject({
  source: z.literal('csv').describe('recorded quotes (backtest): ts,venue,symbol,bid,bid_size,ask,ask_size'),
  quotes: z.string().min(1).describe('quotes CSV file'),
  funding: z.string().min(1).optional().describe('funding CSV file: ts,venue,symbol,rate,next_funding_ts'),
});

export const STORE_URL = /^(memory|sqlite:.+|postgres(ql)?:\/\/.+)$/;

const riskSchema = z.strictObject({
  maxPositionSizeUsd: z
    .number()
    .positive()
    .optional()
    .describe('cap on every strategy’s position notional per leg (ARB_MAX_POSITION_SIZE_USD)'),
  maxTotalExposureUsd: z
    .number()
    .positive()
    .optional()
    .describe('Σ |position| × mark over all strategies that stops new entries (ARB_MAX_TOTAL_EXPOSURE_USD)'),
  minProfitMarginBps: z
    .number()
    .nonnegative()
    .optional()
    .describe('floor under every strategy’s entry edge after fees, bps (ARB_MIN_PROFIT_MARGIN_BPS)'),
  maxDailyLossUsd: z
    .number()
    .positive()
    .optional()
    .describe('loss since 00:00 UTC that stops new entries (ARB_MAX_DAILY_LOSS_USD)'),
  flattenOnDailyLoss: z
    .boolean()
    .default(false)
    .describe('on a daily-loss breach also pull the kill switch and flatten'),
  enableCircuitBreakers: z
    .boolean()
    .default(true)
    .describe('open the breaker after repeated failures (ARB_ENABLE_CIRCUIT_BREAKERS)'),
  circuitBreaker: z
    .strictObject({
      failures: z.number().int().positive().default(3),
      windowMs: z.number().int().positive().default(60_000),
      cooloffMs: z.number().int().positive().default(300_000),
    })
    .prefault({})
    .describe('failures within windowMs that open the breaker for cooloffMs'),
});

/** The strategies list for these kinds: one entry shape per kind, its params checked by its own schema. */
function strategiesSchema(kinds: AnyStrategyKind[]) {
  const entries = kinds.map(({ kind, paramsSchema }) =>
    z.strictObject({
      id: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'ids are 1–64 letters, digits, . _ -')
        .describe('stable id: the strategy resumes under it after a restart'),
      kind: z.literal(kind),
      params: paramsSchema,
    }),
  ) as unknown as [z.ZodObject, z.ZodObject, ...z.ZodObject[]];
  return z.array(z.discriminatedUnion('kind', entries)).default([]).describe('the strategies to run');
}

const configFields = {
  plugins: z
    .array(z.string())
    .default([])
    .describe(
      'modules of your own strategy kinds (TypeScript or JavaScript, relative to this file); a strategy may also name its module as its kind',
    ),
  mode: z.enum(['paper', 'live']).default('paper').describe('live also needs --live on the command line'),
  dataDir: z.string().default('./data').describe('where paper venue state and the default SQLite file live'),
  venues: z
    .record(
      venueName,
      z.discriminatedUnion('type', [simulatedVenueSchema, remoteVenueSchema, ccxtVenueSchema]),
    )
    .refine((v) => Object.keys(v).length > 0, 'at least one venue is needed')
    .describe('venue name → simulated, remote or ccxt'),
  assets: z
    .array(z.string().regex(/^[A-Z0-9]+$/, 'asset codes are upper-case'))
    .min(1)
    .default(['BTC', 'ETH'])
    .describe('base assets of the simulated venues: each gets spot X/USDT and perp X/USDT:USDT'),
  datedFutures: z
    .array(z.string().regex(/^\d{6}$/, 'expiry as yymmdd'))
    .default([])
    .describe('dated futures (yymmdd) listed on the simulated venues, e.g. ["261225"]'),
  marketData: z
    .discriminatedUnion('source', [syntheticSourceSchema, csvSourceSchema])
    .prefault({ source: 'synthetic' })
    .describe('what feeds the simulated venues'),
  store: z
    .string()
    .regex(STORE_URL, 'expected memory, sqlite:PATH or postgres://…')
    .optional()
    .describe('snapshot store: sqlite:PATH (default sqlite:<dataDir>/statearb.db), postgres://…, memory'),
  risk: riskSchema.prefault({}).describe('portfolio-wide limits'),
  killSwitch: z
    .strictObject({
      flatten: z
        .boolean()
        .default(false)
        .describe('flatten positions (true) or only cancel and hold (false)'),
    })
    .prefault({})
    .describe('what the kill switch does'),
  inspector: z
    .strictObject({
      enabled: z.boolean().default(false).describe('serve the local inspector'),
      host: z
        .string()
        .default('127.0.0.1')
        .describe('bind address (a token from ARB_INSPECTOR_TOKEN is required off loopback)'),
      port: z.number().int().min(0).max(65_535).default(8790).describe('port of the local inspector'),
      stately: z.boolean().default(false).describe('also forward inspection events to @statelyai/inspect'),
      statelyUrl: z
        .string()
        .regex(/^wss?:\/\//, 'a ws:// or wss:// URL')
        .default('ws://127.0.0.1:8080')
        .describe('WebSocket relay the Stately inspector reads from'),
      controls: z
        .boolean()
        .default(false)
        .describe(
          'allow pause, resume, stop, flatten and resolve from the page (each that moves money asks first)',
        ),
    })
    .prefault({})
    .describe('live statechart inspector'),
  logging: z
    .strictObject({
      level: z
        .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
        .default('info')
        .describe('pino level (ARB_LOG_LEVEL)'),
      pretty: z.boolean().optional().describe('human-readable lines (default: when stderr is a TTY)'),
    })
    .prefault({})
    .describe('structured logs on stderr'),
  engine: z
    .strictObject({
      statusEveryMs: z.number().int().min(100).default(3_000).describe('status table period, ms'),
      quotePersistMs: z
        .number()
        .int()
        .positive()
        .default(5_000)
        .describe('quote-only context changes are persisted at most this often, ms'),
      shutdownTimeoutMs: z
        .number()
        .int()
        .positive()
        .default(10_000)
        .describe('Ctrl-C waits this long for in-flight orders to settle, ms'),
      onShutdown: z
        .enum(['cancel-quotes', 'leave-quotes'])
        .default('cancel-quotes')
        .describe(
          "a graceful stop cancels market makers' resting quotes (a quote left behind fills while nothing runs), or leaves them for the next start to adopt",
        ),
      positionCheckMs: z
        .number()
        .int()
        .min(0)
        .default(5_000)
        .describe(
          'running position check period, ms: books vs venue positions and balances (0: off; a mismatch that lasts positionSettleMs → needs attention)',
        ),
      positionSettleMs: z
        .number()
        .int()
        .positive()
        .default(10_000)
        .describe(
          'how long a position mismatch may last before it counts, ms (orders in flight settle first)',
        ),
      nodeId: z
        .string()
        .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'letters, digits, . _ : - (at most 64)')
        .optional()
        .describe(
          'name of this engine process in a shared PostgreSQL store (ARB_NODE_ID; default host-pid-random)',
        ),
      capacity: z
        .number()
        .int()
        .positive()
        .optional()
        .describe('PostgreSQL store: the most strategies this process runs (ARB_CAPACITY; default no limit)'),
      leaseMs: z
        .number()
        .int()
        .min(1_000)
        .default(15_000)
        .describe(
          "PostgreSQL store: a dead process's strategies are taken over this long after its last renewal, ms",
        ),
    })
    .prefault({})
    .describe('supervisor timing'),
};

/** The config with the built-in kinds (its type, and the reference the README carries). */
export const configSchema = z.strictObject({
  ...configFields,
  strategies: strategiesSchema(Object.values(BUILT_IN_KINDS)),
});

/** The config with every kind the process knows now: the built-ins and those registered. */
export function configSchemaFor(kinds: AnyStrategyKind[]) {
  return z.strictObject({ ...configFields, strategies: strategiesSchema(kinds) });
}

/**
 * Checks across fields (duplicate ids, strategies on unknown venues). They run on the raw object
 * even when the schema failed elsewhere, so one run of the validator reports every problem.
 */
export function crossFieldIssues(
  raw: Record<string, unknown>,
): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const venues = raw.venues && typeof raw.venues === 'object' ? Object.keys(raw.venues) : [];
  const strategies = Array.isArray(raw.strategies) ? raw.strategies : [];
  const seen = new Set<string>();
  const holders = new Map<string, string>();
  strategies.forEach((s: unknown, i) => {
    if (!s || typeof s !== 'object') return;
    const { id, params } = s as { id?: unknown; params?: unknown };
    if (typeof id === 'string') {
      if (seen.has(id)) out.push({ path: ['strategies', i, 'id'], message: `duplicate strategy id "${id}"` });
      seen.add(id);
    }
    if (!params || typeof params !== 'object') return;
    for (const [key, v] of Object.entries(params)) {
      const venue = (v as { venue?: unknown } | null)?.venue;
      const symbol = (v as { symbol?: unknown } | null)?.symbol;
      if (typeof venue === 'string' && typeof symbol === 'string') {
        // Symbol locks: two strategies never trade the same instrument.
        const k = `${venue}|${symbol}`;
        const holder = holders.get(k);
        if (holder !== undefined && holder !== id)
          out.push({
            path: ['strategies', i, 'params', key],
            message: `${symbol} on ${venue} is already traded by strategy "${holder}" (each instrument belongs to one strategy)`,
          });
        else holders.set(k, String(id));
      }
      if (typeof venue === 'string' && venues.length > 0 && !venues.includes(venue))
        out.push({
          path: ['strategies', i, 'params', key, 'venue'],
          message: `unknown venue "${venue}"; configured: ${venues.join(', ')}`,
        });
    }
  });
  return out;
}

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type SimulatedVenueConfig = z.output<typeof simulatedVenueSchema>;
export type RemoteVenueConfig = z.output<typeof remoteVenueSchema>;
export type CcxtVenueConfig = z.output<typeof ccxtVenueSchema>;
export type StrategyConfig = { id: string; kind: string; params: Record<string, unknown> };
