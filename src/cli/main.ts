import { InvalidParamsError } from '../../machines/params.ts';
import { BacktestSetupError } from '../backtest/run.ts';
import { ConfigError } from '../config/load.ts';
import { UnknownStrategyKindError } from '../engine/recovery.ts';
import { InspectorPortInUseError } from '../inspector/server.ts';
import { CsvFormatError } from '../marketdata/csv.ts';
import { MetricsPortInUseError } from '../ops/server.ts';
import { StrategySetupError } from '../runtime/kernel.ts';
import { StoreUrlError } from '../runtime/store.ts';
import { VenueSetupError } from '../runtime/venues.ts';
import { StoreInUseError } from '../store/sqlite-owner.ts';
import { UsageError } from './args.ts';
import { backtestCommand, backtestHelp } from './commands/backtest.ts';
import { cleanupCommand, cleanupHelp } from './commands/cleanup.ts';
import { inspectCommand, inspectHelp } from './commands/inspect.ts';
import { killCommand, killHelp } from './commands/kill.ts';
import { runCommand, runHelp } from './commands/run.ts';
import { statusCommand, statusHelp } from './commands/status.ts';
import { strategiesCommand, strategiesHelp } from './commands/strategies.ts';
import { strategyCommand, strategyHelp } from './commands/strategy.ts';
import { venueCommand, venueHelp } from './commands/venue.ts';

const commands: Record<string, { run: (argv: string[]) => Promise<number>; help: string; summary: string }> =
  {
    run: {
      run: runCommand,
      help: runHelp,
      summary: 'run the engine from a config (paper unless --live; npm start)',
    },
    backtest: {
      run: backtestCommand,
      help: backtestHelp,
      summary: 'replay quotes through the strategies on a virtual clock; report with charts',
    },
    status: {
      run: statusCommand,
      help: statusHelp,
      summary: 'strategies, positions, PnL and locks from the store',
    },
    strategies: {
      run: strategiesCommand,
      help: strategiesHelp,
      summary: 'strategy kinds and their parameter schemas',
    },
    inspect: {
      run: inspectCommand,
      help: inspectHelp,
      summary: 'run the engine with the live statechart inspector in the browser',
    },
    strategy: {
      run: strategyCommand,
      help: strategyHelp,
      summary: 'flatten, stop, pause, resume or resolve one strategy of a running engine or a stopped store',
    },
    kill: {
      run: killCommand,
      help: killHelp,
      summary: 'the kill switch: stop every strategy of a running engine, with --flatten closing positions',
    },
    cleanup: {
      run: cleanupCommand,
      help: cleanupHelp,
      summary: 'delete ended strategies and their journals',
    },
    venue: {
      run: venueCommand,
      help: venueHelp,
      summary: 'the simulated venues as a standalone HTTP + WebSocket service',
    },
  };

/** The command column: the longest name and two spaces, whatever commands are added. */
const NAME_WIDTH = Math.max(...Object.keys(commands).map((n) => n.length)) + 2;

const usage = `statearb — crypto trading strategies as XState state machines

Usage: statearb <command> [options]     (statearb <command> --help for its options)

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(NAME_WIDTH)}${c.summary}`)
  .join('\n')}

Exit codes: 0 ok, 1 runtime failure, 2 bad input.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) throw new UsageError(`unknown command "${name}"; run statearb --help for the list`);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${cmd.help}\n`);
    return 0;
  }
  return cmd.run(rest);
}

/** Bad input (flags, config, params, data files): exit code 2, the message says what and where. */
function isBadInput(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return (
    e instanceof UsageError ||
    e instanceof ConfigError ||
    e instanceof InvalidParamsError ||
    e instanceof VenueSetupError ||
    e instanceof StoreUrlError ||
    e instanceof StoreInUseError ||
    e instanceof UnknownStrategyKindError ||
    e instanceof CsvFormatError ||
    e instanceof BacktestSetupError ||
    e instanceof StrategySetupError ||
    (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
  );
}

/** A failure of the surroundings the message fully explains (exit 1, one line, no stack). */
function isKnownFailure(e: unknown): boolean {
  return e instanceof InspectorPortInUseError || e instanceof MetricsPortInUseError;
}

/**
 * A command that has finished (engine shut down, stores and venues closed) exits even if a
 * handle lingers — a socket a library reopened, a timer someone forgot: a stopped engine must
 * not hang the terminal or a supervisor. What lingered is named, so it can be fixed.
 */
function exitAfterCompletion(code: number): void {
  const t = setTimeout(() => {
    const handles =
      (process as unknown as { _getActiveHandles?: () => object[] })._getActiveHandles?.() ?? [];
    const names = handles.map((h) => h.constructor?.name ?? 'unknown').filter((n) => n !== 'WriteStream');
    process.stderr.write(`statearb: exiting with open handles left behind: ${names.join(', ') || 'none'}\n`);
    process.exit(code);
  }, 3_000);
  t.unref();
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    exitAfterCompletion(code);
  },
  (e: unknown) => {
    if (isBadInput(e)) {
      process.stderr.write(`statearb: ${(e as Error).message}\n`);
      process.exitCode = 2;
    } else if (isKnownFailure(e)) {
      process.stderr.write(`statearb: ${(e as Error).message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`statearb: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    }
    // A failed command ends too: whatever it left open must not keep the process alive.
    exitAfterCompletion(process.exitCode);
  },
);
