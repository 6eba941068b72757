/**
 * The local inspector: an HTTP + WebSocket server (127.0.0.1 by default) serving a page that
 * needs no internet — strategy list, each strategy's statechart with the current state lit,
 * context, orders, positions, event log and a price/PnL chart, live.
 *
 * The engine never waits for a browser: updates are coalesced per client (the latest snapshot
 * wins, the event log is a bounded ring that drops its oldest entries) and sent on a timer only
 * while the client's socket has drained; a client that stays clogged is disconnected.
 */
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type { InspectionEvent } from 'xstate';
import type { Engine, InspectionTap, StrategyStatusView } from '../engine/engine.ts';
import type { OpsMetrics } from '../ops/metrics.ts';
import { handleOps } from '../ops/server.ts';
import { type MachineGraph, machineGraph } from './graph.ts';

export interface InspectorOptions {
  engine: Engine;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** A server already listening (listenInspector): host and port are its own. */
  server?: Server;
  /** Serve /healthz and /metrics too. */
  ops?: OpsMetrics;
  /** Required when binding outside loopback; sent as ?token=, x-statearb-token or Bearer. */
  token?: string;
  /** Allow pause/resume/stop from the page. */
  controls?: boolean;
  /** How often updates are pushed to clients, ms. */
  flushMs?: number;
  /** Price/PnL chart sampling period, ms. */
  sampleMs?: number;
  /** A client whose socket holds more than this is skipped; after `stallMs` of it, dropped. */
  maxBufferedBytes?: number;
  stallMs?: number;
  now?: () => number;
}

export interface Inspector {
  url: string;
  port: number;
  /** Connected browser clients. */
  clients(): number;
  close(): Promise<void>;
}

interface SeriesPoint {
  ts: number;
  price: number;
  signal: number | null;
  pnl: number;
}

interface Client {
  ws: WebSocket;
  selected: string | undefined;
  lastSnapshot: unknown;
  events: { at: number; type: string }[];
  dropped: number;
  sentSeries: number;
  stalledSince: number | undefined;
}

/**
 * What to do with a client this flush: send when its socket has drained below the limit, skip
 * (its updates keep coalescing) while it holds more, drop it after `stallMs` of that.
 */
export function flowControl(
  bufferedAmount: number,
  stalledSince: number | undefined,
  now: number,
  limits: { maxBufferedBytes: number; stallMs: number },
): { action: 'send' | 'skip' | 'drop'; stalledSince: number | undefined } {
  if (bufferedAmount <= limits.maxBufferedBytes) return { action: 'send', stalledSince: undefined };
  const since = stalledSince ?? now;
  return { action: now - since > limits.stallMs ? 'drop' : 'skip', stalledSince: since };
}

/** Append to a bounded ring: the oldest entry goes when full. Returns how many were dropped (0 or 1). */
export function pushBounded<T>(ring: T[], item: T, max: number): number {
  ring.push(item);
  if (ring.length <= max) return 0;
  ring.shift();
  return 1;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const EVENT_RING = 500;
const SERIES_KEEP = 900;

const PAGE_DIR = new URL('./page/', import.meta.url);
const require = createRequire(import.meta.url);

function asset(name: string): Buffer {
  return readFileSync(new URL(name, PAGE_DIR));
}

const STATIC: Record<string, { type: string; load: () => Buffer }> = {
  '/': { type: 'text/html; charset=utf-8', load: () => asset('index.html') },
  '/app.js': { type: 'text/javascript; charset=utf-8', load: () => asset('app.js') },
  '/app.css': { type: 'text/css; charset=utf-8', load: () => asset('app.css') },
  '/vendor/elk.js': {
    type: 'text/javascript; charset=utf-8',
    load: () => readFileSync(require.resolve('elkjs/lib/elk.bundled.js')),
  },
};

function mid(t: { bid: number; ask: number } | undefined): number {
  return t && t.bid > 0 && t.ask > 0 ? (t.bid + t.ask) / 2 : 0;
}

/** The first two legs' quotes from a strategy context, whatever the kind calls them. */
function legQuotes(context: Record<string, unknown>): ({ bid: number; ask: number } | undefined)[] {
  if (context.quote) return [context.quote as { bid: number; ask: number }];
  const q = context.quotes as Record<string, { bid: number; ask: number } | undefined> | undefined;
  return q ? Object.values(q) : [];
}

function tokenOk(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const url = new URL(req.url ?? '/', 'http://x');
  const given =
    url.searchParams.get('token') ??
    (req.headers['x-statearb-token'] as string | undefined) ??
    /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ??
    '';
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The inspector's port is taken: the run ends with this one line (exit 1), before it stores anything. */
export class InspectorPortInUseError extends Error {
  constructor(host: string, port: number) {
    super(
      `inspector: port ${port} on ${host} is in use (another statearb run?); choose another with --inspect=PORT or inspector.port, or disable the inspector`,
    );
    this.name = 'InspectorPortInUseError';
  }
}

/**
 * Bind the inspector's port, nothing else: `statearb run` does this first, so a busy port ends
 * the run before a store is opened or a venue is built.
 */
export async function listenInspector(host: string, port: number, token?: string): Promise<Server> {
  if (!LOOPBACK.has(host) && !token)
    throw new Error(`inspector: binding to ${host} (not loopback) needs a token (ARB_INSPECTOR_TOKEN)`);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new InspectorPortInUseError(host, port) : e),
    );
    server.listen(port, host, () => resolve());
  });
  return server;
}

