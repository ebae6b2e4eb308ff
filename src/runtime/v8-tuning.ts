/**
 * V8 settings for a long-running, high-rate request server, applied once when the EPP starts.
 *
 * Allocation-site pretenuring off. V8 allocates objects of a site straight into the old generation once
 * most of them were seen surviving a scavenge. On the EPP's request path that decision feeds itself: a
 * request object pretenured (the routed request, a stream's state) keeps the young objects it points at
 * (the parsed body, headers, chunks) alive through every scavenge until the next full collection, those
 * are promoted, and their sites turn "surviving" too. Measured with `--trace-gc` on bench/stream-path.ts
 * (requests finish synchronously, one in flight): the old generation grew 2.6 MB per scavenge with it and
 * 0.3 MB without; under h2load (bench/epp-ab.ts, 4 KB, three alternating pairs) the EPP used 0.92x the CPU
 * per request without it. Set EPP_V8_PRETENURING=on to keep V8's default.
 */
import { setFlagsFromString } from 'node:v8';

let applied = false;

export function tuneV8ForServing(env: NodeJS.ProcessEnv = process.env): void {
  if (applied || env.EPP_V8_PRETENURING === 'on') return;
  applied = true;
  setFlagsFromString('--no-allocation-site-pretenuring');
}
