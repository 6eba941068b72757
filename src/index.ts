/**
 * statearb's public API (`import { … } from 'statearb'`): what a program that embeds the engine,
 * or a user who writes a strategy kind of their own, builds on. Everything here is covered by the
 * project's semver; deeper paths are not. The simulated world and the property-test harness are
 * `statearb/testing`.
 *
 * - the engine: `createEngine`, its options, status and records; config loading and validation,
 *   users' kinds loaded from the modules a config names;
 * - the strategy kit: `defineStrategyKind` and the descriptor type, the control block, quotes,
 *   books and fills, needs-attention, the hedged cycle's end, params helpers; the order and
 *   hedged-pair machines and the actor contracts the machines invoke; the built-in kinds;
 * - the exchange port (`ExchangeClient`) and its errors, the domain types;
 * - the simulated venue and its client, and the clocks.
 */

// The schema library the kinds' params are written in (one copy: the package's).
export { z } from 'zod';
export * from '../machines/accounting.ts';
export { actorContracts } from '../machines/contract-actors.ts';
export * from '../machines/contracts.ts';
export * from '../machines/hedged-pair.ts';
export * from '../machines/ids.ts';
export * from '../machines/order.ts';
export { InvalidParamsError, ParamChecker } from '../machines/params.ts';
export { BUILT_IN_KINDS } from '../machines/strategies/index.ts';
export * from '../machines/strategies/kit/attention.ts';
export * from '../machines/strategies/kit/books.ts';
export * from '../machines/strategies/kit/control.ts';
export * from '../machines/strategies/kit/hedged-cycle.ts';
export * from '../machines/strategies/kit/kind.ts';
export * from '../machines/strategies/kit/params.ts';
export * from '../machines/strategies/kit/perp-pair-cycle.ts';
export * from '../machines/strategies/kit/quotes.ts';
// The kit's mid (of a quote that may be missing: 0) over the domain's (of a book ticker).
export { mid } from '../machines/strategies/kit/quotes.ts';
export { stateName } from '../machines/strategies/kit/state-name.ts';
export { bindActors } from './actors/bind.ts';
export { createExchangeActors, InMemoryIntentJournal } from './actors/exchange-actors.ts';
export { type Clock, VirtualClock, WallClock } from './clock/clock.ts';
export { registerStrategyKind, STRATEGY_KINDS } from './config/kinds.ts';
export { ConfigError, loadConfigFile, readConfigFile, validateConfig } from './config/load.ts';
export { loadStrategyPlugins } from './config/plugins.ts';
export type { Config, StrategyConfig } from './config/schema.ts';
export * from './domain/index.ts';
export {
  createEngine,
  type Engine,
  type EngineOptions,
  type EngineStatus,
  type StrategySpec,
  type StrategyStatusView,
  type TransitionRecord,
} from './engine/engine.ts';
export { type StrategyFigures, strategyFigures } from './engine/figures.ts';
export type { ExchangeClient, StreamSink, Subscription, VenueCapabilities } from './exchange/port.ts';
export { SimExchangeClient } from './exchange/sim/client.ts';
export { simMarket } from './exchange/sim/markets.ts';
export { SimVenue } from './exchange/sim/venue.ts';
export { MemoryStore } from './store/memory.ts';
