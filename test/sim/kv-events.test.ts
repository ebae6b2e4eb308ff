/**
 * The simulator's KV-cache events, read back off the wire by an independent decoder (kv-events-wire.ts):
 * vLLM's framing and batch, BlockStored for every newly cached full block with the real Qwen3 token ids,
 * BlockRemoved on eviction, AllBlocksCleared on /reset_prefix_cache, a restart starting the sequence at 0,
 * and the ROUTER replay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startSimPool, startSimServer, type SimServer, type SimServerOptions } from '../../src/sim/server.js';
import { simTokenizer } from '../../src/sim/render.js';
import { Collector, decodeBatch, replay, type WireEvent } from './kv-events-wire.js';
import { until } from '../helpers/until.js';

const TEXT = 'The endpoint picker routes each request to the model server whose KV cache already holds the longest prefix of its prompt. ';

async function complete(s: SimServer, prompt: string, model = 'sim-model'): Promise<{ prompt_tokens: number; prompt_tokens_details: { cached_tokens: number } }> {
  const r = await fetch(`${s.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ model, prompt, max_tokens: 1 }) });
  assert.equal(r.status, 200, await r.clone().text());
  return ((await r.json()) as { usage: { prompt_tokens: number; prompt_tokens_details: { cached_tokens: number } } }).usage;
}

const tokensOf = async (prompt: string) => [...(await simTokenizer().tokenize('completions', { prompt }))![0]!.tokenIds];

/** A server publishing on a free port, and a subscriber that has joined (past ZMQ's slow-joiner window). */
async function publishing(options: SimServerOptions = {}): Promise<{ server: SimServer; sub: Collector; close(): Promise<void> }> {
  const server = await startSimServer({ decodeMsPerToken: 1, ...options, kvEvents: { port: 0, ...options.kvEvents } });
  const sub = new Collector(server.kvEvents!.endpoint);
  await sub.joined(() => server.resetPrefixCache());
  sub.batches.length = 0;
  // Closing both ends of one ZMQ connection in the same instant has aborted libzmq 4.3.5 (pipe.cpp
  // "term_ack_sent" assertion): the subscriber's pipes end first.
  return { server, sub, close: async () => (await sub.close(), await new Promise((r) => setTimeout(r, 100)), await server.close()) };
}

const stored = (events: WireEvent[]) => events.filter((e) => e.type === 'BlockStored');

test('KV events: each new full block is published once with its token ids and parent; a cache hit publishes nothing', async () => {
  const { server, sub, close } = await publishing();
  try {
    const prompt = TEXT.repeat(6);
    const ids = await tokensOf(prompt);
    const full = Math.floor(ids.length / 16);
    assert.ok(full >= 5, `${ids.length} tokens`);
    const first = await complete(server, prompt);
    assert.equal(first.prompt_tokens, ids.length, 'prompt tokens are the real token count');
    await until(() => stored(sub.events).length === 1, 'BlockStored');
    const [s] = stored(sub.events);
    assert.equal(s!.hashes.length, full);
    assert.equal(new Set(s!.hashes.map(String)).size, full, 'distinct hashes');
    assert.equal(s!.parent, null, 'a chain from the root');
    assert.deepEqual(s!.tokens, ids.slice(0, full * 16), 'the token ids of the full blocks, no partial block');
    assert.equal(s!.blockSize, 16);
    assert.equal(s!.medium, 'GPU');
    const batch = sub.batches.at(-1)!;
    assert.equal(batch.topic, `kv@127.0.0.1:${server.port}@sim-model`);
    assert.equal(typeof batch.ts, 'number');
    assert.ok(Math.abs(batch.ts - Date.now() / 1000) < 60, 'ts in seconds');
    assert.equal(batch.rank, 0);
    const raw = (batch.raw[1] as unknown[][])[0]!;
    assert.equal(raw.length, 7, 'positional, lora_name (default) dropped');
    assert.ok((raw[1] as unknown[]).every((h) => typeof h === 'bigint'), 'u64 int hashes');
    assert.ok(s!.hashes.some((h) => h >= 1n << 63n) || s!.hashes.length < 4, 'hashes use all 64 bits');
    assert.ok(sub.frameCounts.every((n) => n === 3), 'every message is exactly three frames');

    // The same prompt again hits the cache: nothing new to store.
    const again = await complete(server, prompt);
    assert.equal(again.prompt_tokens_details.cached_tokens, full * 16);
    // A longer prompt stores only its new blocks, chained to the last block it shares.
    const longer = prompt + 'And then the gateway sends it there, without guessing what the server holds. '.repeat(4);
    const longIds = await tokensOf(longer);
    let shared = 0;
    while (shared < full && longIds.slice(shared * 16, shared * 16 + 16).join() === ids.slice(shared * 16, shared * 16 + 16).join()) shared++;
    assert.ok(shared >= full - 1, `${shared} shared blocks`);
    await complete(server, longer);
    await until(() => stored(sub.events).length === 2, 'the second BlockStored');
    const s2 = stored(sub.events)[1]!;
    assert.equal(s2.parent, s!.hashes[shared - 1], 'parent = the last shared block');
    assert.equal(s2.hashes.length, Math.floor(longIds.length / 16) - shared);
    assert.deepEqual(s2.tokens, longIds.slice(shared * 16, Math.floor(longIds.length / 16) * 16));
    // Sequence numbers: consecutive, one per batch.
    const seqs = sub.batches.map((b) => b.seq);
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1]! + 1n);
    assert.equal(server.kvEvents!.stats.stored, full + s2.hashes.length);
  } finally {
    await close();
  }
});

