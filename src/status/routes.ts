/**
 * The status page's two routes on the metrics port: `/status` (the page) and `/status.json` (its data).
 * Reading either marks the decision log watched, which is what turns decision recording on.
 */
import type http from 'node:http';
import { STATUS_PAGE } from './page.js';
import { statusDocument, type StatusSources } from './status-data.js';

export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export function statusRoutes(sources: StatusSources): ReadonlyMap<string, RouteHandler> {
  const page: RouteHandler = (req, res) => {
    sources.decisions.watched();
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : STATUS_PAGE);
  };
  const json: RouteHandler = (req, res) => {
    sources.decisions.watched();
    let body: string;
    try {
      body = JSON.stringify(statusDocument(sources));
    } catch (err) {
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`status unavailable: ${err instanceof Error ? err.message : String(err)}\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  return new Map([
    ['/status', page],
    ['/status/', page],
    ['/status.json', json],
  ]);
}
