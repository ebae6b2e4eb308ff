/**
 * Child process for the scrape benchmark: N HTTP servers on loopback serving a vLLM-sized metrics page,
 * so the collector's CPU is measured alone in the parent. Prints the ports as one JSON line.
 * `page-servers.js <count> [same|changing]`: with `changing`, every response carries other queue, running
 * and KV figures (64 variants in turn), as a busy pod's page does; by default every page is the same.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { vllmPage } from '../test/helpers/vllm-page.js';
import { requestedNames, restrictToNames } from '../src/sim/name-filter.js';

const count = Number(process.argv[2] ?? 100);
const variants = process.argv[3] === 'changing' ? 64 : 1;
const pages = Array.from({ length: variants }, (_, i) => (variants === 1 ? vllmPage() : vllmPage({ waiting: i % 7, running: (i * 5) % 13, kv: (i % 10) / 10 })));
const full = pages.map((p) => Buffer.from(p));
// prometheus_client's ?name[]= filter, as vLLM serves it; pages cached per query.
const filtered = new Map<string, Buffer[]>();
let served = 0;
const bodyFor = (url: string) => {
  const n = served++ % variants;
  const names = requestedNames(url);
  if (names.length === 0) return full[n]!;
  let bodies = filtered.get(url);
  if (!bodies) filtered.set(url, (bodies = pages.map((p) => Buffer.from(restrictToNames(p, names)))));
  return bodies[n]!;
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
