/**
 * A plugin that throws stays with its stream: that request gets a 500, the error is counted and logged,
 * the reservation is released, and nothing escapes to the process (no throw out of the stream's handlers,
 * no unhandled rejection).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry as PromRegistry } from 'prom-client';
import { Director, NO_POLICIES } from '../../src/director/director.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import type { PickCycle } from '../../src/director/pick-cycle.js';
import type { RequestParser } from '../../src/framework/parser.js';
import { ProcessStream } from '../../src/extproc/process-stream.js';
import type { ProcessingRequest, ProcessingResponse } from '../../src/extproc/codec.js';
import { PromRequestObserver } from '../../src/observability/request-metrics.js';
import { makeEndpoint } from '../helpers/fixtures.js';
import { requestBody, requestHeaders, responseBody, responseHeaders } from '../helpers/ext-proc-harness.js';

type Point = 'responseReceived' | 'responseStreaming' | 'responseComplete' | 'parser' | 'pick';

function harness(throwsAt: Point, async = false) {
  const tracker = new LoadTracker();
  const endpoint = makeEndpoint({ name: 'p', address: '10.0.0.7' }, tracker);
  const boom = () => {
    throw new Error(`boom in ${throwsAt}`);
  };
  const parser = {
    name: 'test-parser',
    type: 'test-parser',
    parse: () => (throwsAt === 'parser' ? boom() : { model: 'm', body: { stream: false } }),
    rewriteModel: (_i: unknown, _p: unknown, _t: string) => new Uint8Array(0),
  } as unknown as RequestParser;
  const pickCycle = {
    run: () => {
      if (throwsAt === 'pick') {
        if (async) return Promise.reject(new Error('boom in pick'));
        boom();
      }
      const pick = { result: { primaryProfileName: 'd', profileResults: new Map([['d', { targetEndpoints: [{ endpoint, score: 1 }] }]]) }, reservation: tracker.reserve(endpoint.key, 10) };
      return async ? Promise.resolve(pick) : pick;
    },
  } as unknown as PickCycle;
  const plugin = (point: Point) => ({ name: `bad-${point}`, type: 'bad', [point]: () => (throwsAt === point ? boom() : undefined) });
  const metrics = new PromRegistry();
  const director = new Director({
    parser,
    pickCycle,
    tracker,
    snapshot: () => ({ epoch: 1, endpoints: [endpoint] }),
    saturation: undefined,
    admitters: [],
    responseReceived: [plugin('responseReceived') as never],
    responseStreaming: [plugin('responseStreaming') as never],
    responseComplete: [plugin('responseComplete') as never, { name: 'after', type: 'after', responseComplete: () => void completions++ } as never],
    policies: () => NO_POLICIES,
    observer: new PromRequestObserver(metrics),
    newRequestId: () => 'id-1',
  });
  let completions = 0;
  const sent: ProcessingResponse[] = [];
  const warnings: string[] = [];
  let ended = 0;
  const stream = new ProcessStream(director, { send: (m) => sent.push(m), end: () => ended++ }, {
    maxBodyBytes: 1 << 20,
    maxResponseBufferBytes: 1 << 20,
    log: { warn: (o, msg) => warnings.push(`${msg} ${JSON.stringify(o)}`) },
  });
  return { stream, sent, warnings, metrics, tracker, endpoint, ended: () => ended, completions: () => completions };
}

const exchange: ProcessingRequest[] = [
  requestHeaders({}),
  requestBody('{"model":"m","prompt":"x"}'),
  responseHeaders({ ':status': '200', 'content-type': 'application/json' }),
  responseBody('{"a":', false),
  responseBody('1}', true),
];

const cases: { point: Point; status: number | undefined }[] = [
  { point: 'parser', status: 500 },
  { point: 'pick', status: 500 },
  { point: 'responseReceived', status: 500 },
  { point: 'responseStreaming', status: 500 },
  // The answer was complete when it threw: nothing more can be sent, but it is counted and logged.
  { point: 'responseComplete', status: undefined },
];

for (const async of [false, true]) {
  for (const c of cases) {
    test(`containment (${async ? 'async pick' : 'inline'}): a plugin throwing in ${c.point} fails only its request: ${c.status ?? 'no answer after the end'}, counted, logged, released`, async () => {
      const h = harness(c.point, async);
      for (const m of exchange) {
        assert.doesNotThrow(() => h.stream.onMessage(m));
        await new Promise((r) => setImmediate(r));
      }
      assert.doesNotThrow(() => h.stream.onClosed());
      const immediate = h.sent.find((m) => m.immediateResponse)?.immediateResponse;
      assert.equal(immediate?.status?.code, c.status);
      if (c.status) assert.match(Buffer.from(immediate!.body!).toString(), /^inference error: Internal - .*boom in/);
      assert.equal(h.sent.filter((m) => m.immediateResponse).length, c.status ? 1 : 0);
      assert.ok(h.warnings.some((w) => w.includes('request failed inside the EPP') && w.includes(`boom in ${c.point}`)), h.warnings.join('\n'));
      assert.match(await h.metrics.metrics(), /inference_objective_request_error_total\{[^}]*error_code="Internal"\} 1/);
      assert.equal(h.tracker.loadOf(h.endpoint.key).inFlightRequests, 0, 'the reservation is released');
      if (c.point === 'responseComplete') assert.equal(h.completions(), 1, 'later plugins still hear of the end');
      assert.equal(h.ended(), 1);
    });
  }
}

test('containment: a plugin throwing in responseComplete when the proxy goes away mid-response does not escape the close handler', async () => {
  const h = harness('responseComplete');
  for (const m of exchange.slice(0, 4)) h.stream.onMessage(m);
  assert.doesNotThrow(() => h.stream.onClosed());
  assert.equal(h.tracker.loadOf(h.endpoint.key).inFlightRequests, 0);
  assert.ok(h.warnings.some((w) => w.includes('boom in responseComplete')));
  assert.equal(h.sent.filter((m) => m.immediateResponse).length, 0, 'nothing is sent to a proxy that left');
});