test('KV events: eviction publishes BlockRemoved for blocks stored before, last blocks first; the store and the wire agree', async () => {
  const { server, sub, close } = await publishing({ numGpuBlocks: 24, maxModelLen: 300 });
  try {
    const held = new Set<bigint>();
    const order: bigint[][] = [];
    for (let i = 0; i < 5; i++) {
      await complete(server, `Document ${i}: ${TEXT.repeat(4)}`);
      await server.kvEvents!.drained();
    }
    await until(() => sub.events.some((e) => e.type === 'BlockRemoved'), 'an eviction');
    await until(() => sub.batches.at(-1)?.seq === BigInt(server.kvEvents!.seq - 1), 'every batch received');
    for (const e of sub.events) {
      if (e.type === 'BlockStored') {
        order.push(e.hashes);
        for (const h of e.hashes) {
          assert.ok(!held.has(h), 'stored once while cached');
          held.add(h);
        }
      } else if (e.type === 'BlockRemoved') {
        for (const h of e.hashes) assert.ok(held.delete(h), 'only a stored block is removed');
      }
    }
    assert.equal(held.size, server.engine.kv.cachedBlocks, 'what the wire says is cached is what the cache holds');
    // The first document's chain lost its tail before its head: what remains of it is a prefix.
    const firstChain = order[0]!;
    const kept = firstChain.map((h) => held.has(h));
    assert.ok(kept.indexOf(false) === -1 || kept.slice(kept.indexOf(false)).every((k) => !k), `kept ${kept.join()}`);
  } finally {
    await close();
  }
});

test('KV events: /reset_prefix_cache publishes AllBlocksCleared; a restart sends the sequence back to 0', async () => {
  const { server, sub, close } = await publishing();
  try {
    const prompt = TEXT.repeat(3);
    await complete(server, prompt);
    const r = await fetch(`${server.url}/reset_prefix_cache`, { method: 'POST' });
    assert.equal(r.status, 200);
    await until(() => sub.events.at(-1)?.type === 'AllBlocksCleared', 'AllBlocksCleared');
    const again = await complete(server, prompt);
    assert.equal(again.prompt_tokens_details.cached_tokens, 0, 'the reset emptied the cache');
    await until(() => stored(sub.events).length === 2, 'stored again');
    assert.equal(stored(sub.events)[1]!.parent, null);
    assert.ok(server.kvEvents!.seq > 2);

    for (let i = 0; i < 200; i++) (server.resetPrefixCache(), server.kvEvents!.flush()); // a long history before the restart
    await until(() => sub.batches.at(-1)!.seq === BigInt(server.kvEvents!.seq - 1), 'the history received');
    const lastSeq = sub.batches.at(-1)!.seq;
    const restarted = await fetch(`${server.url}/sim/restart`, { method: 'POST' });
    assert.equal(restarted.status, 200);
    assert.equal(server.kvEvents!.seq, 0);
    const third = await complete(server, prompt);
    assert.equal(third.prompt_tokens_details.cached_tokens, 0, 'a restarted server has an empty cache');
    await server.kvEvents!.drained();
    assert.equal(server.kvEvents!.seq, 1, 'the first batch after the restart had seq 0 (replay test reads it back)');
    // The subscriber reconnects by itself (what was sent before it did is lost, as with vLLM); the sequence went back.
    const before = sub.batches.length;
    let poked = 0;
    await until(
      () => {
        if (sub.batches.length > before) return true;
        if (Date.now() - poked > 100) {
          poked = Date.now();
          server.resetPrefixCache();
        }
        return false;
      },
      'a batch after the restart',
      20_000,
    );
    assert.ok(sub.batches[before]!.seq < lastSeq, `seq went back: ${sub.batches[before]!.seq} after ${lastSeq}`);
  } finally {
    await close();
  }
});

