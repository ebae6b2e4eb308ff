/** requestHandler.parsers is honoured (its parser parses) and feature gates not acted on are said, naming the key. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { featureGateWarnings, parserRefOf } from '../../src/config/unbuilt.js';
import { destinationOf, fakePods, requestBody, requestHeaders, startTestEpp, Stream } from '../helpers/ext-proc-harness.js';

test('parser choice: parser.pluginRef, else the first of requestHandler.parsers (more than one is warned about)', () => {
  const cases: { raw: object; want: { ref: string; path: string } | undefined; warns: RegExp[] }[] = [
    { raw: {}, want: undefined, warns: [] },
    { raw: { requestHandler: { parsers: [{ pluginRef: 'p' }] } }, want: { ref: 'p', path: 'requestHandler.parsers[0].pluginRef' }, warns: [] },
    { raw: { requestHandler: { parsers: [{ pluginRef: 'p' }, { pluginRef: 'q' }] } }, want: { ref: 'p', path: 'requestHandler.parsers[0].pluginRef' }, warns: [/requestHandler.parsers names 2 parsers.*"p" parses every request/] },
    { raw: { parser: { pluginRef: 'x' }, requestHandler: { parsers: [{ pluginRef: 'p' }] } }, want: { ref: 'x', path: 'parser.pluginRef' }, warns: [/requestHandler.parsers is ignored/] },
  ];
  for (const c of cases) {
    const warnings: string[] = [];
    assert.deepEqual(parserRefOf(c.raw as never, (m) => warnings.push(m)), c.want);
    assert.equal(warnings.length, c.warns.length);
    c.warns.forEach((w, i) => assert.match(warnings[i]!, w));
  }
  assert.deepEqual(featureGateWarnings(new Map([['flowControl', true], ['dataLayer', false]])), [], 'flowControl is acted on');
  assert.deepEqual(featureGateWarnings(new Map([['dataLayer', true]])), ['featureGates: "dataLayer" is accepted but has no effect in this EPP']);
});

test('e2e: a passthrough parser named under requestHandler.parsers parses the requests (a body with no model routes instead of a 400), and an enabled gate is warned about', async () => {
  const fake = await fakePods([{ waiting: 0 }]);
  const lines: string[] = [];
  const t = await startTestEpp({
    endpoints: fake.pods,
    config: `plugins:\n- type: queue-scorer\n- type: passthrough-parser\nschedulingProfiles:\n- name: default\n  plugins: [{pluginRef: queue-scorer}]\nrequestHandler:\n  parsers: [{pluginRef: passthrough-parser}]\nfeatureGates: [prepareDataPlugins]`,
    logLines: lines,
  });
  try {
    const s = new Stream(t.client).send(requestHeaders({})).send(requestBody('not json at all'));
    assert.equal(destinationOf(await s.responses(2)), fake.pods[0]!.hostPort);
    s.endSide();
    assert.ok(lines.some((l) => l.includes('featureGates: \\"prepareDataPlugins\\" is accepted but has no effect')), lines.join('\n'));
  } finally {
    await t.close();
    await fake.close();
  }
});
