import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseReader, type Response } from '../../src/datalayer/http1-response.js';

const page = 'vllm:num_requests_waiting 3\n';

/** Feeds `raw` split at every position (and whole), so framing never depends on how bytes arrive. */
function readAllSplits(raw: string, maxBody = 1 << 20, endAfter = false): (Response | string)[] {
  const bytes = Buffer.from(raw, 'latin1');
  const outcomes: (Response | string)[] = [];
  for (let cut = 0; cut <= bytes.length; cut++) {
    const reader = new ResponseReader(maxBody);
    try {
      let got = cut > 0 ? reader.push(bytes.subarray(0, cut)) : undefined;
      if (cut < bytes.length) got = reader.push(bytes.subarray(cut)) ?? got; // bytes past a whole response throw
      if (!got && endAfter) got = reader.end();
      outcomes.push(got ?? 'incomplete');
    } catch (err) {
      outcomes.push((err as Error).message);
    }
  }
  return outcomes;
}

const ok = (body: string, keepAlive = true) => ({ status: 200, body: Buffer.from(body), keepAlive });

const cases: { name: string; raw: string; want: Response | string; maxBody?: number; endAfter?: boolean }[] = [
  { name: 'content-length', raw: `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${page.length}\r\n\r\n${page}`, want: ok(page) },
  { name: 'header names are case-insensitive', raw: `HTTP/1.1 200 OK\r\ncOnTeNt-LeNgTh: ${page.length}\r\n\r\n${page}`, want: ok(page) },
  {
    name: 'chunked, with an extension and a trailer',
    raw: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nvllm:\r\n${(page.length - 5).toString(16)}\r\n${page.slice(5)}\r\n0\r\nX-Trailer: 1\r\n\r\n`,
    want: ok(page),
  },
  { name: 'connection: close is honoured', raw: `HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: ${page.length}\r\n\r\n${page}`, want: ok(page, false) },
  { name: 'HTTP/1.0 closes unless keep-alive', raw: `HTTP/1.0 200 OK\r\nContent-Length: ${page.length}\r\n\r\n${page}`, want: ok(page, false) },
  { name: 'HTTP/1.0 with keep-alive', raw: `HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: ${page.length}\r\n\r\n${page}`, want: ok(page) },
  { name: 'body delimited by close', raw: `HTTP/1.1 200 OK\r\n\r\n${page}`, want: ok(page, false), endAfter: true },
  { name: 'an interim 100 is skipped', raw: `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: ${page.length}\r\n\r\n${page}`, want: ok(page) },
  { name: 'a non-200 status is reported with its body read', raw: 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy', want: { status: 503, body: Buffer.from('busy'), keepAlive: true } },
  { name: 'empty body', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', want: ok('') },
  { name: 'declared length over the cap', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', maxBody: 10, want: 'page of 100 bytes is over the 10-byte cap' },
  { name: 'chunks over the cap', raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n', maxBody: 10, want: 'page is over the 10-byte cap' },
  { name: 'not HTTP', raw: 'SSH-2.0-OpenSSH\r\n\r\n', want: 'not an HTTP/1.x status line: "SSH-2.0-OpenSSH"' },
  { name: 'bad content-length', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n', want: 'bad content-length "12x"' },
  { name: 'conflicting content-lengths', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', want: 'bad content-length "2"' },
  { name: 'bad chunk size', raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', want: 'bad chunk size "zz"' },
  { name: 'chunk longer than declared', raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n', want: 'chunk data longer than its declared size' },
  { name: 'bytes after the response', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab', want: '1 unexpected bytes after the response' },
  { name: 'a status line without a reason', raw: `HTTP/1.1 200\r\nContent-Length: ${page.length}\r\n\r\n${page}`, want: ok(page) },
  { name: 'a status code run into its reason', raw: 'HTTP/1.1 200OK\r\n\r\n', want: 'not an HTTP/1.x status line: "HTTP/1.1 200OK"' },
  { name: 'HTTP/2 is not HTTP/1.x', raw: 'HTTP/2 200 OK\r\n\r\n', want: 'not an HTTP/1.x status line: "HTTP/2 200 OK"' },
  { name: 'header names and values are trimmed', raw: `HTTP/1.1 200 OK\r\nContent-Length \t: \t${page.length} \r\nConnection:close\r\n\r\n${page}`, want: ok(page, false) },
  { name: 'a longer name is another header', raw: `HTTP/1.1 200 OK\r\nContent-Length: ${page.length}\r\nContent-Lengths: 99\r\nX-Connection: close\r\n\r\n${page}`, want: ok(page) },
  { name: 'transfer codings: chunked counts when last', raw: `HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n${page.length.toString(16)}\r\n${page}\r\n0\r\n\r\n`, want: ok(page) },
  { name: 'connection values are case-insensitive', raw: `HTTP/1.0 200 OK\r\nConnection: Upgrade, Keep-Alive\r\nContent-Length: ${page.length}\r\n\r\n${page}`, want: ok(page) },
  { name: 'connection: CLOSE', raw: `HTTP/1.1 200 OK\r\nConnection: CLOSE\r\nContent-Length: ${page.length}\r\n\r\n${page}`, want: ok(page, false) },
  { name: 'the last connection header counts', raw: `HTTP/1.1 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\nContent-Length: ${page.length}\r\n\r\n${page}`, want: ok(page) },
  { name: 'a content-length of 16 digits', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456\r\n\r\n', want: 'bad content-length "1234567890123456"' },
  { name: 'an empty content-length', raw: 'HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n', want: 'bad content-length ""' },
  { name: 'a header line without a colon', raw: 'HTTP/1.1 200 OK\r\nContent-Length 5\r\n\r\n', want: 'bad header line "Content-Length 5"' },
  { name: 'a header line without a name', raw: 'HTTP/1.1 200 OK\r\n: 5\r\n\r\n', want: 'bad header line ": 5"' },
  { name: 'cut short by the close', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', endAfter: true, want: 'connection closed mid-response' },
];

for (const c of cases) {
  test(`http/1 response: ${c.name}`, () => {
    for (const [cut, got] of readAllSplits(c.raw, c.maxBody, c.endAfter).entries()) assert.deepEqual(got, c.want, `split at ${cut}`);
  });
}

test('http/1 response: a head without its end is held until it completes, and capped', () => {
  const reader = new ResponseReader(100);
  assert.equal(reader.started, false);
  assert.equal(reader.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-')), undefined);
  assert.equal(reader.started, true);
  assert.throws(() => reader.push(Buffer.alloc(70 * 1024, 'a')), /response head longer than 65536 bytes/);
  assert.throws(() => new ResponseReader(100).end(), /connection closed before a response/);
});

test('http/1 response: bytes past the end given are a reused buffer\'s leftovers, never read', () => {
  const raw = Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nvllm:\r\n0\r\n\r\n`, 'latin1');
  const junk = Buffer.from('\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n', 'latin1');
  for (let cut = 1; cut < raw.length; cut++) {
    const reader = new ResponseReader(1000);
    // Each piece arrives at the start of one read buffer whose tail still holds older bytes.
    const first = Buffer.concat([raw.subarray(0, cut), junk]);
    const second = Buffer.concat([raw.subarray(cut), junk]);
    assert.equal(reader.push(first, 0, cut), undefined, `split at ${cut}: not complete after the first piece`);
    assert.deepEqual(reader.push(second, 0, raw.length - cut), ok('vllm:'), `split at ${cut}`);
  }
  const reader = new ResponseReader(1000);
  reader.reset(1000);
  assert.deepEqual(reader.push(Buffer.concat([junk, raw]), junk.length), ok('vllm:'), 'from an offset');
  reader.reset(1000);
  const again = reader.push(Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsame!`));
  reader.reset(1000);
  const third = reader.push(Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nother`));
  assert.equal(third!.body, again!.body, 'a body of the same size is the same view of the reused buffer');
  assert.equal(third!.body.toString(), 'other');
});
