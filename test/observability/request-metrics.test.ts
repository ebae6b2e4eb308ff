/** Request metrics: label series from client-chosen model names are bounded. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry as PromRegistry } from 'prom-client';
import { PromRequestObserver } from '../../src/observability/request-metrics.js';
import { ErrorCodes } from '../../src/errors.js';
import type { RoutedRequest } from '../../src/director/director.js';
import { makeEndpoint, makeRequest } from '../helpers/fixtures.js';

test('request metrics: past the limit, new client model names collapse into "other"; known ones keep their series', async () => {
  const metrics = new PromRegistry();
  const observer = new PromRequestObserver(metrics, 3);
  const routed = (model: string): RoutedRequest => ({ request: makeRequest({ model }), destinations: ['1.1.1.1:1'], endpoint: makeEndpoint({ name: 'p' }), body: new Uint8Array(0), bodyChanged: false, requestBytes: 10, startedAt: 0, done: false, reservation: undefined }) as RoutedRequest;
  for (let i = 0; i < 50; i++) {
    const r = routed(`model-${i}`);
    observer.routed(r);
    observer.completed(r, { kind: 'success' }, 5);
  }
  for (let i = 0; i < 50; i++) observer.failed(`bad-${i}`, `bad-${i}`, ErrorCodes.BAD_REQUEST);
  observer.routed(routed('model-1'));
  const text = await metrics.metrics();
  const totals = text.split('\n').filter((l) => l.startsWith('inference_objective_request_total{'));
  const names = new Set(totals.map((l) => /model_name="([^"]*)"/.exec(l)![1]));
  assert.deepEqual([...names].sort(), ['model-0', 'model-1', 'model-2', 'other']);
  assert.match(text, /^inference_objective_request_total\{model_name="model-1",target_model_name="model-1",priority="0"\} 2$/m);
  assert.match(text, /^inference_objective_request_total\{model_name="other",target_model_name="other",priority="0"\} 47$/m);
  const errorSeries = text.split('\n').filter((l) => l.startsWith('inference_objective_request_error_total{'));
  assert.equal(errorSeries.length, 1, 'unknown names in errors share the overflow series');
});
