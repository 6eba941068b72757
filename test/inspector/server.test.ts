import { describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { marketMakerMachine } from '../../machines/strategies/market-making/machine.ts';
import { VirtualClock } from '../../src/clock/clock.ts';
import { STRATEGY_KINDS } from '../../src/config/kinds.ts';
import { createEngine } from '../../src/engine/engine.ts';
import { SimExchangeClient } from '../../src/exchange/sim/client.ts';
import { simMarket } from '../../src/exchange/sim/markets.ts';
import { SimVenue } from '../../src/exchange/sim/venue.ts';
import { activeStateIds, machineGraph } from '../../src/inspector/graph.ts';
import { flowControl, pushBounded, startInspector } from '../../src/inspector/server.ts';
import { statelyTap } from '../../src/inspector/stately.ts';
import { MemoryStore } from '../../src/store/memory.ts';

async function world() {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const venue = new SimVenue({
    name: 'sim',
    clock,
    markets: [simMarket('sim', 'ETH/USDT')],
    balances: { USDT: 1e5, ETH: 10 },
  });
  const engine = createEngine({
    store: new MemoryStore(),
    venues: { sim: new SimExchangeClient(venue) },
    clock,
  });
  const quote = () =>
    venue.onBookTicker({
      symbol: 'ETH/USDT',
      bid: 3000,
      ask: 3000.5,
      bidSize: 5,
      askSize: 5,
      timestamp: clock.now(),
    });
  let done = false;
  const p = engine.start().finally(() => {
    done = true;
  });
  while (!done) await clock.advanceBy(1);
  await p;
  return { clock, venue, engine, quote };
}

const maker = {
  market: { venue: 'sim', symbol: 'ETH/USDT' },
  orderAmount: 0.01,
  levels: 1,
  spreadBps: 5,
  levelSpacingBps: 0,
  reference: 'mid',
  inventorySkewBpsPerUnit: 0,
  maxInventoryBase: 1,
  refreshToleranceBps: 2,
  minOrderAgeMs: 0,
  staleAfterMs: 5_000,
  rejectBackoffMs: 500,
  maxPositionNotional: 10_000,
};

function nextMessage(ws: WebSocket, type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (d: WebSocket.RawData) => {
      const m = JSON.parse(String(d));
      if (m.type === type) {
        ws.off('message', on);
        resolve(m);
      }
    };
    ws.on('message', on);
  });
}

