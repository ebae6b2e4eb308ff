import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerPool } from '../../src/pool/worker-pool.js';
import { EppError, ErrorCodes } from '../../src/errors.js';
import { WORKER_TASK_UNAVAILABLE } from '../../src/framework/worker-tasks.js';

const module = new URL('../fixtures/worker-tasks.js', import.meta.url).href;
const task = (name: string) => ({ module, name });

function pool(threads: number, options: ConstructorParameters<typeof WorkerPool>[0] = {}) {
  const warnings: string[] = [];
  const fallbacks: string[] = [];
  const p = new WorkerPool({
    log: { warn: (o, m) => warnings.push(`${m} [${(o as { reason?: string }).reason}]`) },
    observer: { taskDone: () => {}, fallback: (t, reason) => fallbacks.push(`${t}:${reason}`) },
    ...options,
  });
  p.start(threads);
  return { p, warnings, fallbacks };
}

test('worker tasks: run on a worker thread with their input; with no threads, inline', async () => {
  const { p, fallbacks } = pool(1);
  const inline = new WorkerPool();
  try {
    const input = { text: 'hé', ids: new Uint32Array([1, 2, 3]), tags: new Map([['a', 1]]) };
    const got = await p.run<typeof input, { input: typeof input; where: string }>(task('echo'), input);
    assert.match(got.where, /^worker \d+$/);
    assert.deepEqual(got.input, input);
    const local = await inline.run<typeof input, { where: string }>(task('echo'), input);
    assert.equal(local.where, 'inline');
    assert.equal(inline.threads, 0);
    assert.deepEqual(inline.stats.fallbacks, { 'no-threads': 1 });
    assert.deepEqual(fallbacks, []);
  } finally {
    await p.close();
  }
});

test('worker tasks: what a task throws reaches the caller, codes kept, and is not a fallback', async () => {
  const { p, fallbacks } = pool(1);
  try {
    await assert.rejects(p.run(task('rejectBadRequest'), null), (e: unknown) => e instanceof EppError && e.code === ErrorCodes.BAD_REQUEST && e.message === 'the task says no');
    await assert.rejects(p.run(task('throwPlain'), null), (e: unknown) => e instanceof Error && e.name === 'TypeError' && e.message === 'plain failure');
    await assert.rejects(p.run(task('noSuchExport'), null), /task "noSuchExport" is not a function exported by/);
    assert.deepEqual(fallbacks, []);
  } finally {
    await p.close();
  }
});

test('worker tasks: a worker killed mid-task is replaced and the task re-run inline, with a warning and a metric', async () => {
  const { p, warnings, fallbacks } = pool(1);
  try {
    assert.equal(await p.run(task('crash'), null), 'inline');
    assert.deepEqual(fallbacks, ['crash:worker-error']);
    assert.deepEqual(warnings, ['worker pool: worker-error; running task "crash" inline [worker-error]']);
    const after = await p.run<null, { where: string }>(task('echo'), null);
    assert.match(after.where, /^worker \d+$/, 'a new worker serves the next task');
  } finally {
    await p.close();
  }
});

test('worker tasks: a stuck worker is terminated after its limit, counted from its start, and the task re-run inline', async () => {
  const { p, fallbacks } = pool(1, { taskTimeoutMs: 1000, watchdogMs: 20 });
  try {
    // Two tasks of 600 ms on one thread: the second waits 600 ms, then runs 600 ms; 1,200 ms from its
    // queueing but 600 ms from its start, so it is within its limit.
    const [a, b] = await Promise.all([p.run(task('sleep'), 600), p.run(task('sleep'), 600)]);
    assert.match(`${a} ${b}`, /^worker \d+ worker \d+$/);
    assert.deepEqual(fallbacks, []);
    assert.equal(await p.run(task('stuck'), null), 'inline');
    assert.deepEqual(fallbacks, ['stuck:timeout'], 'the watchdog cut it off (a stuck worker never answers otherwise)');
    assert.match((await p.run<null, { where: string }>(task('echo'), null)).where, /^worker \d+$/);
  } finally {
    await p.close();
  }
});

test('worker tasks: a full queue runs the task inline at once; inlineFallback: false refuses instead', async () => {
  const { p, fallbacks } = pool(1, { maxQueuePerThread: 1 });
  try {
    const running = p.run(task('sleep'), 150); // on the thread
    const queued = p.run(task('sleep'), 10); // the one queue place
    await new Promise((r) => setImmediate(r));
    assert.equal(await p.run(task('sleep'), 1), 'inline');
    await assert.rejects(p.run(task('sleep'), 1, { inlineFallback: false }), (e: unknown) => e instanceof Error && e.name === WORKER_TASK_UNAVAILABLE);
    assert.match(`${await running} ${await queued}`, /^worker \d+ worker \d+$/);
    assert.deepEqual(fallbacks, ['sleep:queue-full', 'sleep:queue-full']);
  } finally {
    await p.close();
  }
});

test('worker tasks: preload imports a module on every thread; close leaves nothing running', async () => {
  const p = new WorkerPool();
  await p.preload(module); // before start: loads as each thread starts
  p.start(2);
  await p.preload(module);
  assert.equal(p.threads, 2);
  await p.close();
  assert.equal(p.threads, 0);
  assert.equal(await p.run(task('sleep'), 1), 'inline', 'a closed pool runs inline');
});
