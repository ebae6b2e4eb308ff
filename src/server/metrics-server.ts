/**
 * The Prometheus scrape endpoint: node:http serving GET /metrics from a prom-client registry, and any
 * extra GET routes the EPP adds (the status page).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type prom from 'prom-client';

export interface MetricsServer {
  /** The port listened on (the chosen one when 0 was asked for). */
  port: number;
  /** Stops listening and closes every open connection. */
  close(): Promise<void>;
}

/** Decides whether a request may read metrics (see kube/metrics-auth.ts); absent = open. */
export type MetricsAuthorizer = (authorization: string | undefined) => Promise<{ readonly ok: true } | { readonly ok: false; readonly status: number; readonly message: string }>;

export async function startMetricsServer(
  registry: prom.Registry,
  port: number,
  host = '0.0.0.0',
  authorize?: MetricsAuthorizer,
  routes: ReadonlyMap<string, (req: http.IncomingMessage, res: http.ServerResponse) => void> = new Map(),
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (authorize) {
      authorize(req.headers.authorization).then(
        (r) => (r.ok ? serve(req, res) : res.writeHead(r.status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${r.message}\n`)),
        () => res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('authorization failed\n'),
      );
      return;
    }
    serve(req, res);
  });
  const serve = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const pathname = (req.url ?? '/').split('?')[0]!;
    const route = routes.get(pathname);
    if (pathname !== '/metrics' && !route) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET, HEAD' }).end('method not allowed\n');
      return;
    }
    if (route) return route(req, res);
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'Content-Type': registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`error collecting metrics: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  };

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
