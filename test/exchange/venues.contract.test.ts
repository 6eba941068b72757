/**
 * The adapter contract (venue-contract.ts) over every venue statearb supports through ccxt, each
 * against its local fake: ccxt's real exchange classes, the venues' wire formats, no internet.
 */
import { WallClock } from '../../src/clock/clock.ts';
import type { CcxtExchangeClient } from '../../src/exchange/ccxt/client.ts';
import { createCcxtClient } from '../../src/exchange/ccxt/create.ts';
import { FakeBinance } from '../support/fake-binance.ts';
import { FakeBybit } from '../support/fake-exchange/fake-bybit.ts';
import { FakeGate } from '../support/fake-exchange/fake-gate.ts';
import { FakeMexc } from '../support/fake-exchange/fake-mexc.ts';
import { FakeOkx, OKX_BTC_CONTRACT } from '../support/fake-exchange/fake-okx.ts';
import { venueContract } from './venue-contract.ts';

const clock = new WallClock();

const ccxtClient = (
  name: string,
  exchange: string,
  rewriteUrl: (u: string) => string,
  more: { uid?: string; password?: string } = {},
) => {
  const c = createCcxtClient({
    name,
    exchange,
    sandbox: false,
    demo: false,
    account: `contract-${exchange}`,
    credentials: { apiKey: 'contract-key', secret: 'contract-secret', ...more },
    rewriteUrl,
    streamStaleMs: 3_000,
  });
  (c.exchange as { timeout: number }).timeout = 1_500;
  return c;
};

{
  const fake = new FakeBinance({ clock, apiKey: 'contract-key', secret: 'contract-secret' });
  let spot: CcxtExchangeClient;
  let perp: CcxtExchangeClient;
  venueContract({
    name: 'binance',
    fake,
    connect: () => {
      spot = ccxtClient('binance', 'binance', fake.rewriteUrl);
      perp = ccxtClient('binanceusdm', 'binanceusdm', fake.rewriteUrl);
      return [spot, perp];
    },
    spot: { client: () => spot, symbol: 'BTC/USDT', amount: 0.001, mid: 60_000, venue: () => fake.spot },
    perp: {
      client: () => perp,
      symbol: 'BTC/USDT:USDT',
      amount: 0.002,
      mid: 60_030,
      venue: () => fake.futures,
    },
    stored: (cid) => cid,
  });
}

{
  const fake = new FakeGate({ clock, apiKey: 'contract-key', secret: 'contract-secret', uid: '20002' });
  let gate: CcxtExchangeClient;
  venueContract({
    name: 'gate',
    fake,
    connect: () => {
      gate = ccxtClient('gate', 'gate', fake.rewriteUrl, { uid: '20002' });
      return [gate];
    },
    spot: { client: () => gate, symbol: 'BTC/USDT', amount: 0.001, mid: 60_000, venue: () => fake.spot },
    perp: { client: () => gate, symbol: 'BTC/USDT:USDT', amount: 20, mid: 60_030, venue: () => fake.futures },
    stored: (cid) => `t-${cid}`,
  });
}

{
  // MEXC spot, its finished orders not findable by client id: the safe reading the profile takes.
  const fake = new FakeMexc({
    clock,
    apiKey: 'contract-key',
    secret: 'contract-secret',
    findsFinishedByClientId: false,
  });
  let mexc: CcxtExchangeClient;
  venueContract({
    name: 'mexc',
    fake,
    connect: () => {
      mexc = ccxtClient('mexc', 'mexc', fake.rewriteUrl);
      return [mexc];
    },
    spot: { client: () => mexc, symbol: 'BTC/USDT', amount: 0.001, mid: 60_000, venue: () => fake.spot },
    stored: (cid) => cid,
  });
}

{
  // Bybit v5, a unified account: spot and the linear perpetual on one client and one wallet.
  const fake = new FakeBybit({ clock, apiKey: 'contract-key', secret: 'contract-secret' });
  let bybit: CcxtExchangeClient;
  venueContract({
    name: 'bybit',
    fake,
    connect: () => {
      bybit = ccxtClient('bybit', 'bybit', fake.rewriteUrl);
      return [bybit];
    },
    spot: { client: () => bybit, symbol: 'BTC/USDT', amount: 0.001, mid: 60_000, venue: () => fake.account },
    perp: {
      client: () => bybit,
      symbol: 'BTC/USDT:USDT',
      amount: 0.002,
      mid: 60_030,
      venue: () => fake.account,
    },
    stored: (cid) => cid,
  });
}

{
  // OKX v5, a trading account: spot and the swap on one client and one wallet, swaps in contracts.
  const fake = new FakeOkx({
    clock,
    apiKey: 'contract-key',
    secret: 'contract-secret',
    passphrase: 'contract-pass',
  });
  let okx: CcxtExchangeClient;
  venueContract({
    name: 'okx',
    fake,
    connect: () => {
      okx = ccxtClient('okx', 'okx', fake.rewriteUrl, { password: 'contract-pass' });
      return [okx];
    },
    spot: { client: () => okx, symbol: 'BTC/USDT', amount: 0.001, mid: 60_000, venue: () => fake.account },
    perp: {
      client: () => okx,
      symbol: 'BTC/USDT:USDT',
      amount: 0.002 / OKX_BTC_CONTRACT,
      mid: 60_030,
      venue: () => fake.account,
    },
    stored: (cid) => cid,
  });
}
