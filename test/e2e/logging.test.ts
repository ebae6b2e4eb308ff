/** Logs: requests appear only at debug level, with ids, models and endpoints, never the prompt. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chat, destinationOf, fakePods, requestBody, requestHeaders, responseBody, responseHeaders, startTestEpp, Stream } from '../helpers/ext-proc-harness.js';

const SECRET = 'the secret prompt text';

for (const debug of [false, true]) {
  test(`logging (${debug ? '-v=1' : 'default'}): per-request lines only at debug level, and never the prompt`, async () => {
    const fake = await fakePods([{ waiting: 0 }]);
    const lines: string[] = [];
    const t = await startTestEpp({ endpoints: fake.pods, args: debug ? ['-v=1'] : [], logLines: lines });
    try {
      const s = new Stream(t.client).send(requestHeaders({ 'x-request-id': 'req-42' })).send(requestBody(chat('m', { messages: [{ role: 'user', content: SECRET }] })));
      await s.responses(2);
      s.send(responseHeaders({ ':status': '200', 'content-type': 'application/json' })).send(responseBody(`{"answer":"${SECRET}"}`, true));
      await s.responses(4);
      const bad = new Stream(t.client).send(requestHeaders({})).send(requestBody(`{"prompt": "${SECRET}"}`));
      await bad.responses(1);
      // Malformed JSON: V8's parse error quotes an excerpt of the body; it must not reach the log.
      const malformed = new Stream(t.client).send(requestHeaders({})).send(requestBody(`{"model":"m","prompt":${SECRET}}`));
      await malformed.responses(1);
      const parsed = lines.map((l) => JSON.parse(l) as { msg: string; requestId?: string; level: number });
      const perRequest = parsed.filter((l) => ['routed', 'request ended', 'request refused'].includes(l.msg));
      assert.deepEqual(perRequest.map((l) => l.msg), debug ? ['routed', 'request ended', 'request refused', 'request refused'] : []);
      if (debug) assert.equal(perRequest[0]!.requestId, 'req-42');
      assert.ok(!lines.some((l) => l.includes(SECRET) || l.includes('the secret')), 'the prompt never reaches the log');
    } finally {
      await t.close();
      await fake.close();
    }
  });
}

test('logging: Go EPP flags this EPP does not implement are accepted and warned about once, by name', async () => {
  const fake = await fakePods([{ waiting: 0 }]);
  const lines: string[] = [];
  const t = await startTestEpp({ endpoints: fake.pods, args: ['--tracing', '--zap-encoder=json', '--tracing=true', '--disable-endpoint-subset-filter'], logLines: lines });
  try {
    const warnings = lines.map((l) => JSON.parse(l) as { msg: string }).filter((l) => /a Go EPP flag/.test(l.msg)).map((l) => l.msg);
    assert.deepEqual(warnings, ['--tracing (a Go EPP flag) is not implemented: ignored', '--zap-encoder (a Go EPP flag) is not implemented: ignored']);
    // --disable-endpoint-subset-filter: a hint naming no pod of the pool no longer refuses the request.
    const hint = { metadataContext: { filterMetadata: { 'envoy.lb.subset_hint': { fields: { 'x-gateway-destination-endpoint-subset': { listValue: { values: [{ stringValue: '10.9.9.9:1' }] } } } } } } };
    const s = new Stream(t.client).send(requestHeaders({}, false, hint)).send(requestBody(chat('m')));
    assert.equal(destinationOf(await s.responses(2)), fake.pods[0]!.hostPort);
    s.endSide();
  } finally {
    await t.close();
    await fake.close();
  }
});
