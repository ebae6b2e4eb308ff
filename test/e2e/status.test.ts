/**
 * The status page end to end: /status.json over real HTTP from a real EPP routing over real gRPC, and
 * /status itself in headless Chromium (Debian's `chromium`, driven by puppeteer-core) with simulated pods
 * and the demo gateway: no console errors, the pods shown, a request sent through the gateway appearing
 * in the decision list. The screenshot is kept in test-artifacts/status.png.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { chat, destinationOf, fakePods, requestBody, requestHeaders, startTestEpp, Stream } from '../helpers/ext-proc-harness.js';
import { startSimPool } from '../../src/sim/server.js';
import { startGateway } from '../../src/gateway/gateway.js';
import type { StatusDocument } from '../../src/status/status-data.js';

test('e2e status: /status.json shows the pool and, once watched, each decision with its scores; never the prompt; /status is HTML', async () => {
  const fake = await fakePods([{ waiting: 3, kv: 0.5 }, { waiting: 0, kv: 0.1 }]);
  const t = await startTestEpp({ endpoints: fake.pods });
  const base = `http://127.0.0.1:${t.epp.metricsPort}`;
  try {
    const page = await fetch(`${base}/status`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    assert.match(await page.text(), /<title>epp-ts status<\/title>/);

    const before = (await (await fetch(`${base}/status.json`)).json()) as StatusDocument;
    assert.deepEqual(before.pool.endpoints.map((e) => [e.name, e.waiting, e.kvCacheUsage, e.stale]), [[fake.pods[0]!.name, 3, 0.5, null], [fake.pods[1]!.name, 0, 0.1, null]]);
    assert.ok(before.pool.endpoints.every((e) => e.metricsAgeMs !== null && e.metricsAgeMs < 5000));
    assert.equal(before.flowControl, null);

    const secret = 'a prompt that must not appear on the status page';
    const s = new Stream(t.client).send(requestHeaders({ 'x-request-id': 'status-1' })).send(requestBody(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: secret }] })));
    await s.responses(1);
    const text = await (await fetch(`${base}/status.json`)).text();
    assert.ok(!text.includes(secret), 'no prompt text');
    const after = JSON.parse(text) as StatusDocument;
    const d = after.decisions.find((x) => x.requestId === 'status-1')!;
    assert.ok(d, 'the decision is listed');
    assert.equal(d.destination, destinationOf(s.received));
    assert.deepEqual(d.profiles[0]!.scorers.map((c) => c.scorer), ['queue-scorer', 'kv-cache-utilization-scorer', 'prefix-cache-scorer']);
    assert.equal(d.profiles[0]!.picked[0], fake.pods[1]!.name, 'the idle pod');
    s.cancel();

    assert.equal((await fetch(`${base}/status.json`, { method: 'POST' })).status, 405);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  } finally {
    await t.close();
    await fake.close();
  }
});

function chromiumPath(): string | undefined {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      // not this one
    }
  }
  return undefined;
}

test('e2e status page in headless Chromium: loads without console errors, shows the pods, and a request through the gateway appears', async (t) => {
  const executablePath = chromiumPath();
  if (!executablePath) return t.skip('no chromium on this machine (CI installs Debian\'s chromium: .ci/run)');
  const puppeteer = (await import('puppeteer-core')).default;
  const pool = await startSimPool(2, { model: 'demo-model' });
  const epp = await startTestEpp({ endpoints: pool.servers.map((s) => ({ name: s.name, port: s.port })) });
  const gateway = await startGateway({ port: 0, host: '127.0.0.1', eppTarget: `127.0.0.1:${epp.epp.grpcPort}`, credentials: grpc.credentials.createInsecure() });
  const browser = await puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    const problems: string[] = [];
    page.on('console', (m) => (m.type() === 'error' ? problems.push(m.text()) : undefined));
    page.on('pageerror', (e) => problems.push(String(e)));
    await page.goto(`http://127.0.0.1:${epp.epp.metricsPort}/status`, { waitUntil: 'load' });
    await page.waitForFunction("document.querySelectorAll('#endpoints tr').length === 3", { timeout: 10_000 });
    const pods = await page.$$eval('#endpoints tr td:first-child', (cells) => cells.map((c) => c.textContent));
    assert.deepEqual(pods, pool.servers.map((s) => s.name));

    const res = await fetch(`http://127.0.0.1:${gateway.port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chat('demo-model'),
    });
    assert.equal(res.status, 200);
    const destination = res.headers.get('x-gateway-destination-endpoint')!;
    await res.text();
    await page.waitForFunction(`[...document.querySelectorAll('#decisions summary')].some((s) => s.textContent.includes(${JSON.stringify(destination)}))`, { timeout: 10_000 });
    const picked = await page.$eval('#decisions tr.picked td:first-child', (c) => c.textContent);
    assert.equal(`${pool.servers.find((s) => s.name === picked)!.address}:${pool.servers.find((s) => s.name === picked)!.port}`, destination, 'the highlighted row is the pick');
    mkdirSync(new URL('../../../test-artifacts/', import.meta.url), { recursive: true });
    await page.screenshot({ path: new URL('../../../test-artifacts/status.png', import.meta.url).pathname });
    assert.deepEqual(problems, [], 'no console errors');
  } finally {
    await browser.close();
    await gateway.close();
    await epp.close();
    await pool.close();
  }
});
