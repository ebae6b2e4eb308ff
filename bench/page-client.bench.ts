/**
 * Why the collector has its own HTTP/1.1 client (src/datalayer/page-client.ts): the same scrape loop (one
 * ticker, every idle pod's page every 50 ms, one kept-alive connection per pod) through PageClient, through
 * node:http with a keep-alive Agent, and through fetch (undici, bundled in Node). CPU of this process per
 * page, page servers in another process; the whole 48 KB vLLM page and the few-hundred-byte page the
 * collector asks for with `?name[]=`. `node dist/bench/page-client.bench.js [pods] [seconds]`.
 */
import http from 'node:http';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PageClient } from '../src/datalayer/page-client.js';

type Fetcher = (done: () => void) => void;

const NAMES = ['vllm:num_requests_waiting', 'vllm:num_requests_running', 'vllm:kv_cache_usage_perc', 'vllm:lora_requests_info', 'vllm:cache_config_info'];
const FILTERED = `/metrics?${NAMES.map((n) => `name%5B%5D=${encodeURIComponent(n)}`).join('&')}`;

function pageClient(port: number, path: string): Fetcher {
  const c = new PageClient({ host: '127.0.0.1', port, path, scheme: 'http', insecureSkipVerify: false });
  return (done) =>
    c.get(8 << 20, (err) => {
      if (err) throw err;
      done();
    });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function nodeHttp(port: number, path: string): Fetcher {
  return (done) =>
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (Buffer.concat(chunks), done()));
      })
      .on('error', (e) => {
        throw e;
      });
}

function undiciFetch(port: number, path: string): Fetcher {
  const url = `http://127.0.0.1:${port}${path}`;
  return (done) =>
    void fetch(url)
      .then((r) => r.arrayBuffer())
      .then(() => done());
}

export interface PageClientRow {
  client: string;
  page: string;
  pagesPerSec: number;
  cpuUsPerPage: number;
}

async function measure(fetchers: Fetcher[], seconds: number): Promise<{ pagesPerSec: number; cpuUsPerPage: number }> {
  const busy = fetchers.map(() => false);
  let pages = 0;
  const tick = () =>
    fetchers.forEach((f, i) => {
      if (busy[i]) return;
      busy[i] = true;
      f(() => ((busy[i] = false), pages++));
    });
  const timer = setInterval(tick, 50);
  await new Promise((r) => setTimeout(r, 2000)); // connections up, JIT warm
  const p0 = pages;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const used = process.cpuUsage(cpu);
  const wall = (performance.now() - t0) / 1000;
  const n = pages - p0;
  clearInterval(timer);
  while (busy.some(Boolean)) await new Promise((r) => setTimeout(r, 5));
  return { pagesPerSec: n / wall, cpuUsPerPage: (used.user + used.system) / n };
}

export async function runPageClientBench(pods = 64, seconds = 5): Promise<PageClientRow[]> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./page-servers.js', import.meta.url)), String(pods)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const ports = JSON.parse(await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve))) as number[];
  const rows: PageClientRow[] = [];
  try {
    for (const [page, path] of [['whole (48 KB)', '/metrics'], ['name[] filtered', FILTERED]] as const) {
      for (const [client, make] of [['PageClient', pageClient], ['node:http keep-alive', nodeHttp], ['fetch (undici)', undiciFetch]] as const) {
        rows.push({ client, page, ...(await measure(ports.map((p) => make(p, path)), seconds)) });
      }
    }
  } finally {
    child.stdin!.end();
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const pods = Number(process.argv[2] ?? 64);
  console.log(`Scraping ${pods} pods every 50 ms: CPU of the scraping process per page`);
  console.log('  page              client                  pages/s   CPU µs/page');
  for (const r of await runPageClientBench(pods, Number(process.argv[3] ?? 5))) {
    console.log(`  ${r.page.padEnd(17)} ${r.client.padEnd(22)} ${r.pagesPerSec.toFixed(0).padStart(8)} ${r.cpuUsPerPage.toFixed(1).padStart(12)}`);
  }
  agent.destroy();
}
