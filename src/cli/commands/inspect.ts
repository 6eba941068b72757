import { runCommand } from './run.ts';

export const inspectHelp = `statearb inspect — run the engine with the live inspector (statearb run --inspect)

Usage: statearb inspect [--config FILE] [--inspect=PORT|stately] [statearb run options]

Starts the engine from the config (the bundled paper config by default) and serves the inspector
on 127.0.0.1 (inspector.port, 8790 by default): each strategy's statechart with the current state
highlighted live, context, open orders, positions, PnL, a price/basis chart and the event log.
The page loads nothing from the internet. Read-only unless inspector.controls is true in the
config (pause, resume, stop buttons). Binding another host (inspector.host) needs
ARB_INSPECTOR_TOKEN; open the page with ?token=….`;

export function inspectCommand(argv: string[]): Promise<number> {
  return runCommand(argv, { inspect: true });
}
