export * from './account.ts';
export * from './errors.ts';
export * from './instrument.ts';
export * from './market.ts';
export * from './marketdata.ts';
export * from './num.ts';
export * from './order.ts';