test('KV events replay: a DEALER gets every buffered batch from a sequence, with the topic, then the end marker', async () => {
  const server = await startSimServer({ decodeMsPerToken: 1, kvEvents: { port: 0, replayPort: 0 } });
  try {
    for (let i = 0; i < 3; i++) {
      await complete(server, `Question ${i}. ${TEXT.repeat(2)}`);
      await server.kvEvents!.drained();
    }
    assert.equal(server.kvEvents!.seq, 3);
    const all = await replay(server.kvEvents!.replayEndpoint!, 0n);
    assert.equal(all.data.length, 3);
    for (const [i, frames] of all.data.entries()) {
      assert.equal(frames.length, 4, '[empty, topic, seq, payload]');
      assert.equal(frames[0]!.length, 0);
      const b = decodeBatch(frames[1]!, frames[2]!, frames[3]!);
      assert.equal(b.seq, BigInt(i));
      assert.equal(b.topic, `kv@127.0.0.1:${server.port}@sim-model`);
      assert.equal(b.events[0]!.type, 'BlockStored');
    }
    assert.deepEqual(all.end.map((f) => f.toString('hex')), ['', '', 'ff'.repeat(8), '']);
    const tail = await replay(server.kvEvents!.replayEndpoint!, 2n);
    assert.equal(tail.data.length, 1);
    assert.equal(tail.data[0]![2]!.readBigUInt64BE(), 2n);
    const replayAt = server.kvEvents!.replayEndpoint!;
    await server.restart();
    assert.equal(server.kvEvents!.replayEndpoint, replayAt, 'the same address after a restart');
    assert.equal((await replay(replayAt, 0n)).data.length, 0, 'a restart empties the buffer');
    await complete(server, `After the restart. ${TEXT}`);
    await server.kvEvents!.drained();
    const after = await replay(replayAt, 0n);
    assert.deepEqual(after.data.map((f) => f[2]!.readBigUInt64BE()), [0n], 'the sequence starts again at 0');
  } finally {
    await server.close();
  }
});

test('KV events: tagged maps with 32-byte hashes; a LoRA request names its adapter; connect mode reaches a bound subscriber', async () => {
  const central = await Collector.bound('tcp://127.0.0.1:0');
  const at = central.sub.lastEndpoint!;
  const server = await startSimServer({ decodeMsPerToken: 1, adapters: ['sql'], kvEvents: { connect: at, encoding: 'tagged', hashFormat: 'bytes' } });
  try {
    await central.joined(() => server.resetPrefixCache());
    await complete(server, TEXT.repeat(2), 'sql');
    await until(() => stored(central.events).length === 1, 'BlockStored through the central socket');
    const s = stored(central.events)[0]!;
    assert.equal(s.loraName, 'sql');
    assert.ok(s.hashes.length > 0);
    assert.equal(s.medium, 'GPU');
    // The raw payload really is maps with a type tag and bytes hashes.
    const last = central.batches.at(-1)!;
    const raw = (last.raw[1] as Record<string, unknown>[])[0]!;
    assert.equal(raw['type'], 'BlockStored');
    assert.ok((raw['block_hashes'] as Uint8Array[]).every((h) => h instanceof Uint8Array && h.length === 32));
    assert.deepEqual(Object.keys(raw).sort(), ['block_hashes', 'block_size', 'lora_id', 'lora_name', 'medium', 'parent_block_hash', 'token_ids', 'type']);
    assert.equal(last.topic, `kv@127.0.0.1:${server.port}@sim-model`);
    assert.equal(server.kvEvents!.endpoint, at);
  } finally {
    await central.close();
    await server.close();
  }
});

test('KV events off by default: no publisher, prompts counted as before', async () => {
  const server = await startSimServer();
  try {
    assert.equal(server.kvEvents, undefined);
    const u = await complete(server, 'x'.repeat(400));
    assert.equal(u.prompt_tokens, 100, '~4 bytes a token without a tokenizer');
  } finally {
    await server.close();
  }
});

test('a pool publishing on one fixed port puts each server on its own loopback address; a taken port is a clear error', async () => {
  const port = 20_000 + Math.floor(Math.random() * 12_000); // below the ephemeral range (32768+), where outgoing sockets take ports
  const pool = await startSimPool(2, { kvEvents: { port } });
  try {
    assert.deepEqual(pool.servers.map((s) => s.kvEvents!.endpoint), [`tcp://127.0.0.1:${port}`, `tcp://127.0.0.2:${port}`]);
    assert.deepEqual(pool.servers.map((s) => s.address), ['127.0.0.1', '127.0.0.2']);
    await assert.rejects(startSimServer({ kvEvents: { port } }), new RegExp(`KV events: cannot bind tcp://127.0.0.1:${port}`));
  } finally {
    await pool.close();
  }
});

test('epp-sim --kv-events-port prints each server\'s KV-event endpoint and replay socket', async () => {
  const port = 20_000 + Math.floor(Math.random() * 12_000); // below the ephemeral range (32768+), where outgoing sockets take ports
  const cli = fileURLToPath(new URL('../../src/sim/cli.js', import.meta.url));
  const child = spawn(process.execPath, [cli, '--count=2', `--kv-events-port=${port}`, `--kv-events-replay-port=${port + 1}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  try {
    await until(() => out.split('\n').filter((l) => l.includes('KV events')).length === 2, 'two KV-event lines', 20_000);
    assert.match(out, new RegExp(`sim-1 KV events tcp://127\\.0\\.0\\.2:${port} topic kv@127\\.0\\.0\\.2:\\d+@sim-model replay tcp://127\\.0\\.0\\.2:${port + 1}`));
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
});
