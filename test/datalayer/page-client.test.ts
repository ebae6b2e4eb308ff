import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { PageClient } from '../../src/datalayer/page-client.js';

/** A raw TCP server whose reply to each request the test scripts, to exercise connection handling. */
async function rawServer(reply: (socket: net.Socket, nth: number) => void) {
  let requests = 0;
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', () => reply(socket, ++requests));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    stats: () => ({ requests, connections }),
    close: () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))),
  };
}

/** One scrape as the collector runs it: the deadline enforced by a sweep; the page copied (its buffer is reused). */
function page(c: PageClient, timeoutMs = 1000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sweep = setInterval(() => c.expire(performance.now(), timeoutMs), 10);
    c.get(1000, (err, body) => {
      clearInterval(sweep);
      if (err) reject(err);
      else resolve(Buffer.from(body!));
    });
  });
}

const client = (port: number) => new PageClient({ host: '127.0.0.1', port, path: '/metrics', scheme: 'http', insecureSkipVerify: false });
const response = (body: string, extra = '') => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;

test('page client: reuses one connection; an idle close by the server is retried, not reported', async () => {
  const server = await rawServer((socket, nth) => {
    socket.write(response(`page ${nth}`));
    if (nth === 2) socket.end(); // the server's keep-alive timeout
  });
  const c = client(server.port);
  try {
    assert.equal((await page(c)).toString(), 'page 1');
    assert.equal((await page(c)).toString(), 'page 2');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await page(c)).toString(), 'page 3');
    assert.deepEqual(server.stats(), { requests: 3, connections: 2 });
  } finally {
    c.close();
    await server.close();
  }
});

test('page client: a reused connection reset before any byte is retried once on a new one', async () => {
  const server = await rawServer((socket, nth) => (nth === 2 ? socket.destroy() : socket.write(response(`page ${nth}`))));
  const c = client(server.port);
  try {
    assert.equal((await page(c)).toString(), 'page 1');
    assert.equal((await page(c)).toString(), 'page 3');
    assert.deepEqual(server.stats(), { requests: 3, connections: 2 });
  } finally {
    c.close();
    await server.close();
  }
});

test('page client: a fresh connection that dies, a cut-short page, a timeout and connection: close', async () => {
  const server = await rawServer((socket, nth) => {
    if (nth === 1) socket.destroy();
    else if (nth === 2) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort');
    else if (nth === 3) return; // never answers
    else socket.write(response('fine', 'Connection: close\r\n'));
  });
  const c = client(server.port);
  try {
    await assert.rejects(page(c), { reason: 'connection' });
    await assert.rejects(page(c), { reason: 'protocol', message: 'connection closed mid-response' });
    await assert.rejects(page(c, 100), { reason: 'timeout', message: 'no complete page within 100 ms' });
    assert.equal((await page(c)).toString(), 'fine');
    assert.equal((await page(c)).toString(), 'fine');
    assert.deepEqual(server.stats(), { requests: 5, connections: 5 }, 'each failure and each close costs its connection');
  } finally {
    c.close();
    await server.close();
  }
});

test('page client: nothing listening is a connection error naming the cause', async () => {
  const server = await rawServer(() => {});
  const port = server.port;
  await server.close();
  const c = client(port);
  await assert.rejects(page(c), (err: Error & { reason: string }) => err.reason === 'connection' && /ECONNREFUSED/.test(err.message));
  c.close();
});

test('page client: the reused body buffer follows the pages; one huge page does not pin its size', async () => {
  const huge = 'x'.repeat(3 * 1024 * 1024);
  const server = await rawServer((socket, nth) => socket.write(response(nth === 2 ? huge : 'y'.repeat(20_000))));
  const c = client(server.port);
  const get = () => new Promise<number>((resolve, reject) => c.get(8 * 1024 * 1024, (err, body) => (err ? reject(err) : resolve(body!.length))));
  try {
    assert.equal(await get(), 20_000);
    const steady = c.bufferedBytes;
    assert.ok(steady >= 20_000 && steady <= 256 * 1024, `buffer ${steady} bytes after a 20 KB page`);
    assert.equal(await get(), huge.length);
    assert.ok(c.bufferedBytes >= huge.length, 'a huge page is read into a grown buffer');
    assert.equal(await get(), 20_000);
    assert.ok(c.bufferedBytes <= 256 * 1024, `buffer ${c.bufferedBytes} bytes after the pages went back to 20 KB`);
    assert.equal(await get(), 20_000);
  } finally {
    c.close();
    await server.close();
  }
});
