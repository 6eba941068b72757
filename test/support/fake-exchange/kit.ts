/**
 * What every local fake exchange shares: one HTTP server on 127.0.0.1 that stands in for all of
 * a venue's hosts (ccxt's URLs are rewritten so the original host stays the first path segment:
 * `https://api.gateio.ws/api/v4/spot/orders` → `http://127.0.0.1:PORT/api.gateio.ws/api/v4/spot/orders`),
 * the websocket upgrade on the same port, the request log, and the faults every venue can
 * suffer: rate-limit answers, a placement whose answer never comes, answers with ids only.
 *
 * A fake names its venue's wire format only: routes (`route`), error bodies (`errorAnswer`),
 * and what its sockets say (`onSocket`). Orders are matched by simulated venues behind it, so
 * they really rest, fill in parts and pay fees.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/** A request as a fake's routes see it. */
export interface FakeRequest {
  method: string;
  /** The venue host ccxt addressed (api.gateio.ws, fx-ws.gateio.ws…). */
  host: string;
  /** The path below the host, e.g. /api/v4/spot/orders. */
  path: string;
  query: URLSearchParams;
  /** The query string as sent (signatures are computed over it). */
  rawQuery: string;
  body: string;
  headers: IncomingMessage['headers'];
  res: ServerResponse;
}

/** A venue's refusal: an HTTP status and the body the venue sends with it. */
export class VenueAnswer extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === 'object' ? JSON.stringify(body) : String(body));
  }
}

/** Returned by a route that keeps the request hanging (the answer is lost). */
export const HUNG = Symbol('hung');

export interface FakeFaults {
  /** The next N signed requests are answered with the venue's rate-limit refusal. */
  rateLimit: number;
  /** The next N placements are carried out and never answered. */
  timeoutAfterPlace: number;
  /** The next N placements are answered with ids only (no status, nothing filled). */
  ackOnly: number;
}

export abstract class FakeExchange {
  readonly faults: FakeFaults = { rateLimit: 0, timeoutAfterPlace: 0, ackOnly: 0 };
  /** Every signed request, `METHOD /path` (for tests that check what ccxt called). */
  readonly requests: string[] = [];
  /** Every request, signed or not. */
  readonly allRequests: string[] = [];
  protected readonly sockets = new Set<WebSocket>();
  private server!: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private port = 0;
  private readonly hung: ServerResponse[] = [];

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** ccxt URL → this server (keeps the original host as the first path segment). */
  rewriteUrl = (url: string): string =>
    url.replace(/^(https?|wss?):\/\/([^/]+)/, (_m, proto: string, host: string) => {
      const h = host.replace(/:\d+$/, '');
      return `${proto.startsWith('ws') ? 'ws' : 'http'}://127.0.0.1:${this.port}/${h}`;
    });

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server.on('upgrade', (req, socket, head) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.add(ws);
        ws.on('close', () => this.sockets.delete(ws));
        const u = new URL(req.url ?? '/', 'http://x');
        const [, host = '', ...rest] = u.pathname.split('/');
        this.onSocket(ws, host, `/${rest.join('/')}`, u.searchParams);
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    this.started();
  }

  /** Close every websocket (clients must reconnect and resubscribe). */
  dropStreams(): void {
    for (const s of this.sockets) s.terminate();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    for (const r of this.hung) r.destroy();
    this.dropStreams();
    this.wss.close();
    await new Promise<void>((r) => this.server.close(() => r()));
    this.disposed();
  }

  /** A placement was carried out: answer it, or lose the answer (timeoutAfterPlace). */
  protected answerPlacement(res: ServerResponse, answer: () => unknown): unknown {
    if (this.faults.timeoutAfterPlace > 0) {
      this.faults.timeoutAfterPlace--;
      this.hung.push(res);
      return HUNG;
    }
    return answer();
  }

  /** Whether this placement is answered with ids only (the ackOnly fault, counted down). */
  protected takeAckOnly(): boolean {
    if (this.faults.ackOnly <= 0) return false;
    this.faults.ackOnly--;
    return true;
  }

  /** A signed request: logged, and refused while the rateLimit fault lasts. */
  protected signedRequest(key: string, refusal: () => VenueAnswer): void {
    this.requests.push(key);
    if (this.faults.rateLimit > 0) {
      this.faults.rateLimit--;
      throw refusal();
    }
  }

  /** Send `msg` as JSON to every open socket `which` selects. */
  protected broadcast(which: (ws: WebSocket) => boolean, msg: unknown): void {
    const text = JSON.stringify(msg);
    for (const ws of this.sockets) if (ws.readyState === ws.OPEN && which(ws)) ws.send(text);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://x');
    const [, host = '', ...rest] = u.pathname.split('/');
    let body = '';
    for await (const chunk of req) body += chunk;
    const r: FakeRequest = {
      method: req.method ?? 'GET',
      host,
      path: `/${rest.join('/')}`,
      query: u.searchParams,
      rawQuery: u.search.slice(1),
      body,
      headers: req.headers,
      res,
    };
    this.allRequests.push(`${r.method} ${r.path}`);
    try {
      const answer = await this.route(r);
      if (answer === HUNG) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    } catch (e) {
      const a = e instanceof VenueAnswer ? e : this.errorAnswer(e as Error);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(JSON.stringify(a.body));
    }
  }

  /** A new top of book on `symbol` (size in the market's amount unit). */
  abstract quote(symbol: string, bid: number, ask: number, size?: number): void;
  /** Called once the server listens (subscribe to the simulated venues here). */
  protected abstract started(): void;
  /** Called after the server closed (dispose the simulated venues here). */
  protected abstract disposed(): void;
  protected abstract route(r: FakeRequest): unknown;
  /** Anything a route threw that is not a VenueAnswer, in the venue's words. */
  protected abstract errorAnswer(e: Error): VenueAnswer;
  protected abstract onSocket(ws: WebSocket, host: string, path: string, query: URLSearchParams): void;
}

/** A number as venues print it: a decimal string without float noise. */
export const decimal = (n: number | undefined): string =>
  n === undefined ? '0' : String(Number(n.toPrecision(15)));
