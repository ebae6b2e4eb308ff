/**
 * Child process for the soak benchmark: N metrics page servers on loopback, each in a mode the parent sets
 * on stdin (`mode <i> good|hang|garbage|error`): `good` serves a vLLM page (each pod its own queue and KV
 * figures), `hang` accepts the request and never answers, `garbage` answers 200 with a page of malformed
 * lines, `error` answers 500. Prints the ports as one JSON line.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { vllmPage } from '../test/helpers/vllm-page.js';
import { serveControl } from './child-control.js';

type Mode = 'good' | 'hang' | 'garbage' | 'error';
const count = Number(process.argv[2] ?? 16);
const garbage = Buffer.from('vllm:num_requests_waiting{model_name="x" 12\nvllm:kv_cache_usage_perc{} not-a-number\n\u0000\u0001binary\n'.repeat(50));
const modes: Mode[] = [];
const ports: number[] = [];
const hanging = new Map<number, Set<http.ServerResponse>>();
for (let i = 0; i < count; i++) {
  const page = Buffer.from(vllmPage({ waiting: i % 5, running: (i * 3) % 17, kv: ((i * 7) % 10) / 10 }));
  modes.push('good');
  const server = http.createServer((_req, res) => {
    switch (modes[i]) {
      case 'hang': {
        const set = hanging.get(i) ?? new Set();
        hanging.set(i, set.add(res));
        res.on('close', () => set.delete(res));
        return;
      }
      case 'garbage':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': garbage.length });
        return res.end(garbage);
      case 'error':
        res.writeHead(500, { 'content-length': 0 });
        return res.end();
      default:
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': page.length });
        return res.end(page);
    }
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  ports.push((server.address() as AddressInfo).port);
}
process.stdout.write(JSON.stringify(ports) + '\n');
serveControl({
  mode: (arg) => {
    const [i, mode] = arg.split(' ') as [string, Mode];
    modes[Number(i)] = mode;
    if (mode !== 'hang') for (const res of hanging.get(Number(i)) ?? []) res.destroy(); // hung requests end when the pod recovers
    return { ok: true };
  },
});
