import { parseArgs } from 'node:util';
import { startVenueServer } from '../../exchange/sim/server.ts';
import { VenueRouter } from '../../marketdata/feed.ts';
import { startRealtimeFeed } from '../../marketdata/realtime.ts';
import { intFlag } from '../args.ts';
import { buildWallClockSim, simFlags, simFlagsHelp } from './sim-options.ts';

export const venueHelp = `statearb venue — run the simulated venues as a standalone HTTP + WebSocket service

Engines connect to it with the remote simulated client, so an engine can be killed and
restarted while the venue keeps quoting and filling resting orders.

Usage: statearb venue [--port N] [--host H] [--token T] [options]

  --port N                TCP port on the host (default 8700; 0 picks a free one)
  --host H                bind address (default 127.0.0.1; anything else needs a token)
  --token T               bearer token clients must send (or ARB_VENUE_TOKEN)
  --save-every-ms N       how often to save --state (default 2000)
${simFlagsHelp}

Prints one JSON line {"event":"listening","url":…} when ready; SIGINT/SIGTERM save and exit 0.`;

export async function venueCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...simFlags,
      port: { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string' },
      'save-every-ms': { type: 'string' },
    },
    strict: true,
  });
  const port = intFlag('port', values.port, 8700, 0, 65_535);
  const saveEvery = intFlag('save-every-ms', values['save-every-ms'], 2000, 100);
  const sim = buildWallClockSim(values);
  const router = new VenueRouter(sim.paper.venues);
  const feed = startRealtimeFeed(sim.market, (e) => router.route(e));
  const token = values.token ?? process.env.ARB_VENUE_TOKEN;
  const server = await startVenueServer({
    venues: sim.paper.clients,
    host: values.host ?? '127.0.0.1',
    port,
    ...(token ? { token } : {}),
  });
  const saver = setInterval(() => sim.paper.save(), saveEvery);
  process.stdout.write(
    `${JSON.stringify({
      event: 'listening',
      url: server.url,
      venues: sim.paper.venues.map((v) => v.name),
      restored: sim.paper.restored,
    })}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(saver);
  feed.stop();
  await server.close();
  sim.paper.save();
  for (const v of sim.paper.venues) v.dispose();
  return 0;
}
