/**
 * Child process for the scrape benchmark: N HTTP servers on loopback serving a vLLM-sized metrics page,
 * so the collector's CPU is measured alone in the parent. Prints the ports as one JSON line.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { vllmPage } from '../test/helpers/vllm-page.js';
import { requestedNames, restrictToNames } from '../src/sim/name-filter.js';

const count = Number(process.argv[2] ?? 100);
const page = vllmPage();
const full = Buffer.from(page);
// prometheus_client's ?name[]= filter, as vLLM serves it; pages cached per query.
const filtered = new Map<string, Buffer>();
const bodyFor = (url: string) => {
  const names = requestedNames(url);
  if (names.length === 0) return full;
  let body = filtered.get(url);
  if (!body) filtered.set(url, (body = Buffer.from(restrictToNames(page, names))));
  return body;
};
const ports: number[] = [];
for (let i = 0; i < count; i++) {
  const server = http.createServer((req, res) => {
    const body = bodyFor(req.url ?? '/');
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': body.length });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  ports.push((server.address() as AddressInfo).port);
}
process.stdout.write(JSON.stringify(ports) + '\n');
process.stdin.on('end', () => process.exit(0)); // the parent closing our stdin ends us
process.stdin.resume();
