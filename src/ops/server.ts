/**
 * /healthz and /metrics over HTTP: on the inspector's server when it runs, on their own
 * (`statearb run --metrics-port N`) otherwise. /healthz answers 200 when everything is ok and
 * 503 when something is degraded or down, with the report as JSON either way.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OpsMetrics } from './metrics.ts';

/** Answer /healthz or /metrics; false for any other path (the caller serves it). */
export function handleOps(req: IncomingMessage, res: ServerResponse, metrics: OpsMetrics): boolean {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (req.method !== 'GET' || (path !== '/healthz' && path !== '/metrics')) return false;
  if (path === '/healthz') {
    const report = metrics.health();
    res.writeHead(report.status === 'ok' ? 200 : 503, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
    });
    res.end(JSON.stringify(report));
    return true;
  }
  metrics.render().then(
    ({ contentType, body }) => {
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
      res.end(body);
    },
    (e: Error) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`metrics failed: ${e.message}\n`);
    },
  );
  return true;
}

export class MetricsPortInUseError extends Error {
  constructor(host: string, port: number) {
    super(`metrics: port ${port} on ${host} is in use; choose another with --metrics-port`);
    this.name = 'MetricsPortInUseError';
  }
}

/** A server for /healthz and /metrics alone. */
export async function startOpsServer(
  host: string,
  port: number,
  metrics: OpsMetrics,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (!handleOps(req, res, metrics)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: /healthz and /metrics are served here\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new MetricsPortInUseError(host, port) : e),
    );
    server.listen(port, host, () => resolve());
  });
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    url: `http://${shown}:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
