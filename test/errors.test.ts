import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes, errorCodeOf, goErrorName, httpStatusOf } from '../src/errors.js';

test('every error code maps to the HTTP status and Go EPP name the edge reports', () => {
  const cases = [
    { code: ErrorCodes.BAD_REQUEST, status: 400, go: 'BadRequest' },
    { code: ErrorCodes.BODY_TOO_LARGE, status: 413, go: 'BadRequest' },
    { code: ErrorCodes.NO_CAPACITY, status: 429, go: 'InferencePoolResourceExhausted' },
    { code: ErrorCodes.SHED, status: 429, go: 'InferencePoolResourceExhausted' },
    { code: ErrorCodes.NO_ENDPOINTS, status: 503, go: 'ServiceUnavailable' },
    { code: ErrorCodes.MODEL_SERVER_ERROR, status: 500, go: 'ModelServerError' },
    { code: ErrorCodes.INTERNAL, status: 500, go: 'Internal' },
    { code: ErrorCodes.CONFIG_INVALID, status: 500, go: 'Internal' },
    { code: ErrorCodes.UNSUPPORTED_BODY_MODE, status: 500, go: 'Internal' },
    { code: ErrorCodes.STREAMS_EXHAUSTED, status: 503, go: 'ServiceUnavailable' },
    { code: ErrorCodes.STREAM_IDLE, status: 408, go: 'BadRequest' },
    { code: ErrorCodes.QUEUE_FULL, status: 429, go: 'ResourceExhausted' },
    { code: ErrorCodes.QUEUE_TTL_EXPIRED, status: 429, go: 'ResourceExhausted' },
    { code: ErrorCodes.QUEUE_UNAVAILABLE, status: 503, go: 'ServiceUnavailable' },
    { code: ErrorCodes.EVICTED, status: 429, go: 'ResourceExhausted' },
  ];
  assert.deepEqual(new Set(cases.map((c) => c.code)), new Set(Object.values(ErrorCodes)), 'the table covers every code');
  for (const c of cases) {
    assert.equal(httpStatusOf(c.code), c.status, c.code);
    assert.equal(goErrorName(c.code), c.go, c.code);
  }
});

test('a code that crossed a thread boundary as text is narrowed; an unknown one is internal', () => {
  assert.equal(errorCodeOf('EPP_BAD_REQUEST'), ErrorCodes.BAD_REQUEST);
  assert.equal(errorCodeOf('toString'), ErrorCodes.INTERNAL);
  assert.equal(errorCodeOf('nonsense'), ErrorCodes.INTERNAL);
});
