import { parseArgs } from 'node:util';
import { WallClock } from '../../clock/clock.ts';
import type { Config } from '../../config/schema.ts';
import type { Engine, EngineStatus } from '../../engine/engine.ts';
import { listenInspector, startInspector } from '../../inspector/server.ts';
import { statelyTap } from '../../inspector/stately.ts';
import { createLogger } from '../../logging/logger.ts';
import { VenueRouter } from '../../marketdata/feed.ts';
import { startRealtimeFeed } from '../../marketdata/realtime.ts';
import { meteredClient } from '../../ops/metered-client.ts';
import { OpsMetrics } from '../../ops/metrics.ts';
import { startOpsServer } from '../../ops/server.ts';
import { addConfiguredStrategies, buildKernel } from '../../runtime/kernel.ts';
import { syntheticMarketFor } from '../../runtime/market.ts';
import { openStore, storeUrl } from '../../runtime/store.ts';
import { buildVenues, paperStatePath } from '../../runtime/venues.ts';
import { isLeasedStore } from '../../store/leases.ts';
import { redactUrl } from '../../store/postgres/store.ts';
import { intFlag, UsageError } from '../args.ts';
import { loadCommandConfig } from '../config-flags.ts';
import { renderStatusTable, type StatusRow } from '../status-table.ts';

export const runHelp = `statearb run — run the engine from a config file (paper trading unless --live)

Usage: statearb run [--config FILE] [--live] [--store URL] [--data-dir DIR] [--json]
                    [--inspect[=PORT|stately]] [--metrics-port N [--metrics-host H]]
                    [--status-every-ms N] [--duration-s N]

  --config FILE           JSON or YAML config (default: the bundled config/paper.yaml: all four
                          strategies on two simulated venues fed by the synthetic market)
  --live                  allow ccxt venues to trade (the config must also say mode: live, and
                          credentials must be in the environment)
  --store URL             sqlite:PATH, memory or postgres://… (overrides the config and ARB_STORE)
  --data-dir DIR          where the paper venues' state and the default SQLite file live
  --inspect[=PORT]        serve the live inspector on 127.0.0.1 (port from the config, 8790 by
                          default; 0 picks a free one); the URL is logged and printed
  --inspect=stately       also forward every inspection event to @statelyai/inspect
                          (inspector.statelyUrl)
  --metrics-port N        serve /healthz and /metrics (Prometheus) on 127.0.0.1:N (0 picks a free
                          port) — the inspector's server serves both too when it runs
  --metrics-host H        bind address for --metrics-port (default 127.0.0.1; 0.0.0.0 in a container)
  --json                  status as one JSON line per tick on stdout instead of a table
  --status-every-ms N     status period (default: engine.statusEveryMs of the config, 3000)
  --duration-s N          shut down by itself after N seconds (default: until Ctrl-C)

Strategies are persisted in the store: stop with Ctrl-C (graceful: in-flight orders settle first)
or even kill -9, start again, and every strategy resumes where it was after its orders have been
reconciled with the venue. Environment: ARB_* overrides (see README), logs go to stderr.`;

export function statusRows(status: EngineStatus): StatusRow[] {
  return status.strategies.map((s) => ({
    id: s.id,
    kind: s.kind,
    state: s.state,
    legs: s.legs,
    netPnl: s.netPnl,
    fees: s.fees,
    openOrders: s.openOrders.length,
    cycles: s.cycles,
    halted: s.halted,
    note: s.halted ? `halted: ${s.halted} (statearb strategy resolve ${s.id} once dealt with)` : undefined,
    attention: s.attention,
  }));
}

/** A started run: the engine and its paper venues (if any). */
interface Started {
  engine: Engine;
  paper: ReturnType<typeof buildVenues>['paper'];
}

/** `--inspect` may come without a value; parseArgs needs one. */
function normaliseInspectFlag(argv: string[]): string[] {
  return argv.map((a) => (a === '--inspect' ? '--inspect=local' : a));
}

function inspectorSettings(
  raw: string | undefined,
  config: Config,
): { local: boolean; port: number; stately: boolean } {
  const base = {
    local: config.inspector.enabled,
    port: config.inspector.port,
    stately: config.inspector.stately,
  };
  if (raw === undefined) return base;
  if (raw === 'local') return { ...base, local: true };
  if (raw === 'stately') return { ...base, local: true, stately: true };
  const port = intFlag('inspect', raw, 0, 0, 65_535);
  return { ...base, local: true, port };
}

