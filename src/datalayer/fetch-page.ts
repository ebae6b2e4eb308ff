/**
 * One GET of a metrics page over a keep-alive agent, with a deadline and a size cap: a slow or huge page
 * fails that scrape, it never stalls the collector or fills memory.
 */
import http from 'node:http';
import https from 'node:https';

export interface FetchOptions {
  readonly agent: http.Agent;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

export class ScrapeError extends Error {
  constructor(readonly reason: 'timeout' | 'http-status' | 'too-large' | 'connection', message: string) {
    super(message);
    this.name = 'ScrapeError';
  }
}

export function fetchPage(url: URL, options: FetchOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    let settled = false;
    const fail = (err: ScrapeError) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(err);
    };
    const req = client.get(url, { agent: options.agent, headers: { accept: 'text/plain' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return fail(new ScrapeError('http-status', `HTTP ${res.statusCode}`));
      }
      const declared = Number(res.headers['content-length']);
      if (declared > options.maxBytes) return fail(new ScrapeError('too-large', `page of ${declared} bytes is over the ${options.maxBytes}-byte cap`));
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) return fail(new ScrapeError('too-large', `page is over the ${options.maxBytes}-byte cap`));
        chunks.push(chunk);
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(Buffer.concat(chunks, size).toString('latin1')); // metric names and numbers are ASCII
      });
      res.on('error', (err) => fail(new ScrapeError('connection', err.message)));
    });
    const timer = setTimeout(() => fail(new ScrapeError('timeout', `no complete page within ${options.timeoutMs} ms`)), options.timeoutMs);
    req.on('error', (err) => fail(new ScrapeError('connection', err.message)));
    req.on('close', () => clearTimeout(timer));
  });
}