export async function startInspector(opts: InspectorOptions): Promise<Inspector> {
  const host = opts.host ?? '127.0.0.1';
  // Listening comes first: a port that cannot be had leaves no timer or tap behind.
  const server = opts.server ?? (await listenInspector(host, opts.port ?? 0, opts.token));
  const engine = opts.engine;
  const now = opts.now ?? Date.now;
  const flushMs = opts.flushMs ?? 100;
  const sampleMs = opts.sampleMs ?? 1_000;
  const maxBuffered = opts.maxBufferedBytes ?? 1 << 20;
  const stallMs = opts.stallMs ?? 30_000;
  const clients = new Set<Client>();
  const graphs = new Map<string, MachineGraph>();
  const series = new Map<string, SeriesPoint[]>();
  let statusCache: { at: number; list: StrategyStatusView[]; locks: Record<string, string> } | undefined;

  const status = () => {
    // status() walks every strategy: at most once per flush, however many clients ask.
    if (!statusCache || now() - statusCache.at >= flushMs) {
      const st = engine.status();
      statusCache = { at: now(), list: st.strategies, locks: st.locks };
    }
    return statusCache;
  };
  const strategyList = () =>
    status().list.map((s) => ({
      id: s.id,
      kind: s.kind,
      state: s.state,
      netPnl: s.netPnl,
      openOrders: s.openOrders.length,
      instruments: s.instruments,
      halted: s.halted ?? null,
      attention: s.attention ?? null,
    }));
  const graphOf = (kind: string, machine: Parameters<typeof machineGraph>[0]) => {
    let g = graphs.get(kind);
    if (!g) {
      g = machineGraph(machine);
      graphs.set(kind, g);
    }
    return g;
  };
  const detail = (id: string) => {
    const info = engine.inspectStrategy(id);
    if (!info) return undefined;
    const snap = info.snapshot as { value: unknown; status: string; context: Record<string, unknown> };
    const view = status().list.find((s) => s.id === id);
    return {
      id,
      kind: info.kind,
      machineId: info.machine.id,
      value: snap.value,
      status: snap.status,
      context: snap.context,
      legs: view?.legs ?? [],
      netPnl: view?.netPnl ?? 0,
      realizedPnl: view?.realizedPnl ?? 0,
      unrealizedPnl: view?.unrealizedPnl ?? 0,
      fees: view?.fees ?? 0,
      funding: view?.funding ?? 0,
      openOrders: view?.openOrders ?? [],
      halted: view?.halted ?? null,
      attention: view?.attention ?? null,
      locks: Object.entries(status().locks)
        .filter(([, holder]) => holder === id)
        .map(([k]) => k),
    };
  };

  // Inspection events → the event log of clients watching that strategy. The tap is registered
  // only while a client is connected: with none, XState does not even build the events.
  const tap: InspectionTap = {
    event(strategyId: string, ev: InspectionEvent, isRoot: boolean) {
      if (!isRoot || ev.type !== '@xstate.event') return;
      for (const c of clients)
        if (c.selected === strategyId)
          c.dropped += pushBounded(c.events, { at: now(), type: ev.event.type }, EVENT_RING);
    },
  };
  let removeTap: (() => void) | undefined;
  let watched = new Set<string>();
  /** Re-register the tap for exactly the strategies some client watches (none: no tap at all). */
  const clientsChanged = () => {
    const selected = new Set([...clients].map((c) => c.selected).filter((x): x is string => x !== undefined));
    if (selected.size === watched.size && [...selected].every((id) => watched.has(id))) return;
    watched = selected;
    removeTap?.();
    removeTap = selected.size > 0 ? engine.addInspectionTap(tap, (id) => watched.has(id)) : undefined;
  };

  const send = (c: Client, msg: unknown) => c.ws.send(JSON.stringify(msg));

  const flush = () => {
    if (clients.size === 0) return;
    for (const c of clients) {
      if (c.ws.readyState !== c.ws.OPEN) continue;
      const flow = flowControl(c.ws.bufferedAmount, c.stalledSince, now(), {
        maxBufferedBytes: maxBuffered,
        stallMs,
      });
      c.stalledSince = flow.stalledSince;
      if (flow.action === 'drop') {
        c.ws.terminate();
        clients.delete(c);
        clientsChanged();
      }
      if (flow.action !== 'send') continue;
      if (!c.selected) continue;
      const info = engine.inspectStrategy(c.selected);
      if (info && info.snapshot !== c.lastSnapshot) {
        c.lastSnapshot = info.snapshot;
        send(c, { type: 'state', ...detail(c.selected) });
      }
      if (c.events.length > 0 || c.dropped > 0) {
        send(c, { type: 'events', id: c.selected, events: c.events, dropped: c.dropped });
        c.events = [];
        c.dropped = 0;
      }
      const pts = series.get(c.selected) ?? [];
      if (pts.length > 0 && c.sentSeries !== pts.at(-1)!.ts) {
        send(c, { type: 'series', id: c.selected, points: pts.filter((p) => p.ts > c.sentSeries) });
        c.sentSeries = pts.at(-1)!.ts;
      }
    }
  };
  const sample = () => {
    const watched = new Set([...clients].map((c) => c.selected).filter((x): x is string => !!x));
    for (const id of watched) {
      const info = engine.inspectStrategy(id);
      if (!info) continue;
      const ctx = (info.snapshot as { context: Record<string, unknown> }).context;
      const [a, b] = legQuotes(ctx).map(mid);
      const view = status().list.find((s) => s.id === id);
      const pts = series.get(id) ?? [];
      pts.push({
        ts: now(),
        price: a ?? 0,
        signal: a && b ? ((b - a) / a) * 1e4 : null,
        pnl: view?.netPnl ?? 0,
      });
      if (pts.length > SERIES_KEEP) pts.splice(0, pts.length - SERIES_KEEP);
      series.set(id, pts);
    }
  };
  const flushTimer = setInterval(flush, flushMs);
  const sampleTimer = setInterval(sample, sampleMs);
  const listTimer = setInterval(() => {
    if (clients.size === 0) return;
    const msg = { type: 'strategies', list: strategyList() };
    for (const c of clients) if (c.ws.bufferedAmount <= maxBuffered) send(c, msg);
  }, 1_000);

  const json = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!tokenOk(req, opts.token)) return json(res, 401, { error: 'token required' });
    if (opts.ops && handleOps(req, res, opts.ops)) return;
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const file = STATIC[path];
    if (file && req.method === 'GET') {
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache' });
      return res.end(file.load());
    }
    if (path === '/api/info') return json(res, 200, { controls: Boolean(opts.controls) });
    if (path === '/api/strategies' && req.method === 'GET') return json(res, 200, strategyList());
    const m = /^\/api\/strategies\/([^/]+)(?:\/(graph|pause|resume|stop|flatten|resolve))?$/.exec(path);
    if (m) {
      const id = decodeURIComponent(m[1]!);
      const info = engine.inspectStrategy(id);
      if (!info) return json(res, 404, { error: `no strategy ${id}` });
      const action = m[2];
      if (!action && req.method === 'GET') return json(res, 200, detail(id));
      if (action === 'graph' && req.method === 'GET') return json(res, 200, graphOf(info.kind, info.machine));
      if (action && action !== 'graph' && req.method === 'POST') {
        if (!opts.controls)
          return json(res, 403, { error: 'controls are disabled (inspector.controls: true to enable)' });
        if (info.done) return json(res, 409, { error: `${id} has ended` });
        if (action === 'pause') engine.pause(id);
        else if (action === 'resume') engine.resume(id);
        else {
          // The engine's operator path decides, as for `statearb strategy …`: a command the
          // strategy's state does not take is refused with the reason, never dropped.
          const flatten = url.searchParams.get('flatten') === 'true';
          const command = action === 'stop' ? (flatten ? 'stop-flatten' : 'stop') : action;
          const result = engine.operateStrategy(
            id,
            command as 'flatten' | 'resolve' | 'stop' | 'stop-flatten',
          );
          return json(res, result === 'applied' ? 202 : 409, { ok: result === 'applied', action, result });
        }
        return json(res, 202, { ok: true, action });
      }
      return json(res, 405, { error: 'method not allowed' });
    }
    json(res, 404, { error: 'not found' });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/ws' || !tokenOk(req, opts.token)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const c: Client = {
        ws,
        selected: undefined,
        lastSnapshot: undefined,
        events: [],
        dropped: 0,
        sentSeries: 0,
        stalledSince: undefined,
      };
      clients.add(c);
      clientsChanged();
      send(c, { type: 'hello', controls: Boolean(opts.controls), strategies: strategyList() });
      ws.on('message', (data) => {
        try {
          const msg = JSON.parse(String(data)) as { type?: string; id?: string };
          if (msg.type === 'select' && typeof msg.id === 'string') {
            c.selected = msg.id;
            c.lastSnapshot = undefined;
            c.events = [];
            c.sentSeries = 0;
            clientsChanged();
          }
        } catch {
          // A malformed message from a page is ignored, never fatal.
        }
      });
      const gone = () => {
        clients.delete(c);
        clientsChanged();
      };
      ws.on('close', gone);
      ws.on('error', gone);
    });
  });

  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    clients: () => clients.size,
    async close() {
      clearInterval(flushTimer);
      clearInterval(sampleTimer);
      clearInterval(listTimer);
      for (const c of clients) c.ws.terminate();
      clients.clear();
      clientsChanged();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
