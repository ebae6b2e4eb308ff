/**
 * A load generator for the varied-prompt runs (h2load posts one file for every request, so its prompt never
 * changes and the prefix cache always hits). Child process: `replay-client.js <json options>`; prints one
 * JSON line of results. Raw node:http2, not grpc-js: each request is one gRPC call whose body is a whole
 * ext_proc exchange (bench/ext-proc-frames.ts), built from a template by overwriting a counter in the
 * prompt, so requests share the prompt's first `sharedBytes` (a common system prompt) and differ after.
 * `connections` × `streams` calls in flight, as h2load's -c/-m; `rps` > 0 paces instead (soak runs).
 */
import http2 from 'node:http2';
import { exchangeFramesWithMarker, PROMPT_MARKER } from './ext-proc-frames.js';
import { PROCESS_PATH } from '../src/extproc/codec.js';

export interface ReplayOptions {
  port: number;
  promptBytes: number;
  /** Bytes of prompt every request shares before its unique part. */
  sharedBytes: number;
  requests: number;
  connections: number;
  streams: number;
  /** Requests per second in all (0: as fast as the server answers). */
  rps?: number;
  /** Stop after this many ms even if `requests` are not done (0: no limit). */
  durationMs?: number;
  /** Fraction of calls cancelled by the client after their first response message (soak faults). */
  cancelFraction?: number;
  /** First counter value (distinct runs should not share prompts). */
  firstId?: number;
}

export interface ReplayResult {
  requests: number;
  ok: number;
  /** Calls that ended with a grpc-status other than 0, or an HTTP/2 error. */
  failed: number;
  cancelled: number;
  /** Connections the server closed (GOAWAY, reset) and the client opened again. */
  reconnects: number;
  /** ImmediateResponse answers (an HTTP error the EPP chose), by status. */
  immediate: Record<string, number>;
  seconds: number;
  reqPerSec: number;
  bytesPerRequest: number;
  p50Ms: number;
  p99Ms: number;
  errors: string[];
}

/** ProcessingResponse field 7 (immediate_response) → HttpStatus field 1 → code: enough to count them. */
function immediateStatus(message: Buffer): number | undefined {
  if (message[0] !== 0x3a) return undefined; // field 7, wire type 2
  let i = 1;
  while (message[i]! & 0x80) i++; // skip the length varint
  i++;
  if (message[i] !== 0x0a) return undefined; // status (field 1)
  i += 2; // its length fits one byte
  if (message[i] !== 0x08) return undefined; // code (field 1, varint)
  let code = 0;
  for (let shift = 0, j = i + 1; ; j++, shift += 7) {
    code |= (message[j]! & 0x7f) << shift;
    if (!(message[j]! & 0x80)) break;
  }
  return code;
}

export async function replay(o: ReplayOptions): Promise<ReplayResult> {
  const { frames, markerAt } = exchangeFramesWithMarker(o.promptBytes, o.sharedBytes);
  const result: ReplayResult = { requests: 0, ok: 0, failed: 0, cancelled: 0, reconnects: 0, immediate: {}, seconds: 0, reqPerSec: 0, bytesPerRequest: 0, p50Ms: 0, p99Ms: 0, errors: [] };
  const headEnd = Math.min(frames.length, markerAt + PROMPT_MARKER.length + 64);
  const connect = () => {
    const s = http2.connect(`http://127.0.0.1:${o.port}`, { settings: { initialWindowSize: 16 * 1024 * 1024 }, maxSessionMemory: 256 });
    s.on('error', (err) => {
      if (result.errors.length < 5) result.errors.push(`session: ${err.message}`);
    });
    return s;
  };
  const sessions = Array.from({ length: o.connections }, connect);
  await Promise.all(sessions.map((s) => new Promise<void>((resolve, reject) => (s.once('connect', () => resolve()), s.once('error', reject)))));
  const latencies: number[] = [];
  let bytes = 0;
  let next = o.firstId ?? 0;
  let started = 0;
  const start = performance.now();
  const deadline = o.durationMs ? start + o.durationMs : Infinity;
  const cancelEvery = o.cancelFraction ? Math.max(1, Math.round(1 / o.cancelFraction)) : 0;

  const one = (session: http2.ClientHttp2Session, id: number) =>
    new Promise<void>((resolve) => {
      const head = Buffer.from(frames.subarray(0, headEnd));
      head.write(String(id).padStart(PROMPT_MARKER.length, '0').slice(-PROMPT_MARKER.length), markerAt, 'latin1');
      const t0 = performance.now();
      const stream = session.request({ ':method': 'POST', ':path': PROCESS_PATH, 'content-type': 'application/grpc', te: 'trailers' });
      const cancel = cancelEvery > 0 && id % cancelEvery === cancelEvery - 1;
      let status: string | undefined;
      let pending: Buffer = Buffer.alloc(0);
      let sawFirst = false;
      stream.on('trailers', (t) => (status = String(t['grpc-status'] ?? '')));
      stream.on('response', (h) => {
        if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
      });
      stream.on('data', (d: Buffer) => {
        bytes += d.length;
        pending = pending.length ? Buffer.concat([pending, d]) : d;
        while (pending.length >= 5) {
          const len = pending.readUInt32BE(1);
          if (pending.length < 5 + len) break;
          const code = immediateStatus(pending.subarray(5, 5 + len));
          if (code !== undefined) result.immediate[code] = (result.immediate[code] ?? 0) + 1;
          pending = pending.subarray(5 + len);
          if (!sawFirst) {
            sawFirst = true;
            if (cancel) stream.close(http2.constants.NGHTTP2_CANCEL);
          }
        }
      });
      stream.on('error', () => undefined);
      stream.on('close', () => {
        result.requests++;
        if (cancel) result.cancelled++;
        else if (status === '0') {
          result.ok++;
          latencies.push(performance.now() - t0);
        } else {
          result.failed++;
          if (result.errors.length < 5) result.errors.push(`grpc-status ${status ?? 'none'}, rst ${stream.rstCode}`);
        }
        resolve();
      });
      stream.write(head);
      stream.end(frames.subarray(headEnd));
    });

  const worker = async (c: number) => {
    for (;;) {
      if (started >= o.requests || performance.now() > deadline) return;
      const k = started++;
      if (o.rps) {
        // Request k is due at k / rps on a fixed schedule, whichever lane sends it.
        const wait = start + (k * 1000) / o.rps - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (performance.now() > deadline) return;
      }
      let session = sessions[c]!;
      if (session.closed || session.destroyed) {
        result.reconnects++;
        session = sessions[c] = connect();
      }
      await one(session, next++);
    }
  };
  const lanes: Promise<void>[] = [];
  for (let c = 0; c < sessions.length; c++) for (let m = 0; m < o.streams; m++) lanes.push(worker(c));
  await Promise.all(lanes);
  result.seconds = (performance.now() - start) / 1000;
  for (const s of sessions) s.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  result.reqPerSec = result.requests / result.seconds;
  result.bytesPerRequest = bytes / Math.max(1, result.requests);
  result.p50Ms = pct(50);
  result.p99Ms = pct(99);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await replay(JSON.parse(process.argv[2]!) as ReplayOptions);
  process.stdout.write(JSON.stringify(r) + '\n');
  process.exit(0);
}
