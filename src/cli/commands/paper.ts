import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { spreadBps } from '../../domain/index.ts';
import type { SimVenue } from '../../exchange/sim/venue.ts';
import { VenueRouter } from '../../marketdata/feed.ts';
import { startRealtimeFeed } from '../../marketdata/realtime.ts';
import { intFlag } from '../args.ts';
import { buildWallClockSim, simFlags, simFlagsHelp } from './sim-options.ts';

export const paperHelp = `statearb paper — paper trading on simulated venues fed by the synthetic market (npm start)

Usage: statearb paper [--status-every-ms N] [--duration-s N] [--json] [options]

  --status-every-ms N     print the status every N ms (default 3000)
  --duration-s N          stop by itself after N seconds (default: run until Ctrl-C)
  --json                  status as one JSON line per tick instead of a table
${simFlagsHelp}

State is kept in --state (default ./data/paper-venues.json): stop with Ctrl-C, start again,
and the accounts, positions and resting orders are where they were.`;

interface Row {
  venue: string;
  symbol: string;
  bid: number;
  ask: number;
  spreadBps: number;
  basisBps?: number;
  funding?: number;
}

function snapshot(venues: SimVenue[]): {
  rows: Row[];
  accounts: { venue: string; equityUsdt: number; positions: number; openOrders: number }[];
} {
  const rows: Row[] = [];
  for (const v of venues) {
    for (const m of v.listMarkets()) {
      const t = v.ticker(m.symbol);
      if (!t) continue;
      const row: Row = { venue: v.name, symbol: m.symbol, bid: t.bid, ask: t.ask, spreadBps: spreadBps(t) };
      if (m.type === 'swap') {
        const spot = v.mark(`${m.base}/${m.quote}`);
        if (spot > 0) row.basisBps = ((v.mark(m.symbol) - spot) / spot) * 1e4;
        row.funding = v.fundingRate(m.symbol).rate;
      }
      rows.push(row);
    }
  }
  const accounts = venues.map((v) => ({
    venue: v.name,
    equityUsdt: v.equity('USDT'),
    positions: v.positions().length,
    openOrders: v.fetchOpenOrders().length,
  }));
  return { rows, accounts };
}

function table(s: ReturnType<typeof snapshot>): string {
  const lines = [
    `${'venue'.padEnd(9)}${'symbol'.padEnd(16)}${'bid'.padStart(12)}${'ask'.padStart(12)}${'spread bps'.padStart(12)}${'basis bps'.padStart(11)}${'funding'.padStart(10)}`,
  ];
  for (const r of s.rows) {
    lines.push(
      `${r.venue.padEnd(9)}${r.symbol.padEnd(16)}${r.bid.toFixed(2).padStart(12)}${r.ask.toFixed(2).padStart(12)}${r.spreadBps.toFixed(2).padStart(12)}${(r.basisBps === undefined ? '' : r.basisBps.toFixed(2)).padStart(11)}${(r.funding === undefined ? '' : `${(r.funding * 100).toFixed(4)}%`).padStart(10)}`,
    );
  }
  for (const a of s.accounts)
    lines.push(
      `${a.venue}: equity ${a.equityUsdt.toFixed(2)} USDT, ${a.positions} positions, ${a.openOrders} open orders`,
    );
  return lines.join('\n');
}

export async function paperCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...simFlags,
      'status-every-ms': { type: 'string' },
      'duration-s': { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  const every = intFlag('status-every-ms', values['status-every-ms'], 3000, 100);
  const duration =
    values['duration-s'] === undefined ? undefined : intFlag('duration-s', values['duration-s'], 0, 1);
  const state = values.state ?? './data/paper-venues.json';
  mkdirSync(dirname(state), { recursive: true });
  const sim = buildWallClockSim({ ...values, state });
  const router = new VenueRouter(sim.paper.venues);
  const feed = startRealtimeFeed(sim.market, (e) => router.route(e));
  process.stderr.write(
    `paper: ${sim.paper.venues.map((v) => v.name).join(', ')} on the synthetic market; state in ${state}` +
      `${sim.paper.restored ? ' (resumed)' : ''}. No strategies are configured: showing the market and accounts. Ctrl-C to stop.\n`,
  );
  const print = () => {
    const s = snapshot(sim.paper.venues);
    if (values.json) process.stdout.write(`${JSON.stringify({ ts: sim.clock.now(), ...s })}\n`);
    else process.stdout.write(`\n${new Date(sim.clock.now()).toISOString()}\n${table(s)}\n`);
    sim.paper.save();
  };
  const timer = setInterval(print, every);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    if (duration !== undefined) setTimeout(resolve, duration * 1000).unref();
  });
  clearInterval(timer);
  feed.stop();
  print();
  for (const v of sim.paper.venues) v.dispose();
  return 0;
}
