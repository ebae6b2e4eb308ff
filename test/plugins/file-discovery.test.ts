import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, renameSync, symlinkSync, mkdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EndpointMetadata } from '../../src/framework/endpoint.js';
import type { DiscoverySink, EndpointDiscovery } from '../../src/framework/discovery.js';
import { registration } from '../../src/plugins/file-discovery/index.js';
import { parseEndpointsFile } from '../../src/plugins/file-discovery/parse-endpoints.js';
import { ConfigError } from '../../src/errors.js';
import { testHandle } from '../helpers/fixtures.js';
import { until } from '../helpers/until.js';

class RecordingSink implements DiscoverySink {
  readonly endpoints = new Map<string, EndpointMetadata>();
  readyCalls = 0;
  upsert(e: EndpointMetadata) {
    this.endpoints.set(`${e.namespace}/${e.name}`, e);
  }
  delete(key: string) {
    this.endpoints.delete(key);
  }
  ready() {
    this.readyCalls++;
  }
  get names() {
    return [...this.endpoints.values()].map((e) => `${e.name}@${e.address}:${e.port}`).sort();
  }
}

const yamlOf = (...eps: [string, string, number | string][]) => `endpoints:\n${eps.map(([n, a, p]) => `- {name: ${n}, address: ${a}, port: ${JSON.stringify(p)}}`).join('\n')}\n`;


test('entries: good ones load, bad ones are skipped with a reason naming them', () => {
  const cases: { name: string; text: string; endpoints: string[]; skipped: string[] }[] = [
    { name: 'YAML, port as a string', text: yamlOf(['a', '10.0.0.1', '8000']), endpoints: ['default/a 10.0.0.1:8000'], skipped: [] },
    {
      name: 'JSON with namespace and labels',
      text: JSON.stringify({ endpoints: [{ name: 'b', namespace: 'ml', address: '10.0.0.2', port: 9000, labels: { 'llm-d.ai/role': 'decode' } }] }),
      endpoints: ['ml/b 10.0.0.2:9000'],
      skipped: [],
    },
    {
      name: 'nodeAddress',
      text: 'endpoints:\n- {name: n, address: 10.0.0.1, port: 80, nodeAddress: 192.168.0.9}\n- {name: m, address: 10.0.0.2, port: 80, nodeAddress: 7}\n',
      endpoints: ['default/n 10.0.0.1:80 node 192.168.0.9'],
      skipped: ['endpoints[1] ("m"): nodeAddress must be a non-empty string'],
    },
    {
      name: 'bad entries',
      text: 'endpoints:\n- {name: ok, address: 10.0.0.1, port: 80}\n- {address: 10.0.0.2, port: 80}\n- {name: noaddr, port: 80}\n- {name: badport, address: 10.0.0.3, port: abc}\n- {name: big, address: 10.0.0.4, port: 70000}\n- {name: ok, address: 10.0.0.5, port: 81}\n- 42\n- {name: lab, address: 10.0.0.6, port: 1, labels: {a: 1}}\n',
      endpoints: ['default/ok 10.0.0.1:80'],
      skipped: [
        'endpoints[1]: name is required',
        'endpoints[2] ("noaddr"): address is required',
        'endpoints[3] ("badport"): port must be 1..65535, got "abc"',
        'endpoints[4] ("big"): port must be 1..65535, got 70000',
        'endpoints[5] ("ok"): duplicate of an earlier entry default/ok',
        'endpoints[6]: not a mapping',
        'endpoints[7] ("lab"): labels must map strings to strings',
      ],
    },
  ];
  for (const c of cases) {
    const got = parseEndpointsFile(c.text, 'default');
    assert.deepEqual(got.endpoints.map((e) => `${e.namespace}/${e.name} ${e.address}:${e.port}${e.nodeAddress ? ` node ${e.nodeAddress}` : ''}`), c.endpoints, c.name);
    assert.deepEqual(got.skipped, c.skipped, c.name);
  }
});

test('start: an unreadable or unparsable file is a startup error; a missing path parameter is a config error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'epp-fd-'));
  writeFileSync(join(dir, 'garbage.yaml'), 'just: [a, mess');
  writeFileSync(join(dir, 'wrong.yaml'), 'pods: []');
  for (const file of ['missing.yaml', 'garbage.yaml', 'wrong.yaml']) {
    const d = registration.factory('fd', { path: join(dir, file) }, testHandle()) as EndpointDiscovery;
    await assert.rejects(d.start(new RecordingSink()), (e: unknown) => e instanceof ConfigError && e.message.includes(`cannot load endpoints from "${join(dir, file)}"`), file);
  }
  assert.throws(() => registration.factory('fd', {}, testHandle()), (e: unknown) => e instanceof ConfigError && e.path === 'parameters.path');
});

test('watchFile: edits, atomic renames and symlink swaps are picked up; removed endpoints go; a bad edit keeps the last good set', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'epp-fd-'));
  const file = join(dir, 'endpoints.yaml');
  writeFileSync(file, yamlOf(['a', '10.0.0.1', 8000], ['b', '10.0.0.2', 8000]));
  const handle = testHandle();
  const d = registration.factory('fd', { path: file, watchFile: true }, handle) as EndpointDiscovery;
  const sink = new RecordingSink();
  await d.start(sink);
  try {
    assert.deepEqual(sink.names, ['a@10.0.0.1:8000', 'b@10.0.0.2:8000']);
    assert.equal(sink.readyCalls, 1);

    writeFileSync(file, yamlOf(['a', '10.0.0.1', 8001]));
    await until(() => sink.names.join() === 'a@10.0.0.1:8001', 'an in-place edit');

    const tmp = join(dir, '.endpoints.tmp');
    writeFileSync(tmp, yamlOf(['c', '10.0.0.3', 8000]));
    renameSync(tmp, file);
    await until(() => sink.names.join() === 'c@10.0.0.3:8000', 'an atomic rename');

    writeFileSync(file, 'endpoints: [{{{');
    await until(() => handle.warnings.some((w) => w.includes('keeping the last good endpoints')), 'the bad-edit warning');
    assert.deepEqual(sink.names, ['c@10.0.0.3:8000']);
  } finally {
    await d.stop();
  }

  // Kubernetes ConfigMap style: the path is a symlink whose target is swapped.
  const v1 = join(dir, 'v1');
  const v2 = join(dir, 'v2');
  mkdirSync(v1);
  mkdirSync(v2);
  writeFileSync(join(v1, 'e.yaml'), yamlOf(['x', '10.0.1.1', 8000]));
  writeFileSync(join(v2, 'e.yaml'), yamlOf(['y', '10.0.1.2', 8000]));
  const link = join(dir, 'current.yaml');
  symlinkSync(join(v1, 'e.yaml'), link);
  const d2 = registration.factory('fd', { path: link, watchFile: true }, testHandle()) as EndpointDiscovery;
  const sink2 = new RecordingSink();
  await d2.start(sink2);
  try {
    assert.deepEqual(sink2.names, ['x@10.0.1.1:8000']);
    const next = join(dir, 'current.tmp');
    symlinkSync(join(v2, 'e.yaml'), next);
    renameSync(next, link);
    await until(() => sink2.names.join() === 'y@10.0.1.2:8000', 'a symlink swap');
  } finally {
    await d2.stop();
    unlinkSync(link);
  }
});
