import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import {
  ExchangeNotAvailable,
  InsufficientFunds,
  InvalidOrder,
  OrderNotFound,
  RateLimitExceeded,
  RequestTimeout,
  serializeError,
} from '../../domain/index.ts';
import type { Subscription } from '../port.ts';
import type { SimExchangeClient } from './client.ts';
import type { StreamKind } from './faults.ts';

export interface VenueServerOptions {
  /** One client per venue: requests go through its latency and faults. */
  venues: SimExchangeClient[];
  host?: string;
  port?: number;
  /** Required for any bind that is not loopback. */
  token?: string;
  /** Largest request body accepted, bytes. */
  maxBodyBytes?: number;
}

export interface VenueServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The REST methods a remote client may call, with their argument arity. */
const METHODS = {
  loadMarkets: 0,
  createOrder: 1,
  cancelOrder: 2,
  fetchOrder: 2,
  fetchOpenOrders: 1,
  fetchBalance: 0,
  fetchPositions: 1,
  fetchFundingRate: 1,
  fetchFundingHistory: 2,
  setLeverage: 2,
} as const;
type Method = keyof typeof METHODS;

export interface StreamRequest {
  op: 'subscribe' | 'unsubscribe';
  id: number;
  venue?: string;
  channel?: 'ticker' | 'orders';
  symbol?: string;
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function statusFor(e: unknown): number {
  if (e instanceof RateLimitExceeded) return 429;
  if (e instanceof ExchangeNotAvailable) return 503;
  if (e instanceof OrderNotFound) return 404;
  if (e instanceof InvalidOrder || e instanceof InsufficientFunds) return 400;
  return 500;
}

/**
 * The simulated venue as a standalone service on 127.0.0.1: a JSON REST API and a websocket
 * for quotes and order updates. It keeps running (and filling resting orders) while an engine
 * process that trades on it is killed and restarted — the setting of every crash test.
 *
 * A request that the fault injector decides to time out is answered by dropping the
 * connection, so the client sees what it would see from a real exchange: no answer.
 */
export async function startVenueServer(opts: VenueServerOptions): Promise<VenueServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host) && !opts.token) {
    throw new Error(
      `refusing to bind the venue server to ${host} without a token (set --token or ARB_VENUE_TOKEN)`,
    );
  }
  const venues = new Map(opts.venues.map((c) => [c.venue, c]));
  const maxBody = opts.maxBodyBytes ?? 1 << 20;
  const authorized = (req: IncomingMessage, url: URL): boolean => {
    if (!opts.token) return true;
    return (
      req.headers.authorization === `Bearer ${opts.token}` || url.searchParams.get('token') === opts.token
    );
  };

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (!authorized(req, url))
        return send(res, 401, { error: { name: 'AuthenticationError', message: 'bad token' } });
      if (req.method === 'GET' && url.pathname === '/health')
        return send(res, 200, { ok: true, venues: [...venues.keys()] });
      const m = /^\/v1\/([a-z0-9_-]+)\/(admin\/)?([A-Za-z]+)$/.exec(url.pathname);
      const client = m ? venues.get(m[1]!) : undefined;
      if (!m || !client)
        return send(res, 404, { error: { name: 'BadRequest', message: `no route ${url.pathname}` } });
      let body: { args?: unknown[]; stream?: StreamKind } = {};
      if (req.method === 'POST') {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const c of req as AsyncIterable<Buffer>) {
          size += c.length;
          if (size > maxBody)
            return send(res, 413, { error: { name: 'BadRequest', message: 'body too large' } });
          chunks.push(c);
        }
        try {
          body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
        } catch {
          return send(res, 400, { error: { name: 'BadRequest', message: 'body is not valid JSON' } });
        }
      }
      const name = m[3]!;
      if (m[2]) {
        // Admin: inspection and fault control for tests and demos.
        if (name === 'state') return send(res, 200, { result: client.simulator.toState() });
        if (name === 'disconnect' && req.method === 'POST') {
          client.disconnect(body.stream ?? 'all');
          return send(res, 200, { result: true });
        }
        return send(res, 404, { error: { name: 'BadRequest', message: `no admin route ${name}` } });
      }
      // The venue's client-id rules (see VenueCapabilities): what the remote client decides by.
      if (name === 'capabilities' && req.method === 'POST')
        return send(res, 200, { result: client.capabilities });
      if (req.method !== 'POST' || !(name in METHODS))
        return send(res, 404, {
          error: { name: 'BadRequest', message: `unknown method ${req.method} ${name}` },
        });
      const args = Array.isArray(body.args) ? body.args : [];
      try {
        const fn = client[name as Method] as (...a: unknown[]) => Promise<unknown>;
        const result = await fn.apply(client, args);
        send(res, 200, { result });
      } catch (e) {
        if (e instanceof RequestTimeout) {
          res.destroy();
          return;
        }
        send(res, statusFor(e), { error: serializeError(e) });
      }
    })().catch((e) => {
      if (!res.headersSent) send(res, 500, { error: serializeError(e) });
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/v1/stream' || !authorized(req, url)) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveStream(ws, venues));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * One websocket connection: multiplexed subscriptions. A slow client does not slow the venue:
 * quotes for a subscription are dropped while the socket's send buffer is above the
 * high-water mark (the next quote supersedes them), order updates are never dropped.
 */
function serveStream(ws: WebSocket, venues: Map<string, SimExchangeClient>): void {
  const subs = new Map<number, Subscription>();
  const HIGH_WATER = 1 << 20;
  const out = (msg: unknown, droppable: boolean): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (droppable && ws.bufferedAmount > HIGH_WATER) return;
    ws.send(JSON.stringify(msg));
  };
  ws.on('message', (raw) => {
    let req: StreamRequest;
    try {
      req = JSON.parse(String(raw)) as StreamRequest;
    } catch {
      return out({ error: { name: 'BadRequest', message: 'message is not valid JSON' } }, false);
    }
    if (req.op === 'unsubscribe') {
      subs.get(req.id)?.close();
      subs.delete(req.id);
      return;
    }
    const client = req.venue ? venues.get(req.venue) : undefined;
    if (!client || typeof req.id !== 'number')
      return out({ id: req.id, error: { name: 'BadRequest', message: `unknown venue ${req.venue}` } }, false);
    try {
      const onError = (e: Error) => {
        subs.delete(req.id);
        out({ id: req.id, error: serializeError(e) }, false);
      };
      if (req.channel === 'ticker' && req.symbol) {
        subs.set(
          req.id,
          client.watchBookTicker(req.symbol, {
            data: (t) => out({ id: req.id, data: t }, true),
            error: onError,
          }),
        );
      } else if (req.channel === 'orders') {
        subs.set(
          req.id,
          client.watchOrders({ data: (o) => out({ id: req.id, data: o }, false), error: onError }),
        );
      } else {
        out({ id: req.id, error: { name: 'BadRequest', message: `unknown channel ${req.channel}` } }, false);
        return;
      }
      out({ id: req.id, subscribed: true }, false);
    } catch (e) {
      out({ id: req.id, error: serializeError(e) }, false);
    }
  });
  ws.on('close', () => {
    for (const s of subs.values()) s.close();
    subs.clear();
  });
}
