import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { vllmPage } from './vllm-page.js';

/** Model servers on 127.0.0.2, 127.0.0.3…, all on one port (as pods of a pool share the target port). */
export async function loopbackModelServers(n: number): Promise<{ ips: string[]; port: number; close(): Promise<void> }> {
  for (let attempt = 0; ; attempt++) {
    const servers: http.Server[] = [];
    let port = 0;
    try {
      for (let i = 0; i < n; i++) {
        const s = http.createServer((_q, r) => r.end(vllmPage({ waiting: 0, kv: 0.1 })));
        await new Promise<void>((resolve, reject) => (s.once('error', reject), s.listen(port, `127.0.0.${i + 2}`, () => resolve())));
        servers.push(s);
        port = (s.address() as AddressInfo).port;
      }
      return {
        ips: servers.map((_s, i) => `127.0.0.${i + 2}`),
        port,
        close: async () => void (await Promise.all(servers.map((s) => new Promise((r) => (s.closeAllConnections(), s.close(r)))))),
      };
    } catch (err) {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      if (attempt > 5) throw err;
    }
  }
}

