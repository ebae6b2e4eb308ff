/** The response body on its way back: what reaches the client must be the pod's bytes, whatever the chunking. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseBody } from '../../src/extproc/response-body.js';

function pass(chunks: string[], o: { streaming: boolean; cap: number; rewrite?: { from: string; to: string } }): { out: string; body: ResponseBody } {
  const body = new ResponseBody({ streaming: o.streaming, rewrite: o.rewrite, maxBufferBytes: o.cap });
  let out = '';
  for (const c of chunks) out += Buffer.from(body.push(Buffer.from(c))).toString();
  out += Buffer.from(body.end()).toString();
  return { out, body };
}

const cases: { name: string; chunks: string[]; streaming: boolean; cap: number; want?: string; usage?: number }[] = [
  { name: 'SSE: a line longer than the hold cap, split over three chunks (the reported duplication)', chunks: ['data: aaaa', 'bbbbbbb', 'cc\n'], streaming: true, cap: 12 },
  { name: 'SSE: whole events, one per chunk', chunks: ['data: {"a":1}\n\n', 'data: [DONE]\n\n'], streaming: true, cap: 1024 },
  { name: 'SSE: events split mid-line, under the cap', chunks: ['data: {"us', 'age":{"prompt_tokens":3,"completion_tokens":4}}\n', '\ndata: [DONE]\n\n'], streaming: true, cap: 1024, usage: 3 },
  { name: 'SSE: a partial last line with no newline at the end', chunks: ['data: {"a":1}\n\ndata: x', 'yz'], streaming: true, cap: 1024 },
  { name: 'SSE: the cap crossed after a newline was seen', chunks: ['data: 1\ndata: 22222', '2222222222', '22\n'], streaming: true, cap: 8 },
  { name: 'JSON: buffered whole, usage read', chunks: ['{"usage":{"prompt_', 'tokens":7}}'], streaming: false, cap: 1024, usage: 7 },
  { name: 'JSON: over the cap, passes through untouched', chunks: ['{"a":"', 'x'.repeat(40), '"}'], streaming: false, cap: 16 },
];

for (const c of cases) {
  test(`response body, byte for byte: ${c.name}`, () => {
    const { out, body } = pass(c.chunks, c);
    assert.equal(out, c.want ?? c.chunks.join(''));
    if (c.usage !== undefined) assert.equal(body.usage?.promptTokens, c.usage);
  });
}

test('response body, byte for byte: every split of an SSE stream at every cap (no rewrite)', () => {
  const stream = 'data: {"id":1,"choices":[{"text":"hello"}]}\n\ndata: {"id":2,"usage":{"prompt_tokens":5,"completion_tokens":2}}\n\ndata: [DONE]\n\n';
  for (const cap of [1, 5, 17, 64, 1 << 20]) {
    for (let i = 1; i < stream.length; i += 3) {
      for (let j = i; j < stream.length; j += 11) {
        const chunks = [stream.slice(0, i), stream.slice(i, j), stream.slice(j)];
        assert.equal(pass(chunks, { streaming: true, cap }).out, stream, `cap ${cap}, split at ${i}/${j}`);
      }
    }
  }
});

test('response body: with a rewrite, a line over the cap is forwarded once, unrenamed', () => {
  const chunks = ['data: {"model":"served",', '"x":"', 'y'.repeat(30), '"}\n'];
  const { out } = pass(chunks, { streaming: true, cap: 16, rewrite: { from: 'served', to: 'asked' } });
  assert.equal(out, chunks.join(''));
});

test('response body: with a rewrite, whole SSE lines are renamed', () => {
  const { out } = pass(['data: {"model":"served","a":1}\n', '\n'], { streaming: true, cap: 1024, rewrite: { from: 'served', to: 'asked' } });
  assert.equal(out, 'data: {"model":"asked","a":1}\n\n');
});

test('usageOfBody: reads the top-level usage (or response.usage) alone, and agrees with a full parse', async () => {
  const { usageOfBody, usageOf } = await import('../../src/extproc/response-body.js');
  const cases: { name: string; body: string; want: { promptTokens: number; completionTokens: number; cachedPromptTokens: number } | undefined }[] = [
    { name: 'chat completion', body: '{"id":"x","choices":[{"message":{"content":"a \\"usage\\": {} inside a string"}}],"usage":{"prompt_tokens":12,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":8}}}', want: { promptTokens: 12, completionTokens: 3, cachedPromptTokens: 8 } },
    { name: 'Responses API', body: '{"type":"response.completed","response":{"id":"r","usage":{"input_tokens":5,"output_tokens":7,"input_tokens_details":{"cached_tokens":1}}}}', want: { promptTokens: 5, completionTokens: 7, cachedPromptTokens: 1 } },
    { name: 'usage null', body: '{"usage":null}', want: undefined },
    { name: 'no usage', body: '{"choices":[]}', want: undefined },
    { name: 'malformed', body: '{"usage":{"prompt_tokens":1', want: undefined },
    { name: 'BOM and spaces', body: '\ufeff { "usage" : { "prompt_tokens" : 2 , "completion_tokens" : 1 } }', want: { promptTokens: 2, completionTokens: 1, cachedPromptTokens: 0 } },
    { name: 'not an object', body: '[1,2]', want: undefined },
  ];
  for (const c of cases) {
    const bytes = Buffer.from(c.body);
    assert.deepEqual(usageOfBody(bytes), c.want, c.name);
    let full: unknown;
    try {
      full = JSON.parse(c.body.replace(/^\ufeff/, ''));
    } catch {
      full = undefined;
    }
    assert.deepEqual(usageOfBody(bytes), usageOf(full), `${c.name}: same as a full parse`);
  }
});
