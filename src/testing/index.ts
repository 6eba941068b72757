/**
 * `statearb/testing`: property-test your own strategy kind as the built-ins are — a seeded
 * simulated world on a virtual clock (venues with faults, thin books, outages, crashes with
 * restore from the persisted snapshot) and the shared property with its invariants checked
 * after every step (no client id used twice, books equal to the venues at rest, hedged within
 * the shared tolerance or needs attention naming the residual, nothing in flight past a bound).
 * Runs inside vitest (the property asserts with its `expect`) with fast-check.
 */
export { VirtualClock } from '../clock/clock.ts';
export { SimVenue } from '../exchange/sim/venue.ts';
export { checkStrategyProperty, type StrategyPropertySpec, sharedTolerance } from './property.ts';
export { type InstrumentSpec, StrategyWorld } from './world.ts';