describe('inspector', () => {
  it('graphs every machine: all states, transitions between existing states, active ids from a state value', () => {
    for (const kind of Object.values(STRATEGY_KINDS)) {
      const g = machineGraph(kind.machine);
      const ids = new Set<string>();
      const walk = (n: typeof g.root) => {
        ids.add(n.id);
        n.children.forEach(walk);
      };
      walk(g.root);
      for (const name of kind.terminal) expect(ids).toContain(`${g.root.id}.${name}`);
      expect(g.edges.length).toBeGreaterThan(3);
      for (const e of g.edges) {
        expect(ids).toContain(e.source);
        expect(ids).toContain(e.target);
      }
    }
    const mm = machineGraph(marketMakerMachine);
    expect(mm.root.children.find((c) => c.key === 'quoting')!.type).toBe('parallel');
    expect(activeStateIds('marketMaker', { quoting: { bid0: 'idle', ask0: { live: 'resting' } } })).toEqual([
      'marketMaker',
      'marketMaker.quoting',
      'marketMaker.quoting.bid0',
      'marketMaker.quoting.bid0.idle',
      'marketMaker.quoting.ask0',
      'marketMaker.quoting.ask0.live',
      'marketMaker.quoting.ask0.live.resting',
    ]);
  });

  it('serves the page, the graph and live state; read-only unless controls are enabled', async () => {
    const w = await world();
    await w.engine.addStrategy({ kind: 'market-making', id: 'mm', params: maker });
    const ro = await startInspector({ engine: w.engine, port: 0, flushMs: 20 });
    const page = await fetch(ro.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<script src="vendor\/elk\.js">/);
    expect((await fetch(`${ro.url}vendor/elk.js`)).status).toBe(200);
    const graph = await (await fetch(`${ro.url}api/strategies/mm/graph`)).json();
    expect(graph.id).toBe('marketMaker');
    expect((await fetch(`${ro.url}api/strategies/nope`)).status).toBe(404);
    expect((await fetch(`${ro.url}api/strategies/mm/pause`, { method: 'POST' })).status).toBe(403);

    const ws = new WebSocket(`${ro.url.replace('http', 'ws')}ws`);
    const hello = await nextMessage(ws, 'hello');
    expect(hello).toMatchObject({ controls: false, strategies: [{ id: 'mm', kind: 'market-making' }] });
    ws.send(JSON.stringify({ type: 'select', id: 'mm' }));
    const state = await nextMessage(ws, 'state');
    expect(state).toMatchObject({ id: 'mm', machineId: 'marketMaker', locks: ['sim|ETH/USDT'] });
    // Events the machine processes show up in the client's log.
    const events = nextMessage(ws, 'events');
    w.quote();
    await w.clock.advanceBy(10);
    expect((await events).events).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'QUOTE' })]),
    );
    ws.close();
    await ro.close();

    const rw = await startInspector({ engine: w.engine, port: 0, controls: true });
    // A command the strategy's state does not take is refused with the reason, never dropped.
    const refused = await fetch(`${rw.url}api/strategies/mm/resolve`, { method: 'POST' });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { result: string }).result).toMatch(/refused/);
    expect((await fetch(`${rw.url}api/strategies/mm/pause`, { method: 'POST' })).status).toBe(202);
    await w.clock.advanceBy(1);
    expect(
      (w.engine.inspectStrategy('mm')!.snapshot as { context: { paused: boolean } }).context.paused,
    ).toBe(true);
    await rw.close();
    await w.engine.stop();
  });

  it('needs a token off loopback, and checks it on HTTP and WebSocket', async () => {
    const w = await world();
    await expect(startInspector({ engine: w.engine, host: '0.0.0.0', port: 0 })).rejects.toThrow(
      /needs a token/,
    );
    const s = await startInspector({ engine: w.engine, host: '0.0.0.0', port: 0, token: 's3cret' });
    const base = `http://127.0.0.1:${s.port}/`;
    expect((await fetch(base)).status).toBe(401);
    expect((await fetch(`${base}?token=wrong`)).status).toBe(401);
    expect((await fetch(`${base}?token=s3cret`)).status).toBe(200);
    expect(
      (await fetch(`${base}api/strategies`, { headers: { authorization: 'Bearer s3cret' } })).status,
    ).toBe(200);
    const denied = new WebSocket(`ws://127.0.0.1:${s.port}/ws`);
    await new Promise((r) => denied.once('error', r));
    const ok = new WebSocket(`ws://127.0.0.1:${s.port}/ws?token=s3cret`);
    await nextMessage(ok, 'hello');
    ok.close();
    await s.close();
    await w.engine.stop();
  });

  it('backpressure: a clogged client is skipped (updates coalesce), then dropped; the log ring is bounded', () => {
    const limits = { maxBufferedBytes: 1000, stallMs: 5_000 };
    expect(flowControl(0, undefined, 0, limits)).toEqual({ action: 'send', stalledSince: undefined });
    const a = flowControl(5000, undefined, 100, limits);
    expect(a).toEqual({ action: 'skip', stalledSince: 100 });
    expect(flowControl(5000, a.stalledSince, 4_000, limits).action).toBe('skip');
    expect(flowControl(5000, a.stalledSince, 5_200, limits).action).toBe('drop');
    expect(flowControl(10, a.stalledSince, 5_200, limits)).toEqual({
      action: 'send',
      stalledSince: undefined,
    });
    const ring: number[] = [];
    let dropped = 0;
    for (let i = 0; i < 1_000; i++) dropped += pushBounded(ring, i, 500);
    expect(ring).toHaveLength(500);
    expect(ring[0]).toBe(500);
    expect(dropped).toBe(500);
  });

  it('an idle inspector costs nothing: XState observers are attached only to strategies a connected client watches', async () => {
    const w = await world();
    const s = await startInspector({ engine: w.engine, port: 0 });
    await w.engine.addStrategy({ kind: 'market-making', id: 'mm', params: maker });
    const run = () =>
      (w.engine as unknown as { running: Map<string, { inspection: unknown }> }).running.get('mm')!;
    expect(run().inspection).toBeUndefined();
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}ws`);
    await nextMessage(ws, 'hello');
    // Connected but watching nothing: still nothing attached.
    expect(run().inspection).toBeUndefined();
    ws.send(JSON.stringify({ type: 'select', id: 'mm' }));
    await nextMessage(ws, 'state');
    expect(run().inspection).toBeDefined();
    const events = nextMessage(ws, 'events');
    w.quote();
    await w.clock.advanceBy(50);
    expect((await events).events).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'QUOTE' })]),
    );
    ws.close();
    const t0 = Date.now();
    while (s.clients() > 0 && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 10));
    expect(run().inspection).toBeUndefined();
    await s.close();
    await w.engine.stop();
  });

  it('--inspect=stately forwards inspection events to a @statelyai/inspect WebSocket relay', async () => {
    const relay = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    const received: { type: string }[] = [];
    relay.on('connection', (sock) => sock.on('message', (d) => received.push(JSON.parse(String(d)))));
    await new Promise((r) => relay.once('listening', r));
    const port = (relay.address() as { port: number }).port;
    const w = await world();
    const tap = statelyTap(`ws://127.0.0.1:${port}`);
    w.engine.addInspectionTap(tap);
    await w.engine.addStrategy({ kind: 'market-making', id: 'mm', params: maker });
    w.quote();
    await w.clock.advanceBy(50);
    const t0 = Date.now();
    while (!received.some((m) => m.type === '@xstate.snapshot') && Date.now() - t0 < 10_000)
      await new Promise((r) => setTimeout(r, 50));
    expect(received.map((m) => m.type)).toEqual(
      expect.arrayContaining(['@xstate.actor', '@xstate.event', '@xstate.snapshot']),
    );
    tap.stop();
    relay.close();
    await w.engine.stop();
  });
});
