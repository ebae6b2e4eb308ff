import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import prom from 'prom-client';
import { startMetricsServer } from '../../src/server/metrics-server.js';

function request(port: number, method: string, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

test('GET /metrics serves the registry', async () => {
  const registry = new prom.Registry();
  const counter = new prom.Counter({ name: 'epp_test_total', help: 'a test counter', labelNames: ['kind'], registers: [registry] });
  counter.inc({ kind: 'a' }, 3);
  const server = await startMetricsServer(registry, 0, '127.0.0.1');
  try {
    assert.ok(server.port > 0);
    const res = await request(server.port, 'GET', '/metrics');
    assert.equal(res.status, 200);
    assert.equal(res.type, registry.contentType);
    assert.match(res.body, /# TYPE epp_test_total counter/);
    assert.match(res.body, /epp_test_total\{kind="a"\} 3/);
  } finally {
    await server.close();
  }
});

test('other paths → 404, other methods → 405, registry failure → 500', async () => {
  const registry = new prom.Registry();
  const server = await startMetricsServer(registry, 0, '127.0.0.1');
  try {
    const notFound = await request(server.port, 'GET', '/nope');
    assert.equal(notFound.status, 404);
    assert.match(notFound.type, /^text\/plain/);
    const notAllowed = await request(server.port, 'POST', '/metrics');
    assert.equal(notAllowed.status, 405);
    new prom.Gauge({
      name: 'epp_broken',
      help: 'collect throws',
      registers: [registry],
      collect() {
        throw new Error('boom');
      },
    });
    const failed = await request(server.port, 'GET', '/metrics');
    assert.equal(failed.status, 500);
    assert.match(failed.body, /boom/);
  } finally {
    await server.close();
  }
});

test('close() leaves nothing listening, even with a keep-alive connection open', async () => {
  const registry = new prom.Registry();
  const server = await startMetricsServer(registry, 0, '127.0.0.1');
  const agent = new http.Agent({ keepAlive: true });
  try {
    await new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: server.port, path: '/metrics', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      }).on('error', reject);
    });
    assert.equal(await canConnect(server.port), true);
    await server.close();
    assert.equal(await canConnect(server.port), false);
    await server.close(); // idempotent
  } finally {
    agent.destroy();
    await server.close();
  }
});