export async function runCommand(argv: string[], opts: { inspect?: boolean } = {}): Promise<number> {
  const { values } = parseArgs({
    args: normaliseInspectFlag(argv),
    options: {
      config: { type: 'string' },
      live: { type: 'boolean' },
      store: { type: 'string' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
      'status-every-ms': { type: 'string' },
      'duration-s': { type: 'string' },
      inspect: { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
    },
    strict: true,
  });
  const { config, file } = await loadCommandConfig(values.config, {
    store: values.store,
    dataDir: values['data-dir'],
  });
  // --live asks for real money: on a paper config it would silently run paper.
  if (values.live && config.mode !== 'live')
    throw new UsageError(
      `${file}: the config says mode: ${config.mode}; --live trades only a config with mode: live (nothing was started)`,
    );
  if (config.marketData.source === 'csv')
    throw new UsageError(
      `${file}: marketData.source csv replays recorded quotes; use statearb backtest for it`,
    );
  const every = intFlag('status-every-ms', values['status-every-ms'], config.engine.statusEveryMs, 100);
  const duration =
    values['duration-s'] === undefined ? undefined : intFlag('duration-s', values['duration-s'], 0, 1);
  const metricsPort =
    values['metrics-port'] === undefined
      ? undefined
      : intFlag('metrics-port', values['metrics-port'], 0, 0, 65_535);
  const log = createLogger(config.logging);
  const clock = new WallClock();
  const startedAt = performance.now();
  const metrics = new OpsMetrics();
  const inspectCfg = inspectorSettings(values.inspect ?? (opts.inspect ? 'local' : undefined), config);
  // The inspector's port first: a busy one ends the run here, before a store or a venue exists.
  const inspectorServer = inspectCfg.local
    ? await listenInspector(config.inspector.host, inspectCfg.port, process.env.ARB_INSPECTOR_TOKEN)
    : undefined;
  let opsServer: Awaited<ReturnType<typeof startOpsServer>> | undefined;
  try {
    opsServer =
      metricsPort === undefined
        ? undefined
        : await startOpsServer(values['metrics-host'] ?? '127.0.0.1', metricsPort, metrics);
  } catch (e) {
    inspectorServer?.close();
    throw e;
  }
  if (opsServer) {
    log.info({ url: opsServer.url }, 'metrics listening (/healthz, /metrics)');
    process.stderr.write(`metrics: ${opsServer.url}\n`);
  }
  // Everything the run opens, closed in reverse at its end — and if the start fails, so that a
  // failed start ends the process with its one-line reason instead of hanging on a timer or socket.
  const closers: (() => unknown)[] = [];
  if (inspectorServer) closers.push(() => new Promise((r) => inspectorServer.close(r)));
  if (opsServer) closers.push(() => opsServer.close());
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (e) {
        log.warn({ err: String(e) }, 'close failed');
      }
    }
  };
  let started: Started;
  try {
    started = await startRun();
  } catch (e) {
    await closeAll();
    throw e;
  }
  const { engine, paper } = started;

  async function startRun(): Promise<Started> {
    const url = storeUrl(config.store, config.dataDir);
    // Before anything else is built: a store another engine runs is refused here (exit 2).
    const store = openStore(url, {
      nodeId: config.engine.nodeId,
      leaseMs: config.engine.leaseMs,
      exclusive: true,
    });
    closers.push(() => store.close());
    const venues = buildVenues(config, {
      clock,
      live: Boolean(values.live),
      logger: log,
      statePath: paperStatePath(config),
    });
    closers.push(() => venues.close());
    const paper = venues.paper;
    // Saved after the feed stops (closers run in reverse): the paper venues' state as their orders left it.
    if (paper) closers.push(() => paper.save());
    const market = paper
      ? syntheticMarketFor(config, {
          venues: paper.venues.map((v) => v.name),
          markets: paper.venues.flatMap((v) => v.listMarkets()),
          startTs: clock.now(),
          resumeMids: paper.restoredMids,
        })
      : undefined;
    const router = paper ? new VenueRouter(paper.venues) : undefined;
    const feed = market && router ? startRealtimeFeed(market, (e) => router.route(e)) : undefined;
    if (feed) closers.push(() => feed.stop());
    // Measured for /metrics: every request's latency, rate limits, stream failures, quote age.
    const clients = Object.fromEntries(
      Object.entries(venues.clients).map(([name, c]) => [name, meteredClient(name, c, metrics)]),
    );
    const kernel = buildKernel(config, 'run', { store, venues: clients, clock, logger: log });
    const { engine } = kernel;
    const stately = inspectCfg.stately ? statelyTap(config.inspector.statelyUrl) : undefined;
    if (stately) {
      engine.addInspectionTap(stately);
      closers.push(() => stately.stop());
    }
    // Before start(): recovered strategies are inspected from their first event.
    const inspector = inspectorServer
      ? await startInspector({
          engine,
          host: config.inspector.host,
          server: inspectorServer,
          ops: metrics,
          controls: config.inspector.controls,
          ...(process.env.ARB_INSPECTOR_TOKEN ? { token: process.env.ARB_INSPECTOR_TOKEN } : {}),
        })
      : undefined;
    if (inspector) {
      closers.push(() => inspector.close());
      const shown = process.env.ARB_INSPECTOR_TOKEN ? `${inspector.url}?token=…` : inspector.url;
      log.info(
        { url: shown, stately: stately ? config.inspector.statelyUrl : undefined },
        'inspector listening',
      );
      process.stderr.write(`inspector: ${shown}\n`);
    }
    const stopEngine = () => engine.stop();
    closers.push(stopEngine);
    metrics.attach({
      status: () => engine.status(),
      checkStore: () => void store.locks(),
      venues: Object.keys(clients),
    });
    const report = await engine.start({ recover: true });
    metrics.recovered((performance.now() - startedAt) / 1000);
    log.info(
      {
        config: file,
        store: redactUrl(url),
        ...(isLeasedStore(store) ? { node: store.nodeId, leaseMs: store.leaseMs } : {}),
        venues: Object.keys(venues.clients),
        paperResumed: paper?.restored ?? false,
        recovered: report.recovered.length,
        quarantined: report.quarantined.map((q) => ({ id: q.id, reason: q.reason })),
        halted: report.halted,
        orphansCancelled: report.orphansCancelled,
        checked: report.checked,
      },
      'engine started',
    );
    for (const a of kernel.adjustments) log.warn(a, 'strategy param tightened by a portfolio risk limit');
    await addConfiguredStrategies(kernel, log);
    // Started: from here the engine is stopped by its own shutdown, before the rest closes.
    closers.splice(closers.indexOf(stopEngine), 1);
    return { engine, paper };
  }

  const print = () => {
    const status = engine.status();
    if (values.json) process.stdout.write(`${JSON.stringify({ ts: clock.now(), ...status })}\n`);
    else
      process.stdout.write(
        `\n${new Date(clock.now()).toISOString()}  exposure ${status.risk.exposure.toFixed(0)} USDT` +
          `${Object.keys(status.risk.breaches).length ? `  RISK: ${Object.values(status.risk.breaches).join('; ')}` : ''}\n` +
          `${renderStatusTable(statusRows(status))}\n`,
      );
    paper?.save();
  };
  const timer = setInterval(print, every);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
    if (duration !== undefined) setTimeout(() => resolve('duration'), duration * 1000).unref();
  });
  clearInterval(timer);
  // The stop always ends the process: a venue or store that never answers cannot hold it.
  const graceMs = config.engine.shutdownTimeoutMs + 15_000;
  setTimeout(() => {
    log.error({ graceMs }, 'shutdown did not finish: exiting');
    process.stderr.write(`statearb: the shutdown did not finish within ${graceMs} ms; exiting\n`);
    process.exit(1);
  }, graceMs).unref();
  log.info({ reason: signal }, 'shutting down: no new entries, waiting for in-flight orders');
  const { settled } = await engine.shutdown({ timeoutMs: config.engine.shutdownTimeoutMs });
  print();
  await closeAll();
  log.info({ settled }, 'stopped; start again to resume');
  return 0;
}
